// Reference: RFC 4180 (Common Format and MIME Type for CSV Files), GitHub Flavored Markdown
// tables (§4.10: `\|` is a pipe inside a cell).
#include "report/table_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "wm/error.h"
#include "wm/io/atomic_file.h"

namespace wm::report {

//---- cells ----

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string markdown_cell(const std::string& text) {
  std::string cell;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '|') cell += "\\|";
    else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    else if (c == '\r' || c == '\n') cell += ' ';
    else cell += c;
  }
  return cell;
}

std::string number(double value) {
  if (!std::isfinite(value)) return std::isnan(value) ? "" : (value > 0 ? "inf" : "-inf");
  char text[40];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

std::string fixed(double value, int decimals) {
  if (std::isnan(value)) return "nan";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

//---- tables ----

namespace {
// characters as a terminal shows them: UTF-8 continuation bytes take no column
size_t width(const std::string& text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(),
                                           [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}
}  // namespace

std::string Table::csv() const {
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) out += (c ? "," : "") + csv_field(cells[c]);
    out += "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out;
}

std::string Table::markdown() const {
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (const auto& cell : cells) out += "| " + markdown_cell(cell) + " ";
    out += "|\n";
  };
  line(header);
  for (size_t c = 0; c < header.size(); ++c) out += c < text_columns ? "|---" : "|---:";
  out += "|\n";
  for (const auto& row : rows) line(row);
  return out;
}

std::string Table::console() const {
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

//---- files ----

namespace {
void write(const std::filesystem::path& file, const std::string& text) {
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  io::write_file_atomic(file, text);
}
}  // namespace

void write_csv(const std::filesystem::path& file, const Table& table) { write(file, table.csv()); }
void write_markdown(const std::filesystem::path& file, const Table& table) { write(file, table.markdown()); }

//---- reading ----

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, any = false;  // inside quotes; the record has a field (even an empty one)
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') {
      quoted = any = true;
    } else if (c == ',') {
      record.push_back(std::move(field)), field.clear(), any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) record.push_back(std::move(field));
      if (!record.empty()) records.push_back(std::move(record));
      record.clear(), field.clear(), any = false;
    } else {
      field += c, any = true;
    }
  }
  if (any || !field.empty()) record.push_back(std::move(field));
  if (!record.empty()) records.push_back(std::move(record));
  return records;
}

Table read_csv(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  auto records = parse_csv(text.str());
  Table table;
  if (records.empty()) return table;
  table.header = std::move(records.front());
  for (size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != table.header.size())
      throw Error(file.string() + ": record " + std::to_string(r + 1) + " has " + std::to_string(records[r].size()) +
                  " fields, the header " + std::to_string(table.header.size()));
    table.rows.push_back(std::move(records[r]));
  }
  return table;
}

}  // namespace wm::report
