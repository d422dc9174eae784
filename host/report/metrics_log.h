// metrics.jsonl: one JSON object per line (schema in docs/run_folder.md). Each line goes out
// whole with one write() on an O_APPEND descriptor, so a killed run keeps every line it finished
// and never a torn one; a failed write (disk full) removes what it wrote and throws, so a run
// never ends ok with lines missing. Every line carries `time` (Unix seconds).
//
// Opening a file that already has lines is a resume: those lines are kept only as far as the
// run confirms them, either by restoring a checkpoint taken at a byte offset (`restored`) or by
// writing the same line again (compared without the timing fields). The first line that differs
// and the lines after it wait in memory until a checkpoint asks for the offset or the run ends;
// then the unconfirmed old lines are cut off and the new ones written. So a resumed log equals
// an uninterrupted one line for line, timings aside. Also remembers each key's last value for
// sweep summaries.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace wm {

class MetricsLog {
 public:
  // an empty path keeps the values (last_values) and writes nothing: the log of ranks above 0
  explicit MetricsLog(const std::filesystem::path& path);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // the label of the step about to run (its `name:`, else its `data` or `policy`; "" for none):
  // later lines carry it as "label", and their summary keys become <procedure>[<label>]/<key>
  void begin_step(std::string label) { label_ = std::move(label); }
  const std::string& step_label() const { return label_; }
  // {"data": "val", "label": "val", "procedure": "evaluate", "psnr": 27.3, ..., "time": ...};
  // labels first, then the values by name, the timing values (kTimingKeys) last. Throws Error
  // when the line cannot be written, or when a value has a label's name or "time".
  void append(const std::map<std::string, std::string>& labels,
              const std::map<std::string, double>& values);
  // the last value of every key written so far, e.g. {"evaluate[val]/psnr": 27.3,
  // "rollout[random]/success_rate": 0.1, "write_fixture/samples": 64}
  const std::map<std::string, double>& last_values() const { return last_; }

  //---- resuming ----

  // bytes of the file that hold confirmed lines: what a checkpoint stores to be restored with
  int64_t offset();
  // a checkpoint taken at `offset` was restored: the lines before it are the run's history
  // (-1, a checkpoint without an offset: every earlier line is kept)
  void restored(int64_t offset);
  // the run ends: old lines nothing confirmed are cut off, waiting lines written
  void finish();

  // values that measure time, not results: written last and ignored when lines are compared
  static const char* const kTimingKeys[4];

 private:
  void write_whole(const std::string& line);
  void write_waiting();
  void recount_last_values();
  void remember(const std::map<std::string, std::string>& labels,
                const std::map<std::string, double>& values);

  std::filesystem::path path_;
  bool discard_ = false;
  int fd_ = -1;
  int64_t size_ = 0;  // bytes in the file
  std::string label_;
  std::map<std::string, double> last_;
  // resuming: the lines found at open, how far they are confirmed, the new lines that differ
  bool replaying_ = false;
  std::string earlier_;
  size_t confirmed_ = 0;
  bool differed_ = false;
  std::string waiting_;
};

// a summary key: "evaluate[val]/psnr", or "write_fixture/samples" without a label
std::string summary_key(const std::string& procedure, const std::string& label, const std::string& key);

}  // namespace wm
