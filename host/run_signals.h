// Clean shutdown on SIGTERM, SIGINT and SIGHUP (a cluster's time limit, Ctrl-C, a closed
// terminal): the first signal asks the run to stop at the next step boundary (train checkpoints
// there), the run ends `stopped` with exit code 3 and `resume: true` continues it; a second
// signal ends the process at once.
#pragma once
#include <string>

namespace wm {

// installs the handlers (idempotent); the process keeps them until it exits
void install_stop_signals();
// true once a stop signal arrived
bool stop_requested();
// "SIGTERM", "SIGINT" or "SIGHUP": the first signal received ("" when none)
std::string stop_signal_name();
// throws RunStopped naming the signal and `where` when a stop was asked for
void stop_if_requested(const std::string& where);

}  // namespace wm
