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

  // the label of the step about to run (its `name:`, else its `data` or `policy`; "" for none):
  // later lines carry it as "label", and their summary keys become <procedure>[<label>]/<key>
  void begin_step(std::string label) { label_ = std::move(label); }
  const std::string& step_label() const { return label_; }
  // {"data": "val", "label": "val", "procedure": "evaluate", "psnr": 27.3, ...}; labels come first
  void append(const std::map<std::string, std::string>& labels,
              const std::map<std::string, double>& values);
  // the last value of every key written so far, e.g. {"evaluate[val]/psnr": 27.3,
  // "rollout[random]/success_rate": 0.1, "write_fixture/samples": 64}
  const std::map<std::string, double>& last_values() const { return last_; }

 private:
  std::FILE* file_ = nullptr;
  std::string label_;
  std::map<std::string, double> last_;
};

// a summary key: "evaluate[val]/psnr", or "write_fixture/samples" without a label
std::string summary_key(const std::string& procedure, const std::string& label, const std::string& key);

}  // namespace wm
