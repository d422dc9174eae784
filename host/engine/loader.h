// Loader: batches of a dataset, prepared by worker threads ahead of use. The batch sequence is a
// function of (seed, position) alone: any worker count, and a run resumed from a checkpointed
// position, sees exactly the same batches. A sample that cannot be read (wm::DataError) is
// skipped, counted and logged with its source; the run goes on.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wm/dataset.h"

namespace wm {

class TransformPipeline;
class BatchTransforms;

//---- settings and position ----

struct LoaderOptions {
  int64_t batch_size = 16;
  // training: a seeded permutation per epoch, endless epochs, an epoch's partial tail dropped,
  // an unreadable sample replaced by the next readable one in dataset order (batches keep
  // their size). Otherwise: dataset order, one pass, the tail kept, unreadable samples left out.
  bool training = true;
  uint64_t seed = 0;     // of the permutation and of the transforms
  int64_t workers = 2;   // threads preparing batches; 0: in the calling thread
  int64_t prefetch = 2;  // batches each worker prepares ahead
  std::shared_ptr<const TransformPipeline> transforms;  // applied to each sample; may be null
  // applied to each collated training batch (MixUp, CutMix), seeded by (seed, epoch, position);
  // one-pass loaders never mix. May be null.
  std::shared_ptr<const BatchTransforms> batch_transforms;
  std::string name = "data";                            // for messages, e.g. "data.train"
  // data-parallel training: the loader plans global batches of batch_size * world positions and
  // builds rank's slice [rank * batch_size, (rank + 1) * batch_size) of each; positions stay
  // global. Ranks' slices, in rank order, are the batch one process builds with batch_size * world.
  int64_t rank = 0, world = 1;
};

// where the loader stands: the next batch starts at `cursor` in epoch `epoch`'s order
struct LoaderPosition {
  int64_t epoch = 0, cursor = 0;
};

// a sample whose get() threw wm::DataError
struct SkippedSample {
  std::string id, source, message;
};

//---- the loader ----

class Loader {
 public:
  // `dataset` must outlive the loader; its get() is called from several threads at once
  Loader(const Dataset& dataset, LoaderOptions options, LoaderPosition start = {});
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // the next batch, on the CPU; empty after a one-pass loader's last batch. Any error other
  // than wm::DataError (in get() or a transform) is rethrown here, in batch order.
  std::optional<Batch> next();

  LoaderPosition position() const;  // after the batch next() returned last
  int64_t batches_per_epoch() const;
  int64_t skipped() const;  // unreadable samples met so far, counting repeats
  const std::vector<SkippedSample>& skipped_samples() const;  // each unreadable sample once

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// the seed of one sample's random transforms, fixed by (seed, sample id, epoch)
uint64_t sample_seed(uint64_t seed, const std::string& id, int64_t epoch);
// Every batch carries kSampleSeedKey, int64 [B]: the seed of the randomness a model draws for
// each sample during loss() (frame pairs, masks), fixed by (seed, sample id, epoch) and apart
// from the transforms' stream. A sample then gets the same draws in any batch and on any rank.
inline constexpr const char* kSampleSeedKey = "sample_seed";
int64_t model_seed(uint64_t seed, const std::string& id, int64_t epoch);

// Runs `work` with one intra-op compute thread on the calling thread only (OpenMP's team size
// is a per-thread setting; LibTorch's set_num_threads is process-wide). Data work done this way
// gives identical numbers in any thread and does not fight the training thread for cores.
class SingleComputeThread {
 public:
  SingleComputeThread();
  ~SingleComputeThread();
  SingleComputeThread(const SingleComputeThread&) = delete;
  SingleComputeThread& operator=(const SingleComputeThread&) = delete;

 private:
  int saved_ = 0;
};

}  // namespace wm
