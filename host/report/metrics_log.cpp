#include "report/metrics_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "wm/error.h"
#include "wm/io/json.h"
#include "wm/log.h"

namespace wm {

const char* const MetricsLog::kTimingKeys[4] = {"comm_ms", "samples_per_s", "seconds", "time"};

namespace {

bool is_timing_key(const std::string& key) {
  for (const char* timing : MetricsLog::kTimingKeys)
    if (key == timing) return true;
  return false;
}

// the Unix time with milliseconds
std::string unix_seconds() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", std::chrono::duration<double>(now).count());
  return text;
}

// `old_line` (without its newline) says what `line` says up to `stable` bytes, and only timing
// values after that
bool same_but_timings(const std::string& old_line, const std::string& line, size_t stable) {
  if (old_line.compare(0, stable, line, 0, stable) != 0) return false;
  std::string rest = old_line.substr(std::min(stable, old_line.size()));
  if (rest == "}") return true;
  for (const char* timing : MetricsLog::kTimingKeys)
    for (const char* separator : {", \"", "\""})
      if (rest.rfind(std::string(separator) + timing + "\": ", 0) == 0) return true;
  return false;
}

}  // namespace

//---- opening ----

MetricsLog::MetricsLog(const std::filesystem::path& path) : path_(path), discard_(path.empty()) {
  if (discard_) path_ = "/dev/null";
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error("cannot open " + path.string() + ": " + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd_, &info) != 0) throw Error("cannot stat " + path.string() + ": " + std::strerror(errno));
  size_ = static_cast<int64_t>(info.st_size);
  if (size_ == 0) return;
  // a resume: the earlier lines stay until the run confirms or replaces them
  std::ifstream in(path, std::ios::binary);
  earlier_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  replaying_ = true;
}

MetricsLog::~MetricsLog() {
  // waiting lines of a resume are not lost with the object (execute_run reports its failures)
  try {
    finish();
  } catch (const std::exception&) {
  }
  if (fd_ >= 0) ::close(fd_);
}

std::string summary_key(const std::string& procedure, const std::string& label, const std::string& key) {
  return procedure + (label.empty() ? "" : "[" + label + "]") + "/" + key;
}

//---- lines ----

void MetricsLog::append(const std::map<std::string, std::string>& given,
                        const std::map<std::string, double>& values) {
  std::map<std::string, std::string> labels = given;
  if (!label_.empty()) labels.emplace("label", label_);
  for (const auto& [key, value] : values)
    if (labels.count(key) || key == "time")
      throw Error("metrics.jsonl: '" + key + "' is both a label and a value of one line");
  std::string line = "{";
  auto add = [&](const std::string& key, const std::string& text) {
    line += (line.size() > 1 ? ", " : "") + io::json::quote(key) + ": " + text;
  };
  for (const auto& [key, text] : labels) add(key, io::json::quote(text));
  for (const auto& [key, value] : values)
    if (!is_timing_key(key)) add(key, io::json::number(value));
  size_t stable = line.size();
  for (const char* timing : kTimingKeys)
    if (auto it = values.find(timing); it != values.end()) add(timing, io::json::number(it->second));
  add("time", unix_seconds());
  line += "}\n";

  if (!replaying_) {
    write_whole(line);
  } else if (!differed_) {
    // the same line as the one at the confirmed end of the earlier file: that one stays
    size_t end = earlier_.find('\n', confirmed_);
    if (end != std::string::npos &&
        same_but_timings(earlier_.substr(confirmed_, end - confirmed_), line, stable)) {
      confirmed_ = end + 1;
    } else {
      differed_ = true;
      waiting_ += line;
    }
  } else {
    waiting_ += line;
  }
  remember(labels, values);
}

void MetricsLog::remember(const std::map<std::string, std::string>& labels,
                          const std::map<std::string, double>& values) {
  auto procedure = labels.find("procedure");
  auto label = labels.find("label");
  for (const auto& [key, value] : values)
    last_[procedure == labels.end()
              ? key
              : summary_key(procedure->second, label == labels.end() ? "" : label->second, key)] = value;
}

// one write(); a short or failed one is cut back off the file and reported
void MetricsLog::write_whole(const std::string& line) {
  ssize_t written;
  do {
    written = ::write(fd_, line.data(), line.size());
  } while (written < 0 && errno == EINTR);
  if (written == static_cast<ssize_t>(line.size())) {
    size_ += static_cast<int64_t>(written);
    return;
  }
  std::string reason = written < 0 ? std::strerror(errno) : "only part of the line was written (disk full?)";
  if (written > 0 && ::ftruncate(fd_, size_) != 0)
    reason += "; cutting the partial line off failed too: " + std::string(std::strerror(errno));
  throw Error("cannot write to " + path_.string() + ": " + reason +
              "; the run stops here so that no metrics line goes missing (resume: true continues "
              "from the last checkpoint)");
}

//---- resuming ----

int64_t MetricsLog::offset() {
  if (replaying_ && differed_) write_waiting();
  return replaying_ ? static_cast<int64_t>(confirmed_) : size_;
}

void MetricsLog::restored(int64_t offset) {
  if (!replaying_) {
    if (offset > size_ && !discard_)
      log().warn("metrics.jsonl holds {} bytes, fewer than the {} of the checkpoint; lines are "
                 "missing before this resume", size_, offset);
    return;
  }
  auto at = static_cast<size_t>(offset);
  bool fits = offset >= 0 && at <= earlier_.size() && (at == 0 || earlier_[at - 1] == '\n');
  if (offset >= 0 && !fits)
    log().warn("metrics.jsonl does not match the checkpoint (it ends at byte {}, the checkpoint "
               "says {}); its lines are kept as they are", earlier_.size(), offset);
  if (!fits) {
    // a checkpoint that does not say where it was taken, or not in this file: every earlier
    // line stays, and a last line without its newline gets one before the new lines
    confirmed_ = std::max(confirmed_, earlier_.size());
    differed_ = false;
    waiting_ = earlier_.empty() || earlier_.back() == '\n' ? "" : "\n";
    recount_last_values();
    return;
  }
  // lines before the checkpoint are its history; new lines written before it are replays
  if (at >= confirmed_) {
    confirmed_ = at;
    differed_ = false;
    waiting_.clear();
  }
  recount_last_values();
}

void MetricsLog::finish() {
  if (replaying_) write_waiting();
}

// cuts the earlier lines nothing confirmed, then writes the waiting ones
void MetricsLog::write_waiting() {
  if (::ftruncate(fd_, static_cast<off_t>(confirmed_)) != 0)
    throw Error("cannot cut " + path_.string() + " back to its checkpoint: " + std::strerror(errno));
  size_ = static_cast<int64_t>(confirmed_);
  if (confirmed_ < earlier_.size())
    log().info("metrics.jsonl: {} bytes written after the last checkpoint were dropped (the "
               "resumed run writes them again)", earlier_.size() - confirmed_);
  replaying_ = false;
  differed_ = false;
  earlier_.clear();
  std::string lines;
  lines.swap(waiting_);
  if (!lines.empty()) write_whole(lines);
}

// the last values as the confirmed earlier lines leave them
void MetricsLog::recount_last_values() {
  last_.clear();
  size_t start = 0;
  while (start < confirmed_) {
    size_t end = earlier_.find('\n', start);
    if (end == std::string::npos || end > confirmed_) break;
    try {
      io::json::Value line = io::json::parse(std::string_view(earlier_).substr(start, end - start),
                                             path_.string());
      std::map<std::string, std::string> labels;
      std::map<std::string, double> values;
      for (const auto& [key, value] : line.members()) {
        if (value.is_string()) labels[key] = value.as_string();
        if (value.is_number() && key != "time") values[key] = value.as_number();
      }
      remember(labels, values);
    } catch (const Error&) {
      // a line torn by an older wmhost: nothing to remember from it
    }
    start = end + 1;
  }
}

}  // namespace wm
