// `wmhost inspect EXP.yaml data.<name> [--batches N] [--batch-size B]`: the seed's "weird
// statistics" debug step. Builds the data entry as a run would (split, subset, transforms, the
// action scaler), reads N batches in dataset order and prints, for every numeric key, its shape,
// dtype and per-dimension min, max, mean and std (population) over those batches.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "options.h"
#include "plugin_registry.h"

namespace wm {

//---- the statistics ----

struct KeyStats {
  std::string key, dtype;
  std::vector<int64_t> shape;  // of the batches concatenated along the batch dimension
  std::string over;            // "per last dimension", "per channel" or "over all values"
  std::vector<std::string> labels;                // one per row: "0", "mouse.dx", "channel 1"
  std::vector<double> min, max, mean, std;        // one per row, float64
};

// the rows of one key: per channel for images and videos ([.., C, H, W] with C of 1 or 3), per
// last dimension when it has at most 64 entries, else one row over all values
KeyStats key_stats(const std::string& key, const at::Tensor& values,
                   const std::vector<std::string>& names = {});

// aligned text of every key, as `wmhost inspect` prints it
std::string format_stats(const std::vector<KeyStats>& stats);

//---- the command ----

// options.args: EXP.yaml, data.<name>, then key.path=value overrides; returns the exit code
int command_inspect(const Options& options, PluginRegistry& registry);

}  // namespace wm
