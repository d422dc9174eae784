// Data-parallel training over PyTorch's c10d: the processes of one run find each other through a
// TCPStore (torchrun's, Slurm's or `wmhost launch`'s variables), reduce gradients through a
// ProcessGroupGloo (CPU), and agree on every decision. One process (world size 1) is today's code
// path: no store, no process group. The c10d headers are included by distributed.cpp alone.
// The design and its measurements: docs/distributed.md.
#pragma once
#include <ATen/core/Tensor.h>

#include "distributed_settings.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace wm::dist {

//---- what the launcher said ----

struct LaunchInfo {
  int rank = 0, world = 1, local_rank = 0, local_world = 1;
  std::string master_addr;
  int master_port = 0;
  bool agent_store = false;  // torchrun's agent hosts the store (TORCHELASTIC_USE_AGENT_STORE)
  int restart_count = 0;     // TORCHELASTIC_RESTART_COUNT
  std::string launcher;      // "torchrun" (or wmhost launch), "slurm", or "" for one process
};

// RANK/WORLD_SIZE/... (torchrun, wmhost launch), else SLURM_PROCID/SLURM_NTASKS/..., else one
// process. Throws Error naming the variable that is missing or malformed.
LaunchInfo launch_from_environment();

// the backends this wmhost was built with: "gloo", or "none"
std::string backends_built();

//---- the group ----

// The processes of this run. join() is called once, before the run folder is chosen; until then
// (and always in a single process) the group has rank 0 of 1 and every collective is a no-op.
class Group {
 public:
  static Group& process();  // this process's group

  // builds the store and the process group; throws Error when the build lacks the backend
  void join(const LaunchInfo& launch, const Settings& settings, const std::string& device);
  // ends the process group (NCCL's communicators are shut down explicitly); the destructor
  // calls it too
  void leave();
  bool active() const { return world_ > 1; }
  int rank() const { return rank_; }
  int world() const { return world_; }
  int local_world() const { return launch_.local_world; }
  const Settings& settings() const { return settings_; }

  //---- collectives (CPU tensors; each call is one c10d operation every rank makes) ----

  void sum(at::Tensor& tensor);  // in place, contiguous
  void min(at::Tensor& tensor);
  void max(at::Tensor& tensor);
  void broadcast(at::Tensor& tensor);  // from rank 0
  bool any(bool flag);                 // true on every rank when it is true on one
  // the c10d calls of GradientSync, launched together and then waited for in order
  void sum_all(std::vector<at::Tensor>& tensors);

  //---- the store: small values by key ----

  void set(const std::string& key, const std::string& value);
  // waits for `key` (no timeout unless given: a dead rank 0 closes the connection)
  std::string get(const std::string& key, std::chrono::milliseconds timeout = {});

  // a collective or store failure, as the text a person reads: the first line of c10d's error
  static std::string first_line(const std::exception& e);

  ~Group();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, world_ = 1;
  LaunchInfo launch_;
  Settings settings_;
};

//---- gradient synchronisation ----

// Averages the gradients of `parameters` over the group: after the last micro-batch's backward,
// the gradients go into flat buckets (in the reverse order of the parameters, the first bucket
// first_bucket_mb, the others bucket_mb), are divided by the world size, summed by one
// allreduce per bucket and copied back. Clipping and the optimizer then see the global batch's.
class GradientSync {
 public:
  GradientSync(Group& group, const std::vector<std::pair<std::string, at::Tensor>>& parameters);
  // returns the milliseconds spent communicating
  double run();
  size_t buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<size_t> members;  // indices into parameters_
    at::Tensor flat;
  };
  Group& group_;
  std::vector<at::Tensor> parameters_;
  std::vector<Bucket> buckets_;
};

// names, shapes and dtypes of `state`, one line each: what every rank must agree on
std::string fingerprint(const std::vector<std::pair<std::string, at::Tensor>>& state);

}  // namespace wm::dist
