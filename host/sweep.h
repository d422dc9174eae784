// Sweeps: a `sweep:` block maps key paths to lists of values (or is a list of such grids); the
// host runs the full grid, one run directory per point, and writes summary.csv and summary.md of
// every point's final metrics.
#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "config_node.h"
#include "run.h"

namespace wm {

struct SweepPoint {
  std::vector<std::pair<std::string, ConfigNode>> values;  // key path -> value
  std::string name;  // "data.train.subset=0.1,seed=2" (the directory name); "" without a sweep
};

// how a value names its point: itself, or the last part of a whole-value `${a.b.c}` reference
std::string sweep_label(const ConfigNode& value);

// the grid in the order the keys are written, last key fastest; one empty point without a block.
// A list of grids (`[{a: [1, 2], b: [x]}, {a: [1], b: [y, z]}]`) is their points one grid after
// the other, each in the first grid's key order; every grid names the same keys, and a point an
// earlier grid has is not repeated
std::vector<SweepPoint> expand_sweep(const ConfigNode* sweep);

// a finished point's outcome read back from its status.json, if it finished ok
bool read_finished(const std::filesystem::path& dir, RunOutcome& outcome);

void write_summary(const std::filesystem::path& dir, const std::vector<SweepPoint>& points,
                   const std::vector<RunOutcome>& outcomes);

}  // namespace wm
