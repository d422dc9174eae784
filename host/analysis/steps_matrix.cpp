// The `matrix` step: training condition x test set, seed 000's in-distribution / OOD table.
// Rows are the groups of a sweep key (the training domain), columns are metric columns (one
// `evaluate` step per test set), each headed by the row value it is in-distribution for:
//   - matrix: {by: global_vars.domain, columns: ["ssv2=evaluate[ssv2]/psnr", "coin=evaluate[coin]/psnr"]}
// Cells are mean ± the 95 % t half-width over the runs; the diagonal is in-distribution. The OOD
// drop of a row is, run by run, (in-dist − mean OOD)/|in-dist| (sign-flipped when lower is
// better), then mean ± half-width over its runs. A second table compares, on each test set, every
// foreign model with the in-distribution one (drop % and Welch's p), which keeps the test sets'
// own difficulty out of the comparison.
#include <algorithm>
#include <cmath>
#include <optional>

#include "analysis/analysis.h"
#include "analysis/output.h"
#include "analysis/stats.h"
#include "wm/error.h"
#include "wm/log.h"

namespace wm::analysis {
namespace {

//---- the columns ----

struct MatrixColumn {
  std::string header, pattern;
};

std::vector<MatrixColumn> matrix_columns(const Step& step) {
  std::vector<MatrixColumn> columns;
  for (const auto& entry : step.params.get<StringList>("columns")) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size())
      throw step.params.error("columns", "'" + entry + "' is not `<value of by>=<column>`: each column is "
                                         "headed by the row value it is in-distribution for");
    columns.push_back({entry.substr(0, eq), entry.substr(eq + 1)});
  }
  if (columns.size() < 2) throw step.params.error("columns", "needs two or more test sets");
  return columns;
}

void check_matrix(const Step& step) { matrix_columns(step); }

// "0.812 ± 0.021": the mean and the half-width of its 95 % t interval ("0.812" for one run)
std::string cell_text(const stats::Summary& s) {
  if (s.n == 0) return "—";
  return s.n > 1 ? fmt_pm(s.mean, (s.ci_high - s.ci_low) / 2) : fmt(s.mean);
}

//---- matrix ----

void run_matrix(const StepInput& in) {
  const SummaryTable& table = in.table;
  const Params& p = in.step.params;
  std::string by = p.get<std::string>("by"), over = p.get<std::string>("over");
  bool higher = p.get<bool>("higher_is_better");
  double sign = higher ? 1.0 : -1.0;
  std::vector<MatrixColumn> columns = matrix_columns(in.step);
  std::vector<size_t> index;
  for (const auto& column : columns) index.push_back(table.column(table.resolve(column.pattern)));
  std::vector<Group> groups = group_rows(table, {table.column(table.resolve(by))}, table.all_rows());

  // the in-distribution column of each row: the one headed by its value
  std::vector<std::optional<size_t>> diagonal;
  bool any = false;
  for (const auto& group : groups) {
    diagonal.push_back(std::nullopt);
    for (size_t j = 0; j < columns.size(); ++j)
      if (same_value(columns[j].header, group.values[0])) diagonal.back() = j;
    any = any || diagonal.back().has_value();
  }
  if (!any) {
    std::vector<std::string> values;
    for (const auto& group : groups) values.push_back(group.values[0]);
    throw Error("no column is headed by a value of " + by + " (" + join(values) +
                "), so no cell is in-distribution; write columns as `<value>=<column>`");
  }
  auto group_of = [&](size_t column) -> const Group* {
    for (size_t i = 0; i < groups.size(); ++i)
      if (diagonal[i] == column) return &groups[i];
    return nullptr;
  };

  TextTable out, gaps, csv;
  out.header = gaps.header = {by + " \\ test"};
  for (const auto& column : columns) out.header.push_back(column.header), gaps.header.push_back(column.header);
  out.header.insert(out.header.end(), {"runs", "OOD drop %"});
  csv.header = {by, "test", "column", "n", "mean", "sd", "ci95_low", "ci95_high", "in_distribution",
                "drop_vs_in_distribution_pct", "welch_p"};
  std::vector<std::string> json_rows;
  double worst = NAN;
  std::string worst_where;
  for (size_t i = 0; i < groups.size(); ++i) {
    const Group& group = groups[i];
    std::vector<std::string> row = {group.values[0]}, gap_row = {group.values[0]};
    std::vector<std::string> json_cells;
    for (size_t j = 0; j < columns.size(); ++j) {
      std::vector<double> values = values_of(table, index[j], group.rows);
      stats::Summary s = stats::summarize(values);
      bool in_dist = diagonal[i] == j;
      row.push_back(in_dist ? "**" + cell_text(s) + "**" : cell_text(s));
      // the same test set: this row's models against the in-distribution ones
      double drop = NAN, p_value = NAN;
      const Group* home = group_of(j);
      if (home && !in_dist) {
        std::vector<double> reference = values_of(table, index[j], home->rows);
        double base = stats::summarize(reference).mean;
        drop = sign * (base - s.mean) / std::abs(base) * 100;
        p_value = stats::welch_t_test(values, reference).p;
        gap_row.push_back(fmt(drop) + (std::isnan(p_value) ? "" : " (p " + fmt(p_value) + ")"));
        if (std::isnan(worst) || drop > worst)
          worst = drop, worst_where = "trained on " + group.values[0] + ", tested on " + columns[j].header;
      } else {
        gap_row.push_back("—");
      }
      csv.rows.push_back({group.values[0], columns[j].header, table.header[index[j]], std::to_string(s.n),
                          full(s.mean), full(s.sd), full(s.ci_low), full(s.ci_high), in_dist ? "1" : "0",
                          full(drop), full(p_value)});
      json_cells.push_back(json_object({{"test", json_string(columns[j].header)}, {"n", std::to_string(s.n)},
                                        {"mean", json_number(s.mean)}, {"sd", json_number(s.sd)},
                                        {"ci95", json_numbers({s.ci_low, s.ci_high})},
                                        {"in_distribution", in_dist ? "true" : "false"},
                                        {"drop_pct", json_number(drop)}, {"p", json_number(p_value)}}));
    }
    // OOD drop of this row, run by run: in-distribution against the mean of its OOD cells
    std::vector<double> drops;
    if (diagonal[i])
      for (size_t r : group.rows) {
        auto home = table.number(r, index[*diagonal[i]]);
        double sum = 0;
        int count = 0;
        for (size_t j = 0; j < columns.size(); ++j)
          if (j != *diagonal[i])
            if (auto v = table.number(r, index[j])) sum += *v, ++count;
        if (home && count > 0) drops.push_back(sign * (*home - sum / count) / std::abs(*home) * 100);
      }
    stats::Summary d = stats::summarize(drops);
    row.push_back(std::to_string(group.rows.size()));
    row.push_back(diagonal[i] ? cell_text(d) : "— (no test set of its own)");
    out.rows.push_back(row), gaps.rows.push_back(gap_row);
    json_rows.push_back(json_object({{"train", json_string(group.values[0])}, {"runs", std::to_string(group.rows.size())},
                                     {"cells", json_array(json_cells)},
                                     {"ood_drop_pct", json_object({{"mean", json_number(d.mean)}, {"sd", json_number(d.sd)},
                                                                   {"ci95", json_numbers({d.ci_low, d.ci_high})},
                                                                   {"n", std::to_string(d.n)}})}}));
  }

  std::string metric = columns.front().pattern;
  std::string intro = "rows: " + by + " (training); columns: test sets (" + metric + ", ...); mean ± half the 95 % t "
                      "interval over " + over + "; **bold** = in-distribution. OOD drop % = (in-dist − mean OOD)/|in-dist|" +
                      (higher ? "" : " with the sign flipped (lower is better)") + ", per run, then mean ± half-width.";
  std::string gap_intro = "On each test set, the drop % of a model trained elsewhere against the model trained on that "
                          "domain (" + std::string(higher ? "" : "sign-flipped, ") + "Welch's p over " + over + "):";
  std::string worst_line = std::isnan(worst) ? "" : "largest drop on one test set: " + fmt(worst) + " % (" + worst_where + ")";
  std::string md = "# " + in.step.name + "\n\n" + intro + "\n\n" + out.markdown() + "\n" + gap_intro + "\n\n" +
                   gaps.markdown() + (worst_line.empty() ? "" : "\n" + worst_line + "\n");
  write_output(in.out, in.step.name, "md", md);
  write_output(in.out, in.step.name, "csv", csv.csv());
  write_output(in.out, in.step.name, "json",
               json_object({{"step", json_string(in.step.name)}, {"by", json_string(by)}, {"over", json_string(over)},
                            {"higher_is_better", higher ? "true" : "false"}, {"rows", json_array(json_rows)}}) + "\n");
  log_table("analysis " + in.step.name + ": " + intro, out);
  log_table("analysis " + in.step.name + ": " + gap_intro, gaps);
  if (!worst_line.empty()) log().info("analysis {}: {}", in.step.name, worst_line);
}

}  // namespace

const StepKind matrix_kind = {
    "matrix", "training condition x test set (in-distribution diagonal), mean ± CI, OOD drop %",
    [] {
      return Schema{}
          .text("by", "", "the rows: the sweep key of the training condition (e.g. the train domain)").required()
          .strings("columns", {}, "`<value of by>=<column>` per test set: the row it is in-distribution for, "
                                  "and its metric column (name or glob, one match)")
          .required()
          .text("over", "seed", "the key the cells average over (for the note; every run of a row counts)")
          .boolean("higher_is_better", true, "the direction of the metric, for the drops");
    },
    {}, check_matrix, run_matrix};

}  // namespace wm::analysis
