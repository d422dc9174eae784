// A shared library without the wmhost handshake whose static constructor aborts: wmhost must
// refuse it from the file alone, without running its code.
#include <cstdio>
#include <cstdlib>

namespace {

[[maybe_unused]] const int aborts_on_load = [] {
  std::fputs("stray_abort: this library's code ran\n", stderr);
  std::abort();
  return 0;
}();

}  // namespace

extern "C" int wm_stray_abort_function() { return aborts_on_load; }
