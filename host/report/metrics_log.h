// metrics.jsonl: one JSON object per line, appended and flushed as values arrive, so a killed run
// keeps every line it finished. Also remembers each key's last value for sweep summaries.
#pragma once
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

namespace wm {

class MetricsLog {
 public:
  explicit MetricsLog(const std::filesystem::path& path);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // {"procedure": "evaluate", "split": "val", "psnr": 27.3, ...}; labels come first
  void append(const std::map<std::string, std::string>& labels,
              const std::map<std::string, double>& values);
  // the last value of every key written so far, e.g. {"evaluate/psnr": 27.3}
  const std::map<std::string, double>& last_values() const { return last_; }

 private:
  std::FILE* file_ = nullptr;
  std::map<std::string, double> last_;
};

}  // namespace wm
