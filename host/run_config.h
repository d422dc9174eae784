// config.yaml of a run folder: written once when the run starts; a resume compares the config it
// was given with it. A change is refused unless a train step says `resume: force`; then the
// earlier config is kept as config-previous-<n>.yaml, the change as config-change-<n>.diff, and the log names
// both. `resume` and `stop_after_steps` change how a process runs, not what it computes, so
// they may differ.
#pragma once
#include <filesystem>

#include "config_node.h"
#include "experiment.h"

namespace wm {

// a train step says `resume: true` (or `force`): the run continues an unfinished folder
bool wants_resume(const Experiment& experiment);
// a train step says `resume: force`: a changed config is accepted, and recorded
bool resume_forced(const Experiment& experiment);

// writes dir/config.yaml, or checks a resumed run's config against it (throws Error on a change
// when `force` is false)
void record_run_config(const std::filesystem::path& dir, const ConfigNode& config, bool force);

// the lines of `before` and `after` as a unified-style diff ("-" removed, "+" added, "  " kept,
// with up to two kept lines around each change)
std::string line_diff(const std::string& before, const std::string& after);

}  // namespace wm
