// What an analysis step writes: tables as Markdown, CSV and aligned console text, numbers
// formatted for people (4 significant digits) and for files (full precision), small JSON.
#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "report/table_writer.h"

namespace wm::analysis {

//---- numbers ----

std::string fmt(double value);             // 4 significant digits; "—" for NaN
std::string fmt_n(double n);               // a count as an integer (10000), else as fmt
std::string fmt_pm(double value, double error);  // "0.512 ± 0.013" ("0.512" without an error)
std::string full(double value);            // shortest round-trip text; "" for NaN (CSV cells)

//---- tables ----

// tables are report::Table (report/table_writer.h): CSV (RFC 4180), Markdown, console text
using report::csv_field;
struct TextTable : report::Table {};

//---- JSON ----

std::string json_string(const std::string& text);
std::string json_number(double value);  // null for NaN and infinities
std::string json_object(const std::vector<std::pair<std::string, std::string>>& members);
std::string json_array(const std::vector<std::string>& items);
std::string json_numbers(const std::vector<double>& values);

//---- files ----

// `dir`/`name`.`extension`, atomically; returns the path
std::filesystem::path write_output(const std::filesystem::path& dir, const std::string& name,
                                   const std::string& extension, const std::string& text);
// logs a step's headline and its main table, one line each, so `wmhost run` prints them
void log_table(const std::string& headline, const TextTable& table);

}  // namespace wm::analysis
