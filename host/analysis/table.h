// A finished sweep read back for analysis: summary.csv (one row per point: run, the sweep keys,
// status, seconds, the metrics), or a single run's status.json as a one-point sweep. Columns
// are opaque strings, found by exact name or by glob.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace wm::analysis {

//---- the table ----

struct SummaryTable {
  std::filesystem::path dir;              // the sweep folder (or the single run's)
  std::string source;                     // the file it came from, for messages
  std::vector<std::string> header;        // every column, in file order
  std::vector<std::string> keys;          // the sweep keys (between `run` and `status`)
  std::vector<std::vector<std::string>> rows;  // the points that finished ok
  std::vector<std::string> not_ok;        // the runs left out (failed or stopped)
  bool single = false;                    // a single run: `dir` is the run itself

  // the index of a column by exact name; else throws wm::Error naming the columns that exist
  size_t column(const std::string& name) const;
  // every column matching a glob (`*`, `?`), or the exact name; throws when none matches
  std::vector<std::string> match(const std::string& pattern) const;
  // the one column a name or glob names (`train*/train_size`); throws when none or several match
  std::string resolve(const std::string& pattern) const;
  const std::string& cell(size_t row, size_t column) const { return rows[row][column]; }
  // the cell as a number; nullopt when empty or not a number
  std::optional<double> number(size_t row, size_t column) const;
  // the folder of a row's run (its config.yaml, metrics.jsonl)
  std::filesystem::path run_dir(size_t row) const;
  std::vector<size_t> all_rows() const;
  // the columns after run, the keys, status and seconds
  std::vector<std::string> metric_columns() const;
};

// reads `dir`/summary.csv, or `dir`/status.json of a single run; throws wm::Error naming the
// summary.csv it expected when neither is there
SummaryTable load_summary(const std::filesystem::path& dir);
// summary.csv text (RFC 4180 quoting); `source` names it in messages
SummaryTable parse_summary(const std::string& csv, const std::filesystem::path& dir,
                           const std::string& source);
// a whole file as text; throws wm::Error naming it when it cannot be read
std::string read_text(const std::filesystem::path& file);

//---- values and groups ----

// `*` any run of characters, `?` one character
bool glob_match(const std::string& pattern, const std::string& text);
// two cells name the same value: equal text, or equal numbers ("0.5" and "0.50")
bool same_value(const std::string& a, const std::string& b);
std::optional<double> parse_number(const std::string& text);

// rows sharing the values of `columns`, in the order the groups first appear
struct Group {
  std::vector<std::string> values;  // one per column
  std::vector<size_t> rows;
  std::string label() const;        // "0.9", "0.9, full"
};
std::vector<Group> group_rows(const SummaryTable& table, const std::vector<size_t>& columns,
                              const std::vector<size_t>& rows);
// the group whose value is `value` (numbers compare as numbers); throws naming the groups of `key`
const Group& find_group(const std::vector<Group>& groups, const std::string& value,
                        const std::string& key);
// the columns of `by`, or when `by` is empty of every sweep key but `over` (the default grouping)
std::vector<size_t> group_columns(const SummaryTable& table, std::vector<std::string>& by,
                                  const std::string& over);
// the sweep keys, other than `by` and `skip`, whose value differs inside one of `groups`: what the
// groups pool besides the seeds (a researcher grouping by one of two swept keys averages the other)
std::vector<std::string> pooled_keys(const SummaryTable& table, const std::vector<Group>& groups,
                                     const std::vector<std::string>& by, const std::string& skip);
// the numbers of `column` in `rows`, skipping empty cells
std::vector<double> values_of(const SummaryTable& table, size_t column, const std::vector<size_t>& rows);

}  // namespace wm::analysis
