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

std::string summary_key(const std::string& procedure, const std::string& label, const std::string& key) {
  return procedure + (label.empty() ? "" : "[" + label + "]") + "/" + key;
}

void MetricsLog::append(const std::map<std::string, std::string>& given,
                        const std::map<std::string, double>& values) {
  std::map<std::string, std::string> labels = given;
  if (!label_.empty()) labels.emplace("label", label_);
  std::string line = "{";
  for (const auto& [key, text] : labels)
    line += (line.size() > 1 ? ", " : "") + io::json::quote(key) + ": " + io::json::quote(text);
  for (const auto& [key, value] : values)
    line += (line.size() > 1 ? ", " : "") + io::json::quote(key) + ": " + io::json::number(value);
  line += "}\n";
  std::fputs(line.c_str(), file_);
  std::fflush(file_);
  auto procedure = labels.find("procedure");
  if (procedure == labels.end()) {
    for (const auto& [key, value] : values) last_[key] = value;
    return;
  }
  for (const auto& [key, value] : values) last_[summary_key(procedure->second, label_, key)] = value;
}

}  // namespace wm
