#include "analysis/table.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "report/table_writer.h"
#include "wm/error.h"
#include "wm/io/json.h"

namespace wm::analysis {

//---- reading ----

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

namespace {

// a single run's status.json as a one-row table: run, status, seconds, its metrics
SummaryTable single_run(const std::filesystem::path& dir) {
  auto file = dir / "status.json";
  io::json::Value status = io::json::parse(read_text(file), file.string());
  SummaryTable table;
  table.dir = dir, table.source = file.string(), table.single = true;
  table.header = {"run", "status", "seconds"};
  std::vector<std::string> row = {dir.filename().string()};
  const io::json::Value* state = status.find("status");
  row.push_back(state && state->is_string() ? state->as_string() : "");
  const io::json::Value* seconds = status.find("seconds");
  row.push_back(seconds && seconds->is_number() ? io::json::number(seconds->as_number()) : "");
  if (const io::json::Value* metrics = status.find("metrics"))
    for (const auto& [key, value] : metrics->members()) {
      table.header.push_back(key);
      row.push_back(value.is_number() ? io::json::number(value.as_number()) : "");
    }
  if (row[1] == "ok") table.rows.push_back(row);
  else table.not_ok.push_back(row[0]);
  return table;
}

}  // namespace

SummaryTable parse_summary(const std::string& csv, const std::filesystem::path& dir,
                           const std::string& source) {
  auto records = report::parse_csv(csv);  // RFC 4180: quoted names may hold commas
  if (records.empty()) throw Error(source + ": empty; expected a header line (run, ..., status, ...)");
  SummaryTable table;
  table.dir = dir, table.source = source, table.header = records.front();
  size_t status = table.header.size();
  for (size_t c = 0; c < table.header.size(); ++c)
    if (table.header[c] == "status") status = c;
  if (table.header.empty() || table.header[0] != "run" || status == table.header.size())
    throw Error(source + ": not a sweep summary (its header must start with `run` and have `status`)");
  table.keys.assign(table.header.begin() + 1, table.header.begin() + static_cast<long>(status));
  for (size_t r = 1; r < records.size(); ++r) {
    auto row = records[r];
    if (row.size() != table.header.size())
      throw Error(source + ": line " + std::to_string(r + 1) + " has " + std::to_string(row.size()) +
                  " fields, the header " + std::to_string(table.header.size()));
    if (row[status] == "ok") table.rows.push_back(std::move(row));
    else table.not_ok.push_back(row[0]);
  }
  return table;
}

SummaryTable load_summary(const std::filesystem::path& dir) {
  auto file = dir / "summary.csv";
  if (std::filesystem::exists(file)) return parse_summary(read_text(file), dir, file.string());
  if (std::filesystem::exists(dir / "status.json") && std::filesystem::exists(dir / "config.yaml"))
    return single_run(dir);
  throw Error("no " + file.string() + ": analysis reads the summary a sweep writes when it " +
              "finishes (or a single run's status.json)" +
              (std::filesystem::is_directory(dir) ? "" : "; " + dir.string() + " is not a folder"));
}

//---- columns ----

size_t SummaryTable::column(const std::string& name) const {
  for (size_t c = 0; c < header.size(); ++c)
    if (header[c] == name) return c;
  throw Error("no column '" + name + "' in " + source + did_you_mean(name, header) +
              "; columns: " + join(header));
}

std::vector<std::string> SummaryTable::match(const std::string& pattern) const {
  if (pattern.find_first_of("*?") == std::string::npos) return {header[column(pattern)]};
  std::vector<std::string> found;
  for (const auto& name : header)
    if (glob_match(pattern, name)) found.push_back(name);
  if (found.empty())
    throw Error("no column matches '" + pattern + "' in " + source + "; columns: " + join(header));
  return found;
}

std::string SummaryTable::resolve(const std::string& pattern) const {
  std::vector<std::string> found = match(pattern);
  if (found.size() > 1)
    throw Error("'" + pattern + "' matches " + std::to_string(found.size()) + " columns (" + join(found) +
                "); name one");
  return found.front();
}

std::optional<double> SummaryTable::number(size_t row, size_t column) const {
  return parse_number(rows[row][column]);
}

std::filesystem::path SummaryTable::run_dir(size_t row) const {
  return single ? dir : dir / rows[row][0];
}

std::vector<size_t> SummaryTable::all_rows() const {
  std::vector<size_t> all(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) all[r] = r;
  return all;
}

std::vector<std::string> SummaryTable::metric_columns() const {
  std::vector<std::string> found;
  for (const auto& name : header)
    if (name != "run" && name != "status" && name != "seconds" &&
        std::find(keys.begin(), keys.end(), name) == keys.end())
      found.push_back(name);
  return found;
}

//---- values and groups ----

bool glob_match(const std::string& pattern, const std::string& text) {
  // iterative matching with one backtrack point for the last `*`
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) ++p, ++t;
    else if (p < pattern.size() && pattern[p] == '*') star = p++, mark = t;
    else if (star != std::string::npos) p = star + 1, t = ++mark;
    else return false;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::optional<double> parse_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

bool same_value(const std::string& a, const std::string& b) {
  if (a == b) return true;
  auto x = parse_number(a), y = parse_number(b);
  return x && y && *x == *y;
}

std::string Group::label() const { return join(values); }

std::vector<Group> group_rows(const SummaryTable& table, const std::vector<size_t>& columns,
                              const std::vector<size_t>& rows) {
  std::vector<Group> groups;
  for (size_t row : rows) {
    std::vector<std::string> values;
    for (size_t c : columns) values.push_back(table.cell(row, c));
    auto same = [&](const Group& group) {
      for (size_t i = 0; i < values.size(); ++i)
        if (!same_value(group.values[i], values[i])) return false;
      return true;
    };
    auto found = std::find_if(groups.begin(), groups.end(), same);
    if (found == groups.end()) groups.push_back({values, {row}});
    else found->rows.push_back(row);
  }
  return groups;
}

const Group& find_group(const std::vector<Group>& groups, const std::string& value,
                        const std::string& key) {
  for (const auto& group : groups)
    if (group.values.size() == 1 && same_value(group.values[0], value)) return group;
  std::vector<std::string> have;
  for (const auto& group : groups) have.push_back(group.label());
  throw Error("no runs with " + key + " = " + value + did_you_mean(value, have) + "; " + key +
              " has: " + join(have));
}

std::vector<size_t> group_columns(const SummaryTable& table, std::vector<std::string>& by,
                                  const std::string& over) {
  if (by.empty())
    for (const auto& key : table.keys)
      if (key != over) by.push_back(key);
  std::vector<size_t> columns;
  for (const auto& key : by) columns.push_back(table.column(key));
  return columns;
}

std::vector<std::string> pooled_keys(const SummaryTable& table, const std::vector<Group>& groups,
                                     const std::vector<std::string>& by, const std::string& skip) {
  std::vector<std::string> pooled;
  for (const auto& key : table.keys) {
    if (key == skip || std::find(by.begin(), by.end(), key) != by.end()) continue;
    size_t column = table.column(key);
    auto varies = [&](const Group& group) {
      for (size_t row : group.rows)
        if (!same_value(table.cell(row, column), table.cell(group.rows.front(), column))) return true;
      return false;
    };
    if (std::any_of(groups.begin(), groups.end(), varies)) pooled.push_back(key);
  }
  return pooled;
}

std::vector<double> values_of(const SummaryTable& table, size_t column,
                              const std::vector<size_t>& rows) {
  std::vector<double> values;
  for (size_t row : rows)
    if (auto value = table.number(row, column)) values.push_back(*value);
  return values;
}

}  // namespace wm::analysis
