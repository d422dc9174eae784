// `wmhost score --prediction P --target T [--metric NAME ...] [key.path=value ...]`: metrics on
// videos made elsewhere, like `pytorch-fid dir1 dir2` for images. Builds a one-step experiment
// (the `score` procedure, procedures/score.cpp) and runs it into runs/score/<time> or --out.
#pragma once
#include <string>
#include <vector>

#include "options.h"
#include "plugin_registry.h"

namespace wm {

// the experiment `wmhost score` runs, as YAML: `threads: 0`, `metrics:` one entry per --metric
// (a plugin name, or a whole entry as a YAML map; psnr and ssim when none is given),
// `procedure: [{score: {prediction, target, batch_size}}]`
std::string score_experiment_yaml(const std::string& prediction, const std::string& target,
                                  const std::vector<std::string>& metrics, int64_t batch_size);

// returns the exit code; prints the metric table when the run finished
int command_score(const Options& options, PluginRegistry& registry);

}  // namespace wm
