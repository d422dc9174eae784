// Tables as files, one writer for all: CSV with RFC 4180 quoting and Markdown with escaped pipes,
// written atomically (wm::io::write_file_atomic), and the CSV reader that reads them back. Every
// procedure's table (evaluate_<data>, probe, rollout, tiers' scores), the sweep's summary and the
// analysis steps' tables go through it.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace wm::report {

//---- cells ----

// a CSV field: quoted when it holds a comma, a quote, CR or LF, with quotes doubled (RFC 4180)
std::string csv_field(const std::string& text);
// a Markdown cell: `|` escaped as `\|`, line breaks as spaces, so the cell stays one cell
std::string markdown_cell(const std::string& text);
// a number for files: the shortest text that reads back as the same double; "" for NaN
std::string number(double value);
// a number for people: `decimals` places ("0.7031"); "nan" for NaN
std::string fixed(double value, int decimals);

//---- tables ----

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  size_t text_columns = 1;  // the first columns are left-aligned in Markdown, the rest right

  std::string csv() const;       // header line, then one line per row, "\n" ends each
  std::string markdown() const;  // a GitHub table with an alignment row
  std::string console() const;   // aligned columns for the log
};

//---- files ----

// `file` holds table.csv() / table.markdown(), replaced atomically; the folder is created
void write_csv(const std::filesystem::path& file, const Table& table);
void write_markdown(const std::filesystem::path& file, const Table& table);

//---- reading ----

// RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks; CRLF or LF
// ends a record; blank lines are skipped
std::vector<std::vector<std::string>> parse_csv(const std::string& text);
// a CSV file as a table: its first record is the header; throws wm::Error naming the file when
// it cannot be read or a row's field count differs from the header's
Table read_csv(const std::filesystem::path& file);

}  // namespace wm::report
