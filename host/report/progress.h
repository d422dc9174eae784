// Progress of long work, with rate and ETA, logged at most every few seconds and at the end:
//   evaluate 120/300 (40%) 55.2 it/s, ETA 3s | psnr 27.1
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace wm {

class Progress {
 public:
  Progress(std::string label, int64_t total, double interval_seconds = 2.0);
  // marks `count` more items done; `status` is appended to the line
  void advance(int64_t count = 1, const std::string& status = "");
  double elapsed_seconds() const;

 private:
  std::string label_;
  int64_t total_, done_ = 0;
  double interval_seconds_;
  std::chrono::steady_clock::time_point start_, last_report_;
};

// "3s", "4m12s", "1h05m"
std::string format_duration(double seconds);

}  // namespace wm
