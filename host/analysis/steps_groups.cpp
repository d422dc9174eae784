// aggregate and compare: statistics of metric columns over seeds, per group of sweep values,
// and differences between groups with Welch's t-test.
#include <algorithm>
#include <cmath>

#include "analysis/analysis.h"
#include "analysis/output.h"
#include "analysis/stats.h"
#include "report/plot.h"
#include "wm/error.h"
#include "wm/log.h"

namespace wm::analysis {
namespace {

const std::vector<std::string> kStats = {"mean", "sd", "sem", "ci95", "n", "min", "max"};

// the columns named by exact names or globs; none named: every metric column holding a number
std::vector<std::string> expand_columns(const SummaryTable& table, const StringList& patterns) {
  std::vector<std::string> columns;
  auto add = [&](const std::string& name) {
    if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
  };
  for (const auto& pattern : patterns)
    for (const auto& name : table.match(pattern)) add(name);
  if (patterns.empty())
    for (const auto& name : table.metric_columns())
      if (!values_of(table, table.column(name), table.all_rows()).empty()) add(name);
  return columns;
}

// rows ordered by the `over` key (seed 0, 1, 2), when the table has it
std::vector<size_t> ordered_over(const SummaryTable& table, std::vector<size_t> rows,
                                 const std::string& over) {
  if (std::find(table.header.begin(), table.header.end(), over) == table.header.end()) return rows;
  size_t column = table.column(over);
  std::stable_sort(rows.begin(), rows.end(), [&](size_t a, size_t b) {
    auto x = table.number(a, column), y = table.number(b, column);
    return x && y ? *x < *y : table.cell(a, column) < table.cell(b, column);
  });
  return rows;
}

std::string value_list(const std::vector<double>& values) {
  std::string text;
  for (double value : values) text += (text.empty() ? "" : " ") + fmt(value);
  return text;
}

//---- aggregate ----

void check_aggregate(const Step& step) {
  for (const auto& stat : step.params.get<StringList>("stats"))
    if (std::find(kStats.begin(), kStats.end(), stat) == kStats.end())
      throw step.params.error("stats", "unknown statistic '" + stat + "'" + did_you_mean(stat, kStats) +
                                           "; statistics: " + join(kStats));
  const StringList by = step.params.get<StringList>("by");
  if (std::find(by.begin(), by.end(), step.params.get<std::string>("over")) != by.end())
    throw step.params.error("by", "holds the `over` key '" + step.params.get<std::string>("over") +
                                      "': values are averaged over it, not grouped by it");
}

void run_aggregate(const StepInput& in) {
  const SummaryTable& table = in.table;
  const Params& p = in.step.params;
  std::string over = p.get<std::string>("over");
  StringList by = p.get<StringList>("by");
  std::vector<size_t> by_columns = group_columns(table, by, over);
  std::vector<std::string> columns = expand_columns(table, p.get<StringList>("columns"));
  if (columns.empty()) throw Error("no metric column holds a number in " + table.source);
  StringList stats = p.get<StringList>("stats");
  bool many = columns.size() > 1;

  TextTable out;
  out.header = by;
  if (many) out.header.push_back("column");
  for (const auto& stat : stats) out.header.push_back(stat == "ci95" ? "95 % CI" : stat);
  out.header.push_back("values (by " + over + ")");
  out.text_columns = by.size() + (many ? 1 : 0);
  TextTable csv;
  csv.header = by;
  csv.header.insert(csv.header.end(), {"column", "n", "mean", "sd", "sem", "ci95_low", "ci95_high", "min", "max", "values"});
  std::vector<std::string> json_rows;
  std::vector<Group> groups = group_rows(table, by_columns, table.all_rows());
  for (const auto& group : groups) {
    std::vector<size_t> rows = ordered_over(table, group.rows, over);
    for (const auto& name : columns) {
      std::vector<double> values = values_of(table, table.column(name), rows);
      stats::Summary s = stats::summarize(values);
      double low = values.empty() ? NAN : *std::min_element(values.begin(), values.end());
      double high = values.empty() ? NAN : *std::max_element(values.begin(), values.end());
      std::vector<std::string> row = group.values;
      if (many) row.push_back(name);
      for (const auto& stat : stats) {
        if (stat == "mean") row.push_back(fmt(s.mean));
        if (stat == "sd") row.push_back(fmt(s.sd));
        if (stat == "sem") row.push_back(fmt(s.sem));
        if (stat == "ci95") row.push_back("[" + fmt(s.ci_low) + ", " + fmt(s.ci_high) + "]");
        if (stat == "n") row.push_back(std::to_string(s.n));
        if (stat == "min") row.push_back(fmt(low));
        if (stat == "max") row.push_back(fmt(high));
      }
      row.push_back(value_list(values));
      out.rows.push_back(row);
      std::vector<std::string> line = group.values;
      std::string all;
      for (double value : values) all += (all.empty() ? "" : " ") + full(value);
      line.insert(line.end(), {name, std::to_string(s.n), full(s.mean), full(s.sd), full(s.sem),
                               full(s.ci_low), full(s.ci_high), full(low), full(high), all});
      csv.rows.push_back(line);
      std::vector<std::pair<std::string, std::string>> keys;
      for (size_t k = 0; k < by.size(); ++k) keys.push_back({by[k], json_string(group.values[k])});
      json_rows.push_back(json_object({{"group", json_object(keys)}, {"column", json_string(name)},
                                       {"n", std::to_string(s.n)}, {"mean", json_number(s.mean)},
                                       {"sd", json_number(s.sd)}, {"sem", json_number(s.sem)},
                                       {"ci95", json_numbers({s.ci_low, s.ci_high})},
                                       {"values", json_numbers(values)}}));
    }
  }

  std::string headline = "analysis " + in.step.name + ": " + std::to_string(columns.size()) +
                          (many ? " columns" : " column") + " over " + over + ", by " +
                          (by.empty() ? "nothing (all runs)" : join(by));
  // a swept key in neither `by` nor `over` is averaged too: said under the table, and logged
  std::vector<std::string> pooled = pooled_keys(table, groups, by, over);
  std::string note = pooled.empty() ? "" : "\nnote: each group also pools runs with different " +
                                               join(pooled) + " (add it to `by` to keep them apart)\n";
  if (!pooled.empty()) log().warn("analysis {}: {}", in.step.name, note.substr(7, note.size() - 8));
  write_output(in.out, in.step.name, "md", "# " + in.step.name + "\n\n" + headline.substr(9) +
                                               "\n\n" + out.markdown() + note);
  write_output(in.out, in.step.name, "csv", csv.csv());
  std::vector<std::string> by_json;
  for (const auto& key : by) by_json.push_back(json_string(key));
  write_output(in.out, in.step.name, "json",
               json_object({{"step", json_string(in.step.name)}, {"over", json_string(over)},
                            {"by", json_array(by_json)}, {"rows", json_array(json_rows)}}) + "\n");

  // one numeric key and one column: the mean ± sd against it
  bool numeric = by.size() == 1 && columns.size() == 1 && !groups.empty();
  for (const auto& group : groups) numeric = numeric && parse_number(group.values[0]).has_value();
  if (numeric) {
    LinePlot plot;
    plot.title = in.step.name + ": " + columns[0];
    plot.x_label = by[0], plot.y_label = columns[0];
    Series series;
    series.label = "mean ± sd";
    series.markers = true;
    std::vector<std::pair<double, stats::Summary>> at;  // by the key's value, ascending
    for (const auto& group : groups)
      at.push_back({*parse_number(group.values[0]),
                    stats::summarize(values_of(table, table.column(columns[0]), group.rows))});
    std::sort(at.begin(), at.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [x, s] : at) series.points.push_back({x, s.mean}), series.errors.push_back(s.sd);
    plot.log_x = at.front().first > 0 && at.back().first >= 20 * at.front().first;  // decades apart
    plot.series.push_back(series);
    plot.write(in.out / (in.step.name + ".svg"));
  }
  log_table(headline, out);
}

//---- compare ----

// the pairs to compare: `pairs: [[a, b], ...]`, or every group against `reference:`
std::vector<std::pair<std::string, std::string>> pairs_of(const Step& step) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (const ConfigNode* list = step.node.find("pairs")) {
    if (!list->is_sequence())
      throw ConfigError(list->loc, step.key_path + ".pairs", "expected a list of [a, b] pairs");
    for (size_t i = 0; i < list->items.size(); ++i) {
      const ConfigNode& pair = list->items[i];
      if (!pair.is_sequence() || pair.items.size() != 2 || !pair.items[0].is_scalar() ||
          !pair.items[1].is_scalar())
        throw ConfigError(pair.loc, step.key_path + ".pairs." + std::to_string(i),
                          "expected a pair of values [a, b] of the `by` key");
      pairs.push_back({pair.items[0].scalar, pair.items[1].scalar});
    }
  }
  return pairs;
}

void check_compare(const Step& step) {
  bool has_pairs = !pairs_of(step).empty();
  bool has_reference = !step.params.get<std::string>("reference").empty();
  if (has_pairs == has_reference)
    throw ConfigError(step.loc, step.key_path,
                      has_pairs ? "give `pairs:` or `reference:`, not both"
                                : "needs `pairs: [[a, b], ...]` or `reference: <value>` to compare against");
}

void run_compare(const StepInput& in) {
  const SummaryTable& table = in.table;
  const Params& p = in.step.params;
  std::string by = p.get<std::string>("by"), within = p.get<std::string>("within");
  bool welch = p.get<std::string>("test") == "welch";
  // `within: demos` compares the pairs inside each value of demos, one block of rows per value
  std::vector<Group> blocks = within.empty()
                                  ? std::vector<Group>{Group{{}, table.all_rows()}}
                                  : group_rows(table, {table.column(within)}, table.all_rows());
  std::vector<std::string> columns = table.match(p.get<std::string>("column"));
  bool many = columns.size() > 1;

  TextTable out, csv;
  out.header = {"a", "b", "mean a", "mean b", "a − b", "(a − b)/|b|", "n a", "n b"};
  if (welch) out.header.insert(out.header.end(), {"t", "p"});
  if (many) out.header.insert(out.header.begin(), "column");
  if (!within.empty()) out.header.insert(out.header.begin(), within);
  out.text_columns = 2 + (many ? 1 : 0) + (within.empty() ? 0 : 1);
  csv.header = {"column", "a", "b", "mean_a", "mean_b", "diff", "rel", "n_a", "n_b", "t", "dof", "p"};
  if (!within.empty()) csv.header.insert(csv.header.begin(), within);
  std::vector<std::string> json_rows;
  std::vector<Group> all_groups;
  for (const Group& block : blocks) {
    std::vector<Group> groups = group_rows(table, {table.column(by)}, block.rows);
    all_groups.insert(all_groups.end(), groups.begin(), groups.end());
    auto pairs = pairs_of(in.step);
    std::string reference = p.get<std::string>("reference");
    if (!reference.empty()) {
      find_group(groups, reference, by);
      for (const auto& group : groups)
        if (!same_value(group.values[0], reference)) pairs.push_back({group.values[0], reference});
    }
    for (const auto& name : columns) {
      size_t column = table.column(name);
      for (const auto& [a, b] : pairs) {
        std::vector<double> va = values_of(table, column, find_group(groups, a, by).rows);
        std::vector<double> vb = values_of(table, column, find_group(groups, b, by).rows);
        stats::Summary sa = stats::summarize(va), sb = stats::summarize(vb);
        double diff = sa.mean - sb.mean, rel = diff / std::abs(sb.mean);
        stats::WelchResult test;
        test.t = test.p = test.dof = NAN;
        if (welch && va.size() >= 2 && vb.size() >= 2) test = stats::welch_t_test(va, vb);
        std::vector<std::string> row = {a, b, fmt(sa.mean), fmt(sb.mean), fmt(diff), fmt(rel),
                                        std::to_string(sa.n), std::to_string(sb.n)};
        if (welch) row.insert(row.end(), {fmt(test.t), fmt(test.p)});
        if (many) row.insert(row.begin(), name);
        if (!within.empty()) row.insert(row.begin(), block.values[0]);
        out.rows.push_back(row);
        std::vector<std::string> csv_row = {name, a, b, full(sa.mean), full(sb.mean), full(diff), full(rel),
                                            std::to_string(sa.n), std::to_string(sb.n), full(test.t),
                                            full(test.dof), full(test.p)};
        if (!within.empty()) csv_row.insert(csv_row.begin(), block.values[0]);
        csv.rows.push_back(csv_row);
        std::vector<std::pair<std::string, std::string>> fields = {
            {"column", json_string(name)}, {"a", json_string(a)}, {"b", json_string(b)},
            {"mean_a", json_number(sa.mean)}, {"mean_b", json_number(sb.mean)},
            {"diff", json_number(diff)}, {"rel", json_number(rel)}, {"n_a", std::to_string(sa.n)},
            {"n_b", std::to_string(sb.n)}, {"t", json_number(test.t)}, {"dof", json_number(test.dof)},
            {"p", json_number(test.p)}};
        if (!within.empty()) fields.insert(fields.begin(), {within, json_string(block.values[0])});
        json_rows.push_back(json_object(fields));
      }
    }
  }
  std::string named = columns.size() <= 3 ? join(columns) : p.get<std::string>("column");
  std::string headline = in.step.name + ": " + named + " between values of " + by +
                         (within.empty() ? "" : ", within each value of " + within) +
                         (welch ? " (Welch's t-test, two-sided)" : "");
  // what the groups pool besides `by` (and `within`): the seeds, and any other swept key
  std::vector<std::string> fixed = {by};
  if (!within.empty()) fixed.push_back(within);
  std::vector<std::string> pooled = pooled_keys(table, all_groups, fixed, "");
  std::string note = pooled.empty() ? "" : "\neach group pools its runs over " + join(pooled) + "\n";
  write_output(in.out, in.step.name, "md", "# " + in.step.name + "\n\n" + headline + "\n\n" + out.markdown() + note);
  write_output(in.out, in.step.name, "csv", csv.csv());
  write_output(in.out, in.step.name, "json",
               json_object({{"step", json_string(in.step.name)}, {"by", json_string(by)},
                            {"within", json_string(within)}, {"rows", json_array(json_rows)}}) + "\n");
  log_table("analysis " + headline, out);
}

}  // namespace

const StepKind aggregate_kind = {
    "aggregate", "mean, sd, sem, 95 % CI and n of metric columns over seeds, per group",
    [] {
      return Schema{}
          .strings("by", {}, "sweep keys (or columns) to group by (default: every sweep key but `over`)")
          .text("over", "seed", "the key whose runs are averaged over")
          .strings("columns", {}, "columns by name or glob (default: every metric column)")
          .strings("stats", {"mean", "sd", "sem", "ci95", "n"}, "statistics: mean, sd, sem, ci95, n, min, max");
    },
    {}, check_aggregate, run_aggregate};

const StepKind compare_kind = {
    "compare", "differences between groups (absolute, relative, Welch's t and p)",
    [] {
      return Schema{}
          .text("by", "", "the sweep key whose values are compared").required()
          .text("column", "", "the column, by name or glob (one comparison table per match)").required()
          .text("reference", "", "compare every value of `by` with this one (instead of `pairs`)")
          .text("within", "", "a second key: compare the pairs inside each of its values (one block of rows per value)")
          .choice("test", "welch", {"welch", "none"}, "the test when groups have two or more runs");
    },
    {{"pairs", "list", "[[a, b], ...]: values of `by` to compare, a against b"}},
    check_compare, run_compare};

}  // namespace wm::analysis
