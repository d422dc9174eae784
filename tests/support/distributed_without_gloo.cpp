// host/distributed.cpp compiled as a build without Gloo compiles it (WM_HAVE_GLOO=0): asked by
// the environment for several ranks, it must refuse with the reason (test_distributed.cpp, D11)
#include <cstdio>
#include <exception>

#include "distributed.h"

int main() {
  try {
    wm::dist::Group::process().join(wm::dist::launch_from_environment(), {}, "cpu");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  std::puts("joined");
  return 0;
}
