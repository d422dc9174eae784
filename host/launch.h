// `wmhost launch --nproc N [--port P] -- run EXP.yaml ...`: the ranks of a data-parallel run on
// this machine (a small torchrun; distributed.h reads the variables it sets).
#pragma once
#include <string>
#include <vector>

namespace wm {

// runs the ranks until they end; returns the first failing rank's exit code (1 after a signal),
// 3 when the ranks stopped on purpose, else 0. Throws UsageError for malformed arguments.
int launch(const std::vector<std::string>& args);

}  // namespace wm
