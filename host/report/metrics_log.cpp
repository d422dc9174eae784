#include "report/metrics_log.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "wm/error.h"
#include "wm/io/json.h"

namespace wm {

MetricsLog::MetricsLog(const std::filesystem::path& path) {
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) throw Error("cannot open " + path.string() + ": " + std::strerror(errno));
}

MetricsLog::~MetricsLog() {
  if (file_) std::fclose(file_);
}

void MetricsLog::append(const std::map<std::string, std::string>& labels,
                        const std::map<std::string, double>& values) {
  std::string line = "{";
  for (const auto& [key, text] : labels)
    line += (line.size() > 1 ? ", " : "") + io::json::quote(key) + ": " + io::json::quote(text);
  for (const auto& [key, value] : values)
    line += (line.size() > 1 ? ", " : "") + io::json::quote(key) + ": " + io::json::number(value);
  line += "}\n";
  std::fputs(line.c_str(), file_);
  std::fflush(file_);
  auto procedure = labels.find("procedure");
  std::string prefix = procedure == labels.end() ? "" : procedure->second + "/";
  for (const auto& [key, value] : values) last_[prefix + key] = value;
}

}  // namespace wm
