// The `table` step: a study's headline table, one row per N (or any key), chosen columns as
// mean ± sd over the runs there, "—" for a metric the sweep did not produce (a metric whose
// weights are not installed), and the compute hours from the `seconds` column. Seed 000's
// `N | LPIPS | FVD | Action Acc | hours` is
//   - table: {columns: ["LPIPS=evaluate[test]/lpips", "FVD=evaluate[test]/fvd/fvd",
//                       "Action Acc=evaluate[test]/action_acc_pred/top1"]}
#include <algorithm>
#include <cmath>

#include "analysis/analysis.h"
#include "analysis/output.h"
#include "analysis/stats.h"
#include "wm/error.h"
#include "wm/log.h"

namespace wm::analysis {
namespace {

//---- the columns ----

// `Header=column` or a bare column (its own header)
struct TableColumn {
  std::string header, pattern;
};

std::vector<TableColumn> columns_of(const Step& step) {
  std::vector<TableColumn> columns;
  for (const auto& entry : step.params.get<StringList>("columns")) {
    size_t eq = entry.find('=');
    TableColumn column = eq == std::string::npos ? TableColumn{entry, entry}
                                                 : TableColumn{entry.substr(0, eq), entry.substr(eq + 1)};
    if (column.header.empty() || column.pattern.empty())
      throw step.params.error("columns", "'" + entry + "' is not `Header=column` or `column`");
    columns.push_back(column);
  }
  if (columns.empty()) throw step.params.error("columns", "names no column");
  return columns;
}

void check_table(const Step& step) { columns_of(step); }

// the column a pattern names, or nullopt when the sweep has none (a metric not installed); a
// glob matching several is an error, as everywhere
std::optional<size_t> find_column(const SummaryTable& table, const std::string& pattern) {
  size_t matches = std::count_if(table.header.begin(), table.header.end(),
                                 [&](const std::string& name) { return glob_match(pattern, name); });
  if (matches == 0) return std::nullopt;
  return table.column(table.resolve(pattern));
}

// "mean ± sd" of a column's numbers in `rows` ("mean" for one run, "—" for none)
std::string cell(const stats::Summary& s) {
  if (s.n == 0) return "—";
  return s.n > 1 ? fmt_pm(s.mean, s.sd) : fmt(s.mean);
}

//---- table ----

void run_table(const StepInput& in) {
  const SummaryTable& table = in.table;
  const Params& p = in.step.params;
  std::string x = table.resolve(p.get<std::string>("x"));
  std::vector<TableColumn> columns = columns_of(in.step);
  bool hours = p.get<bool>("hours");

  // the columns the sweep has; the missing ones are dashes, named under the table
  std::vector<std::optional<size_t>> found;
  std::vector<std::string> notes;
  for (const auto& column : columns) {
    found.push_back(find_column(table, column.pattern));
    if (!found.back())
      notes.push_back("— " + column.header + ": no column " + column.pattern +
                      " (a metric not installed or not in `metrics:`" +
                      did_you_mean(column.pattern, table.metric_columns()) + ")");
  }
  std::optional<size_t> seconds = hours ? find_column(table, "seconds") : std::nullopt;
  if (hours && !seconds) notes.push_back("— hours: the summary has no `seconds` column");

  // one row per value of x, smallest first
  std::vector<Group> groups = group_rows(table, {table.column(x)}, table.all_rows());
  std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    auto u = parse_number(a.values[0]), v = parse_number(b.values[0]);
    return u && v ? *u < *v : a.values[0] < b.values[0];
  });
  TextTable out, csv;
  out.header = {p.get<std::string>("x_header"), "runs"};
  csv.header = {x, "runs"};
  for (const auto& column : columns) {
    out.header.push_back(column.header);
    for (const char* stat : {"mean", "sd", "n"}) csv.header.push_back(column.pattern + " " + stat);
  }
  if (hours) out.header.push_back("hours"), csv.header.insert(csv.header.end(), {"hours mean", "hours sd"});
  std::vector<std::string> json_rows;
  for (const auto& group : groups) {
    std::vector<std::string> row = {group.values[0], std::to_string(group.rows.size())};
    std::vector<std::string> line = row;
    std::vector<std::pair<std::string, std::string>> cells;
    for (size_t i = 0; i < columns.size(); ++i) {
      stats::Summary s = found[i] ? stats::summarize(values_of(table, *found[i], group.rows)) : stats::Summary{};
      row.push_back(cell(s));
      line.insert(line.end(), {s.n ? full(s.mean) : "", s.n > 1 ? full(s.sd) : "", std::to_string(s.n)});
      cells.push_back({columns[i].header, s.n ? json_object({{"mean", json_number(s.mean)}, {"sd", json_number(s.sd)},
                                                             {"n", std::to_string(s.n)}})
                                              : "null"});
    }
    if (hours) {
      std::vector<double> h = seconds ? values_of(table, *seconds, group.rows) : std::vector<double>{};
      for (double& v : h) v /= 3600;
      stats::Summary s = stats::summarize(h);
      row.push_back(cell(s));
      line.insert(line.end(), {s.n ? full(s.mean) : "", s.n > 1 ? full(s.sd) : ""});
      cells.push_back({"hours", s.n ? json_object({{"mean", json_number(s.mean)}, {"sd", json_number(s.sd)},
                                                   {"n", std::to_string(s.n)}})
                                    : "null"});
    }
    out.rows.push_back(row), csv.rows.push_back(line);
    json_rows.push_back(json_object({{"x", json_string(group.values[0])}, {"runs", std::to_string(group.rows.size())},
                                     {"cells", json_object(cells)}}));
  }

  std::vector<std::string> by = {x};
  std::vector<std::string> pooled = pooled_keys(table, groups, by, "");
  std::string intro = "per " + x + ": mean ± sd over " + (pooled.empty() ? "its runs" : join(pooled)) +
                      (hours ? "; hours = each run's wall-clock `seconds` / 3600" : "");
  std::string md = "# " + in.step.name + "\n\n" + intro + "\n\n" + out.markdown();
  for (const auto& note : notes) md += "\n" + note + "\n";
  write_output(in.out, in.step.name, "md", md);
  write_output(in.out, in.step.name, "csv", csv.csv());
  write_output(in.out, in.step.name, "json",
               json_object({{"step", json_string(in.step.name)}, {"x", json_string(x)},
                            {"rows", json_array(json_rows)}}) + "\n");
  log_table("analysis " + in.step.name + ": " + intro, out);
  for (const auto& note : notes) log().info("analysis {}: {}", in.step.name, note);
}

}  // namespace

const StepKind table_kind = {
    "table", "chosen columns per N as mean ± sd over runs, \"—\" for missing metrics, and hours",
    [] {
      return Schema{}
          .text("x", "train*/train_size", "the rows: a sweep key or a column, by name or glob (one match)")
          .text("x_header", "N", "the heading of the rows' column")
          .strings("columns", {}, "`Header=column` or `column` (name or glob); no such column shows \"—\"")
          .required()
          .boolean("hours", true, "add the runs' wall-clock hours (the `seconds` column / 3600)");
    },
    {}, check_table, run_table};

}  // namespace wm::analysis
