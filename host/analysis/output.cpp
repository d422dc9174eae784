#include "analysis/output.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "wm/io/atomic_file.h"
#include "wm/io/json.h"
#include "wm/log.h"

namespace wm::analysis {

//---- numbers ----

std::string fmt(double value) {
  if (std::isnan(value)) return "—";
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

std::string fmt_n(double n) {
  if (!(std::abs(n) < 1e12) || n != std::floor(n)) return fmt(n);
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", n);
  return text;
}

std::string fmt_pm(double value, double error) {
  if (std::isnan(error) || error == 0) return fmt(value);
  return fmt(value) + " ± " + fmt(error);
}

std::string full(double value) { return report::number(value); }

//---- JSON ----

std::string json_string(const std::string& text) { return io::json::quote(text); }
std::string json_number(double value) { return std::isfinite(value) ? full(value) : "null"; }

std::string json_object(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out = "{";
  for (size_t i = 0; i < members.size(); ++i)
    out += (i ? ", " : "") + json_string(members[i].first) + ": " + members[i].second;
  return out + "}";
}

std::string json_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

std::string json_numbers(const std::vector<double>& values) {
  std::vector<std::string> items;
  for (double value : values) items.push_back(json_number(value));
  return json_array(items);
}

//---- files ----

std::filesystem::path write_output(const std::filesystem::path& dir, const std::string& name,
                                   const std::string& extension, const std::string& text) {
  std::filesystem::create_directories(dir);
  auto file = dir / (name + "." + extension);
  io::write_file_atomic(file, text);
  return file;
}

void log_table(const std::string& headline, const TextTable& table) {
  log().info("{}", headline);
  std::istringstream lines(table.console());
  for (std::string line; std::getline(lines, line);) log().info("  {}", line);
}

}  // namespace wm::analysis
