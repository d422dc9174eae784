// The wmhost command line: run, validate, list, describe.
#pragma once

namespace wm {

// returns the process exit code: 0 ok, 1 a run failed, 2 bad usage or bad config
int run_cli(int argc, char** argv);

}  // namespace wm
