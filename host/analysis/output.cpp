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

std::string full(double value) {
  if (!std::isfinite(value)) return std::isnan(value) ? "" : (value > 0 ? "inf" : "-inf");
  char text[40];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

//---- tables ----

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

namespace {
// characters as a terminal shows them: UTF-8 continuation bytes take no column
size_t width(const std::string& text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(),
                                           [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}
}  // namespace

std::string TextTable::markdown() const {
  std::string out;
  // a `|` inside a cell (an expression's ||) is escaped, or it would split the cell
  auto line = [&](const std::vector<std::string>& cells) {
    for (const auto& cell : cells) {
      out += "| ";
      for (char c : cell) out += c == '|' ? std::string("\\|") : std::string(1, c);
      out += " ";
    }
    out += "|\n";
  };
  line(header);
  for (size_t c = 0; c < header.size(); ++c) out += c < text_columns ? "|---" : "|---:";
  out += "|\n";
  for (const auto& row : rows) line(row);
  return out;
}

std::string TextTable::csv() const {
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) out += (c ? "," : "") + csv_field(cells[c]);
    out += "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out;
}

std::string TextTable::console() const {
  std::vector<size_t> widths(header.size(), 0);
  for (size_t c = 0; c < header.size(); ++c) widths[c] = width(header[c]);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) widths[c] = std::max(widths[c], width(row[c]));
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size() && c < widths.size(); ++c) {
      std::string pad(widths[c] - width(cells[c]), ' ');
      out += (c ? "  " : "") + (c < text_columns ? cells[c] + pad : pad + cells[c]);
    }
    out += "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out;
}

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
