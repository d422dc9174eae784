// Fitting an action scaler over webdataset shards: reads only the .jsonl frame records (never a
// video), keeps float64 moments, and stops at a sample budget or when the statistics settle.
//
// Convergence: every `check_every` fitted rows the current mean and std are compared with those
// of the previous check. The fit has converged when, for every dimension, the mean moved by at
// most tolerance * std and the std by at most tolerance * std, at `patience` checks in a row, and
// at least `min_samples` rows were seen. With the defaults (1% of a std, checks every 10,000
// rows, 3 in a row) independent actions converge after about 40,000 rows.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "wm/io/action_scaler.h"
#include "wm/io/frame_records.h"

namespace wm {

struct ActionScalerFitOptions {
  std::vector<std::filesystem::path> shards;
  std::vector<std::string> fields = {"mouse.dx", "mouse.dy", "yaw_diff", "pitch_diff"};
  // the actions the model sees: `stride` per-frame rows summed into one (as the webdataset
  // plugin's `stride`), over clips of `frames` sampled frames cut as its `clips` (every_clip:
  // `all`) does; frames 0: each whole sample is one clip of as many strides as fit
  int64_t stride = 1;
  int64_t frames = 0;
  bool every_clip = true;
  int64_t max_samples = 100000;  // action rows to fit on
  int64_t max_shards = 0;        // 0: every shard; else a uniform random subset of this many
  bool convergence = true;       // stop early once converged (see above)
  double tolerance = 0.01;
  int64_t check_every = 10000;
  int64_t patience = 3;
  int64_t min_samples = 10000;
  double holdout = 0.1;              // fraction of samples (by key) kept out of the fit
  int64_t max_holdout_rows = 100000;  // held-out rows kept for verification
  uint64_t seed = 0;                  // shard order and subset, held-out choice
  bool progress = true;               // progress lines with ETA
  // shard readers: shards are parsed in parallel, a few ahead of the fit; their rows enter the
  // moments in shard order, so every thread count gives bit-identical statistics
  int64_t threads = 1;
};

struct ActionScalerFit {
  io::ActionScaler scaler;
  std::vector<double> holdout_mean, holdout_std;  // of the held-out rows after scaling
  int64_t holdout_rows = 0;
  int64_t shards_used = 0, samples_read = 0;
  int64_t short_samples = 0;           // samples with fewer records than one clip
  int64_t skipped = 0;                 // samples (or shard tails) that could not be read
  std::vector<std::string> skipped_sources;
  double seconds = 0;
};

// shards are visited in a seeded random order; within a shard, samples in archive order. A
// corrupt record or a truncated shard is skipped and counted, like the loader does. Errors that
// are not the data's (no shards, bad options) throw wm::Error.
ActionScalerFit fit_action_scaler(const ActionScalerFitOptions& options);

}  // namespace wm
