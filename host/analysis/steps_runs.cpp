// Steps that read the runs themselves, not only summary.csv:
//   minimum  the smallest N meeting every criterion; its config.yaml becomes min_viable.yaml
//   curves   a metrics.jsonl column over steps, one line per group, mean over seeds, log-y; its
//            value at chosen steps, Spearman's rho against the step, and a verdict from rules
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "analysis/analysis.h"
#include "analysis/expression.h"
#include "analysis/output.h"
#include "analysis/stats.h"
#include "report/plot.h"
#include "wm/error.h"
#include "wm/io/json.h"
#include "wm/log.h"

namespace wm::analysis {
namespace {

//---- minimum ----

std::vector<Expression> criteria_of(const Step& step) {
  std::vector<Expression> criteria;
  for (const auto& text : step.params.get<StringList>("criteria")) {
    try {
      Expression criterion = Expression::parse(text);
      if (!criterion.functions().empty())
        throw Error("criteria read columns by name and `chance`; no calls such as " +
                    criterion.functions().front() + "()");
      criteria.push_back(criterion);
    } catch (const Error& e) {
      throw step.params.error("criteria", e.what());
    }
  }
  if (criteria.empty()) throw step.params.error("criteria", "names no criterion");
  return criteria;
}

void check_minimum(const Step& step) { criteria_of(step); }

// a criterion's names: `chance`, or a column's mean over the runs at one N
class ColumnScope : public ExpressionScope {
 public:
  ColumnScope(const SummaryTable& table, const std::vector<size_t>& rows, double chance)
      : table_(table), rows_(rows), chance_(chance) {}
  double name(const std::string& name) const override {
    if (name == "chance") return chance_;
    return stats::summarize(values_of(table_, table_.column(name), rows_)).mean;
  }
  double call(const std::string& function, const std::vector<std::string>&) const override {
    throw Error("no function " + function + "() in criteria");
  }

 private:
  const SummaryTable& table_;
  const std::vector<size_t>& rows_;
  double chance_;
};

void run_minimum(const StepInput& in) {
  const SummaryTable& table = in.table;
  std::string x = table.resolve(in.step.params.get<std::string>("x"));
  double chance = in.step.params.get<double>("chance");
  std::vector<Expression> criteria = criteria_of(in.step);
  std::vector<std::string> columns;  // every column the criteria read, in order
  for (const auto& criterion : criteria)
    for (const auto& name : criterion.names())
      if (name != "chance" && std::find(columns.begin(), columns.end(), name) == columns.end())
        columns.push_back((table.column(name), name));

  // groups of runs by N, smallest first
  std::vector<Group> groups = group_rows(table, {table.column(x)}, table.all_rows());
  std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    auto p = parse_number(a.values[0]), q = parse_number(b.values[0]);
    return p && q ? *p < *q : a.values[0] < b.values[0];
  });
  TextTable out;
  out.header = {x, "runs"};
  for (const auto& column : columns) out.header.push_back(column + " (mean)");
  for (const auto& criterion : criteria) out.header.push_back(criterion.text());
  out.header.push_back("all");
  const Group* chosen = nullptr;
  std::vector<std::string> json_rows;
  for (const auto& group : groups) {
    ColumnScope scope(table, group.rows, chance);
    std::vector<std::string> row = {group.values[0], std::to_string(group.rows.size())};
    std::vector<std::pair<std::string, std::string>> means;
    for (const auto& column : columns) {
      double mean = scope.name(column);
      row.push_back(fmt(mean)), means.push_back({column, json_number(mean)});
    }
    bool all = true;
    std::vector<std::string> held;
    for (const auto& criterion : criteria) {
      double value = criterion.evaluate(scope);
      bool holds = !std::isnan(value) && value != 0;
      all = all && holds;
      row.push_back(holds ? "yes" : "no"), held.push_back(holds ? "true" : "false");
    }
    row.push_back(all ? "yes" : "no");
    out.rows.push_back(row);
    if (all && !chosen) chosen = &group;
    json_rows.push_back(json_object({{"x", json_string(group.values[0])}, {"means", json_object(means)},
                                     {"criteria", json_array(held)}, {"all", all ? "true" : "false"}}));
  }

  // the minimal point's config, as a file to start from
  std::string file_name = (in.step.name == "minimum" ? std::string("min_viable") : in.step.name) + ".yaml";
  std::string verdict;
  std::filesystem::remove(in.out / file_name);
  if (chosen) {
    std::filesystem::path config = table.run_dir(chosen->rows.front()) / "config.yaml";
    verdict = "minimum viable " + x + ": " + chosen->values[0];
    if (std::filesystem::exists(config)) {
      write_output(in.out, file_name.substr(0, file_name.size() - 5), "yaml", read_text(config));
      verdict += " (its config: " + (in.out / file_name).string() + ", from run " + table.cell(chosen->rows.front(), 0) + ")";
    } else {
      verdict += " (no config.yaml in " + table.run_dir(chosen->rows.front()).string() + " to copy)";
    }
  } else {
    verdict = "no " + x + " meets every criterion";
  }
  std::string intro = "the smallest " + x + " whose means over runs meet every criterion (chance = " + fmt(chance) + ")";
  write_output(in.out, in.step.name, "md", "# " + in.step.name + "\n\n**" + verdict + "**\n\n" + intro + "\n\n" + out.markdown());
  write_output(in.out, in.step.name, "csv", out.csv());
  write_output(in.out, in.step.name, "json",
               json_object({{"step", json_string(in.step.name)}, {"x", json_string(x)},
                            {"minimum", chosen ? json_string(chosen->values[0]) : "null"},
                            {"verdict", json_string(verdict)}, {"rows", json_array(json_rows)}}) + "\n");
  log_table("analysis " + in.step.name + ": " + intro, out);
  log().info("analysis {}: {}", in.step.name, verdict);
}

//---- curves ----

// `train/loss`, `evaluate[val]/psnr`: the procedure, its label ("" for any) and the key
struct CurveColumn {
  std::string procedure, label, key;
};

CurveColumn parse_curve_column(const std::string& column) {
  size_t bracket = column.find('['), close = column.find(']');
  size_t slash = column.find('/', close == std::string::npos ? 0 : close);
  if (slash == std::string::npos || slash == 0 || slash + 1 == column.size() ||
      (bracket != std::string::npos && (close == std::string::npos || bracket > slash)))
    throw Error("expected <procedure>/<key> or <procedure>[<label>]/<key>, got '" + column + "'");
  CurveColumn parsed;
  parsed.procedure = column.substr(0, std::min(bracket, slash));
  if (bracket != std::string::npos) parsed.label = column.substr(bracket + 1, close - bracket - 1);
  parsed.key = column.substr(slash + 1);
  return parsed;
}

const std::vector<std::string> kCurveFunctions = {"at", "first", "last", "min", "max", "rho"};

void check_curves(const Step& step) {
  try {
    parse_curve_column(step.params.get<std::string>("column"));
  } catch (const Error& e) {
    throw step.params.error("column", e.what());
  }
  if (step.node.find("rules")) bind_rules(step, kCurveFunctions);
}

// one group's mean curve
struct MeanCurve {
  std::string value;  // the group's value of `by` (one key), what rules name it by
  std::vector<double> x, mean;
  // the mean at the last logged x <= at (NaN before the first)
  double at(double position) const {
    double value = NAN;
    for (size_t i = 0; i < x.size() && x[i] <= position; ++i) value = mean[i];
    return value;
  }
};

// rules read the groups' curves: at(g, x), first(g), last(g), min(g), max(g), rho(g)
class CurveScope : public ExpressionScope {
 public:
  CurveScope(const std::vector<MeanCurve>& curves, std::string by) : curves_(curves), by_(std::move(by)) {}
  double name(const std::string& name) const override { throw Error("'" + name + "' is not a number or a call"); }
  double call(const std::string& function, const std::vector<std::string>& args) const override {
    size_t arity = function == "at" ? 2 : 1;
    if (args.size() != arity)
      throw Error(function + "() takes " + (arity == 2 ? "a value of " + by_ + " and a step" : "a value of " + by_));
    const MeanCurve* curve = nullptr;
    std::vector<std::string> values;
    for (const auto& c : curves_) {
      if (same_value(c.value, args[0])) curve = &c;
      values.push_back(c.value);
    }
    if (!curve) throw Error("no curve with " + by_ + " = " + args[0] + "; " + by_ + " has: " + join(values));
    double value = NAN;
    if (function == "at") {
      auto position = parse_number(args[1]);
      if (!position) throw Error("at(): '" + args[1] + "' is not a step");
      value = curve->at(*position);
    } else if (function == "first") value = curve->mean.front();
    else if (function == "last") value = curve->mean.back();
    else if (function == "min") value = *std::min_element(curve->mean.begin(), curve->mean.end());
    else if (function == "max") value = *std::max_element(curve->mean.begin(), curve->mean.end());
    else if (function == "rho") value = stats::spearman(curve->x, curve->mean);
    calls.push_back(function + "(" + join(args) + ") = " + fmt(value));
    return value;
  }
  mutable std::vector<std::string> calls;

 private:
  const std::vector<MeanCurve>& curves_;
  std::string by_;
};

// one run's (x, y) pairs of the column; `seen` collects what the file holds, for messages
std::vector<std::pair<double, double>> run_curve(const std::filesystem::path& file, const CurveColumn& column,
                                                 const std::string& x, std::set<std::string>& seen) {
  std::vector<std::pair<double, double>> points;
  for (const auto& line : io::json::parse_lines(read_text(file), file.string())) {
    const io::json::Value* procedure = line.find("procedure");
    if (!procedure || !procedure->is_string()) continue;
    bool labelled = column.label.empty();
    for (const auto& [key, value] : line.members()) {
      if (value.is_number()) seen.insert(procedure->as_string() + "/" + key);
      if (key != "procedure" && value.is_string() && value.as_string() == column.label) labelled = true;
    }
    const io::json::Value* y = line.find(column.key);
    if (procedure->as_string() != column.procedure || !labelled || !y || !y->is_number()) continue;
    const io::json::Value* at = line.find(x);
    double position = at && at->is_number() ? at->as_number() : static_cast<double>(points.size());
    points.push_back({position, y->as_number()});
  }
  return points;
}

void run_curves(const StepInput& in) {
  const SummaryTable& table = in.table;
  const Params& p = in.step.params;
  std::string name = p.get<std::string>("column"), x = p.get<std::string>("x"), over = p.get<std::string>("over");
  CurveColumn column = parse_curve_column(name);
  StringList by = p.get<StringList>("by");
  std::vector<size_t> by_columns = group_columns(table, by, over);
  RealList at_steps = p.get<RealList>("at");
  std::string at_label = p.get<std::string>("at_label").empty() ? column.key : p.get<std::string>("at_label");
  bool trend = p.get<bool>("trend");
  bool has_rules = in.step.node.find("rules") != nullptr;
  if (has_rules && by_columns.size() != 1)
    throw Error("rules name the groups by one key; `by` gives " + std::to_string(by_columns.size()) +
                " (set `by:` to one sweep key)");

  LinePlot plot;
  plot.title = in.step.name + ": " + name + " (mean over " + over + ")";
  plot.x_label = x, plot.y_label = name, plot.log_y = p.get<bool>("log_y");
  TextTable out, csv;
  out.header = {by.empty() ? "runs" : join(by), "runs", "points", "last " + x, "last mean ± sd", "lowest mean"};
  if (has_rules) out.header[0] = table.header[by_columns[0]];
  for (double position : at_steps) out.header.push_back(at_label + "@" + fmt(position));
  if (trend) out.header.push_back("Spearman ρ (" + x + ")");
  std::vector<MeanCurve> curves;
  csv.header = {"group", x, "mean", "sd", "n"};
  std::vector<std::string> json_groups;
  std::set<std::string> seen;
  for (const auto& group : group_rows(table, by_columns, table.all_rows())) {
    std::map<double, std::vector<double>> at;  // x -> one y per run
    for (size_t row : group.rows) {
      auto file = table.run_dir(row) / "metrics.jsonl";
      if (!std::filesystem::exists(file)) {
        log().warn("analysis {}: no {}", in.step.name, file.string());
        continue;
      }
      for (const auto& [position, value] : run_curve(file, column, x, seen)) at[position].push_back(value);
    }
    if (at.empty()) continue;
    std::string label = by.empty() ? "all runs" : group.label();
    Series series;
    series.label = label;
    std::vector<double> xs, means, sds;
    double lowest = INFINITY;
    for (const auto& [position, values] : at) {
      stats::Summary s = stats::summarize(values);
      series.points.push_back({position, s.mean});
      xs.push_back(position), means.push_back(s.mean), sds.push_back(s.sd);
      lowest = std::min(lowest, s.mean);
      csv.rows.push_back({label, full(position), full(s.mean), full(s.sd), std::to_string(s.n)});
    }
    stats::Summary last = stats::summarize(at.rbegin()->second);
    out.rows.push_back({label, std::to_string(group.rows.size()), std::to_string(at.size()), fmt(at.rbegin()->first),
                        fmt_pm(last.mean, last.sd), fmt(lowest)});
    MeanCurve curve{group.values.empty() ? "" : group.values[0], xs, means};
    for (double position : at_steps) out.rows.back().push_back(std::isnan(curve.at(position)) ? "—" : fmt(curve.at(position)));
    if (trend) out.rows.back().push_back(fmt(stats::spearman(xs, means)));
    curves.push_back(curve);
    plot.series.push_back(series);
    json_groups.push_back(json_object({{"group", json_string(label)}, {"x", json_numbers(xs)},
                                       {"mean", json_numbers(means)}, {"sd", json_numbers(sds)}}));
  }
  if (out.rows.empty())
    throw Error("no run's metrics.jsonl has " + name + did_you_mean(name, {seen.begin(), seen.end()}) +
                "; they hold: " + (seen.empty() ? "nothing" : join({seen.begin(), seen.end()})));
  std::string intro = name + " against " + x + ", mean over " + over + " at each " + x;
  if (!at_steps.empty()) intro += "; " + at_label + "@s: the mean at the last logged " + x + " ≤ s";
  std::string extra, verdict;
  if (has_rules) {
    std::vector<Rule> rules = bind_rules(in.step, kCurveFunctions);
    std::vector<RuleResult> results;
    CurveScope scope(curves, table.header[by_columns[0]]);
    verdict = apply_rules(rules, scope, scope.calls, results);
    out.header.push_back("verdict");
    for (auto& row : out.rows) row.push_back(verdict);
    extra = "\n**verdict: " + verdict + "**\n\nrules, in order (the first that holds decides):\n\n" +
            rules_table(rules, results).markdown();
    log().info("analysis {}: verdict: {}", in.step.name, verdict);
  }
  write_output(in.out, in.step.name, "md", "# " + in.step.name + "\n\n" + intro + "\n\n" + out.markdown() + extra);
  write_output(in.out, in.step.name, "csv", csv.csv());
  write_output(in.out, in.step.name, "json",
               json_object({{"step", json_string(in.step.name)}, {"column", json_string(name)},
                            {"x", json_string(x)}, {"groups", json_array(json_groups)},
                            {"verdict", has_rules ? json_string(verdict) : "null"}}) + "\n");
  plot.write(in.out / (in.step.name + ".svg"));
  log_table("analysis " + in.step.name + ": " + intro, out);
}

}  // namespace

const StepKind minimum_kind = {
    "minimum", "the smallest N meeting every criterion; copies its config to min_viable.yaml",
    [] {
      return Schema{}
          .text("x", "train*/train_size", "N: a sweep key or a column, by name or glob (one match)")
          .strings("criteria", {}, "conditions on column means, e.g. \"evaluate[val]/lpips < 0.4\"")
          .required()
          .real("chance", 0, "the value of `chance` in the criteria");
    },
    {}, check_minimum, run_minimum};

const StepKind curves_kind = {
    "curves", "a metrics.jsonl column over steps, one line per group, mean over seeds (log-y)",
    [] {
      return Schema{}
          .text("column", "train/loss", "<procedure>/<key> or <procedure>[<label>]/<key> in metrics.jsonl")
          .strings("by", {}, "sweep keys, one line per group (default: every sweep key but `over`)")
          .text("over", "seed", "the key whose runs are averaged over")
          .text("x", "step", "the metrics.jsonl key on the x axis (its line number when absent)")
          .boolean("log_y", true, "a log y axis")
          .reals("at", {}, "steps to tabulate each group's mean at (the last logged x ≤ each), e.g. [0, 250, 1000]")
          .text("at_label", "", "header of those columns, `<at_label>@<step>` (default: the column's key)")
          .boolean("trend", false, "add Spearman's ρ of each group's mean curve against x");
    },
    {{"rules", "list",
      "optional verdict, as decide's: [{when: \"at(2, 1000) <= 0.5 && min(0) >= 0.8\", say: TEXT}, ..., "
      "{otherwise: TEXT}]; functions at(g, step), first, last, min, max, rho of a value g of `by` (one key)"}},
    check_curves, run_curves};

}  // namespace wm::analysis
