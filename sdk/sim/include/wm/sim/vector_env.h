// N environments stepped together by a pool of threads (one per core by default). Each env is
// used by one thread at a time, so an env needs no locks of its own; results are the same as
// stepping the envs one after another.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "wm/env.h"

namespace wm::sim {

class VectorEnv {
 public:
  // threads: 0 = every core; never more threads than envs
  explicit VectorEnv(std::vector<std::shared_ptr<Env>> envs, int threads = 0);
  ~VectorEnv();
  VectorEnv(const VectorEnv&) = delete;
  VectorEnv& operator=(const VectorEnv&) = delete;

  size_t size() const { return envs_.size(); }
  int threads() const;
  Env& env(size_t i) { return *envs_.at(i); }
  EnvSpec spec() const { return envs_.front()->spec(); }

  //---- stepping all at once ----

  // env i is reset with seeds[i]; observations stacked: key -> [N, ...]
  TensorMap reset(const std::vector<uint64_t>& seeds);
  struct Step {
    TensorMap observation;              // key -> [N, ...]
    std::vector<double> reward;
    std::vector<bool> terminated, truncated;
    std::vector<std::map<std::string, double>> info;
  };
  // actions [N, action_size]; the first error of any env is rethrown after all have stepped
  Step step(const at::Tensor& actions);
  // the ScriptedPolicy action of every env, [N, action_size]; throws if an env has no policies
  at::Tensor act(const std::string& policy);

  // runs body(i) for i in [0, n) on the pool, rethrowing the first exception
  void parallel_for(size_t n, const std::function<void(size_t)>& body);

 private:
  struct Pool;
  std::vector<std::shared_ptr<Env>> envs_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace wm::sim
