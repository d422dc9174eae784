// Small helpers every bench shares: timing that ignores other work on a shared machine, and the
// output of a reference command (the ffmpeg tool, the Python side).
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace bench {

// seconds per call of `body`: the fastest of `repeats` after `warmups` untimed calls, because on
// a shared machine other work only ever adds time
template <class Body>
double best_seconds(int repeats, Body&& body, int warmups = 0) {
  for (int i = 0; i < warmups; ++i) body();
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    auto start = std::chrono::steady_clock::now();
    body();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

// what `command` printed on stdout; a failing command throws with its output
inline std::string output_of(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::string output;
  char chunk[4096];
  while (size_t n = std::fread(chunk, 1, sizeof chunk, pipe)) output.append(chunk, n);
  if (pclose(pipe) != 0) throw std::runtime_error("failed: " + command + "\n" + output);
  return output;
}

}  // namespace bench
