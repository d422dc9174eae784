#include "run_signals.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "run.h"

namespace wm {
namespace {

//---- the handler ----

std::atomic<int> received{0};
std::atomic<bool> noted{false};  // the first signal's note is written

// first signal: remember it; second: the default action (the process ends by that signal)
void on_stop_signal(int signal_number) {
  int none = 0;
  if (received.compare_exchange_strong(none, signal_number)) {
    static const char note[] = "\nwmhost: stop signal received; stopping at the next step boundary "
                               "(send it again to stop at once)\n";
    ssize_t ignored = write(STDERR_FILENO, note, sizeof note - 1);
    (void)ignored;
    noted = true;
    return;
  }
  // two signals at once can run this handler in two threads: the process ends only after the
  // first one's note is out (for at most 0.1 s)
  for (int wait = 0; wait < 100 && !noted; ++wait) {
    struct timespec millisecond {0, 1000000};
    nanosleep(&millisecond, nullptr);
  }
  struct sigaction fallback {};
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  sigaction(signal_number, &fallback, nullptr);
  raise(signal_number);
}

}  // namespace

//---- the interface ----

void install_stop_signals() {
  struct sigaction action {};
  action.sa_handler = &on_stop_signal;
  sigemptyset(&action.sa_mask);
  // system calls interrupted by the first signal carry on (file writes, waits)
  action.sa_flags = SA_RESTART;
  for (int signal_number : {SIGTERM, SIGINT, SIGHUP}) sigaction(signal_number, &action, nullptr);
}

bool stop_requested() { return received.load() != 0; }

std::string stop_signal_name() {
  switch (received.load()) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    case 0: return "";
    default: return "signal " + std::to_string(received.load());
  }
}

void stop_if_requested(const std::string& where) {
  if (!stop_requested()) return;
  throw RunStopped("stopped by " + stop_signal_name() + " " + where +
                   "; continue with resume: true");
}

}  // namespace wm
