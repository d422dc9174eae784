#include "wm/metrics_log.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "wm/error.h"

namespace wm {

std::string json_quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";
  std::ostringstream out;
  out.precision(10);
  out << value;
  return out.str();
}

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
    line += (line.size() > 1 ? ", " : "") + json_quote(key) + ": " + json_quote(text);
  for (const auto& [key, value] : values)
    line += (line.size() > 1 ? ", " : "") + json_quote(key) + ": " + json_number(value);
  line += "}\n";
  std::fputs(line.c_str(), file_);
  std::fflush(file_);
  auto procedure = labels.find("procedure");
  std::string prefix = procedure == labels.end() ? "" : procedure->second + "/";
  for (const auto& [key, value] : values) last_[prefix + key] = value;
}

}  // namespace wm
