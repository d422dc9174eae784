#include "report/progress.h"

#include <cstdio>

#include "wm/log.h"

namespace wm {

std::string format_duration(double seconds) {
  long total = static_cast<long>(seconds + 0.5);
  char text[32];
  if (total < 60)
    std::snprintf(text, sizeof text, "%lds", total);
  else if (total < 3600)
    std::snprintf(text, sizeof text, "%ldm%02lds", total / 60, total % 60);
  else
    std::snprintf(text, sizeof text, "%ldh%02ldm", total / 3600, (total % 3600) / 60);
  return text;
}

Progress::Progress(std::string label, int64_t total, double interval_seconds)
    : label_(std::move(label)),
      total_(total),
      interval_seconds_(interval_seconds),
      start_(std::chrono::steady_clock::now()),
      last_report_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(int64_t count, const std::string& status) {
  done_ += count;
  auto now = std::chrono::steady_clock::now();
  bool finished = total_ > 0 && done_ >= total_;
  if (!finished && std::chrono::duration<double>(now - last_report_).count() < interval_seconds_)
    return;
  last_report_ = now;
  double elapsed = elapsed_seconds();
  double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  char line[256];
  if (total_ > 0) {
    double eta = rate > 0 ? (total_ - done_) / rate : 0.0;
    std::snprintf(line, sizeof line, "%s %lld/%lld (%.0f%%) %.1f it/s, %s %s", label_.c_str(),
                  static_cast<long long>(done_), static_cast<long long>(total_),
                  100.0 * done_ / total_, rate, finished ? "took" : "ETA",
                  format_duration(finished ? elapsed : eta).c_str());
  } else {
    std::snprintf(line, sizeof line, "%s %lld done, %.1f it/s", label_.c_str(),
                  static_cast<long long>(done_), rate);
  }
  log().info("{}{}{}", line, status.empty() ? "" : " | ", status);
}

}  // namespace wm
