// `wmhost run` and `validate`: an experiment file plus overrides resolved into its runs, then the
// runs written into one folder (a new one, --out, or an unfinished one to resume).
#pragma once
#include <vector>

#include "experiment.h"
#include "options.h"
#include "sweep.h"

namespace wm {

//---- resolving an experiment into its runs ----

struct Plan {
  std::vector<SweepPoint> points;
  std::vector<Experiment> experiments;  // one per point, all validated
  bool is_sweep = false;
};

// options.args[0] is the file, the rest are key.path=value overrides; throws on any mistake
Plan plan_experiment(const Options& options, PluginRegistry& registry);
// the same from a config already read (`wmhost score` builds its own); `first_position` is the
// command-line position of the first override, for error messages
Plan plan_config(ConfigNode root, const std::vector<std::string>& overrides, int first_position,
                 PluginRegistry& registry);

//---- running them ----

// prints the resolved runs with --dry-run, else runs them (a sweep skips the points that finished
// earlier); returns the exit code: 0 ok, 1 a run failed, 3 a run stopped early
int run_plan(const Plan& plan, const Options& options, PluginRegistry& registry);

}  // namespace wm
