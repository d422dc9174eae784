// decide: rules over the groups of one column, the first that holds gives the verdict.
//   decide: {rules: [{when: "rel(0.9, 0.5) > 0.20", say: "..."}, {otherwise: "..."}]}
#include <algorithm>
#include <cmath>

#include "analysis/analysis.h"
#include "analysis/expression.h"
#include "analysis/output.h"
#include "analysis/stats.h"
#include "wm/error.h"
#include "wm/log.h"

namespace wm::analysis {
namespace {

const std::vector<std::string> kFunctions = {"mean", "sd", "sem", "n", "diff", "rel", "t", "p"};

// by, column and within: the step's own, else those of the compare or aggregate step before it
struct Target {
  std::string by, column, within;
};
Target target_of(const Step& step) {
  Target target{step.params.get<std::string>("by"), step.params.get<std::string>("column"),
                step.params.get<std::string>("within")};
  if (target.by.empty()) target.by = step.inherited_by;
  if (target.column.empty()) target.column = step.inherited_column;
  if (target.within.empty() && step.params.get<std::string>("by").empty()) target.within = step.inherited_within;
  return target;
}

void check_decide(const Step& step) {
  bind_rules(step, kFunctions);
  Target target = target_of(step);
  if (target.by.empty() || target.column.empty())
    throw ConfigError(step.loc, step.key_path,
                      "needs `by:` and `column:` (or a compare step before it to take them from)");
}

// the groups of `by`, read through mean(g), diff(a, b), p(a, b), ...; each call is recorded
class GroupScope : public ExpressionScope {
 public:
  GroupScope(const SummaryTable& table, std::string by, size_t column, const std::vector<size_t>& rows)
      : table_(table), by_(std::move(by)), column_(column),
        groups_(group_rows(table, {table.column(by_)}, rows)) {}

  double name(const std::string& name) const override {
    throw Error("'" + name + "' is not a number or a call");
  }
  double call(const std::string& function, const std::vector<std::string>& args) const override {
    bool pair = function == "diff" || function == "rel" || function == "t" || function == "p";
    if (args.size() != (pair ? 2u : 1u))
      throw Error(function + "() takes " + (pair ? "two values" : "one value") + " of " + by_);
    std::vector<double> a = values(args[0]);
    stats::Summary sa = stats::summarize(a);
    double value = NAN;
    if (function == "mean") value = sa.mean;
    else if (function == "sd") value = sa.sd;
    else if (function == "sem") value = sa.sem;
    else if (function == "n") value = static_cast<double>(sa.n);
    else {
      std::vector<double> b = values(args[1]);
      stats::Summary sb = stats::summarize(b);
      if (function == "diff") value = sa.mean - sb.mean;
      else if (function == "rel") value = (sa.mean - sb.mean) / std::abs(sb.mean);
      else if (a.size() >= 2 && b.size() >= 2) {
        stats::WelchResult test = stats::welch_t_test(a, b);
        value = function == "t" ? test.t : test.p;
      }
    }
    calls.push_back(function + "(" + join(args) + ") = " + fmt(value));
    return value;
  }
  const std::vector<Group>& groups() const { return groups_; }
  std::vector<double> values(const std::string& group) const {
    return values_of(table_, column_, find_group(groups_, group, by_).rows);
  }
  mutable std::vector<std::string> calls;

 private:
  const SummaryTable& table_;
  std::string by_;
  size_t column_;
  std::vector<Group> groups_;
};

void run_decide(const StepInput& in) {
  auto [by, pattern, within] = target_of(in.step);
  std::vector<std::string> columns = in.table.match(pattern);
  if (columns.size() != 1)
    throw Error("decide reads one column; '" + pattern + "' matches " + join(columns));
  size_t column = in.table.column(columns[0]);
  std::vector<Rule> rules = bind_rules(in.step, kFunctions);
  // with `within: demos`, the rules are applied inside each value of demos: one verdict each
  std::vector<Group> blocks = within.empty()
                                  ? std::vector<Group>{Group{{}, in.table.all_rows()}}
                                  : group_rows(in.table, {in.table.column(within)}, in.table.all_rows());

  std::string md = "# " + in.step.name + "\n\n";
  TextTable csv;
  std::vector<std::string> json_blocks;
  for (const Group& block : blocks) {
    std::string where = within.empty() ? "" : within + " = " + block.values[0];
    GroupScope scope(in.table, by, column, block.rows);
    std::vector<RuleResult> results;
    std::string verdict = apply_rules(rules, scope, scope.calls, results);
    TextTable decisions = rules_table(rules, results);
    std::vector<std::string> json_rules;
    for (size_t i = 0; i < rules.size(); ++i) {
      std::vector<std::string> calls;
      for (const auto& call : results[i].values) calls.push_back(json_string(call));
      json_rules.push_back(json_object({{"when", rules[i].when ? json_string(rules[i].when->text()) : "null"},
                                        {"say", json_string(rules[i].say)},
                                        {"holds", results[i].holds ? "true" : "false"},
                                        {"values", json_array(calls)}}));
    }
    TextTable groups;
    groups.header = {by, "n", "mean", "sd"};
    for (const auto& group : scope.groups()) {
      stats::Summary s = stats::summarize(scope.values(group.values[0]));
      groups.rows.push_back({group.values[0], std::to_string(s.n), fmt(s.mean), fmt(s.sd)});
    }
    if (!where.empty()) md += "## " + where + "\n\n";
    md += "**verdict" + (where.empty() ? "" : " at " + where) + ": " + verdict + "**\n\n" + columns[0] +
          " by " + by + "\n\n" + groups.markdown() +
          "\nrules, in order (the first that holds decides):\n\n" + decisions.markdown() + "\n";
    // csv: the rules table, with the value of `within` in front of each row when there is one
    if (csv.header.empty()) {
      csv.header = decisions.header;
      if (!within.empty()) csv.header.insert(csv.header.begin(), within);
    }
    for (auto row : decisions.rows) {
      if (!within.empty()) row.insert(row.begin(), block.values[0]);
      csv.rows.push_back(row);
    }
    std::vector<std::pair<std::string, std::string>> fields = {
        {"step", json_string(in.step.name)}, {"by", json_string(by)}, {"column", json_string(columns[0])},
        {"rules", json_array(json_rules)}, {"verdict", json_string(verdict)}};
    if (!within.empty()) fields.insert(fields.begin() + 1, {within, json_string(block.values[0])});
    json_blocks.push_back(json_object(fields));
    log_table("analysis " + in.step.name + ": " + columns[0] + " by " + by + (where.empty() ? "" : ", " + where),
              decisions);
    log().info("analysis {}: verdict{}: {}", in.step.name, where.empty() ? "" : " at " + where, verdict);
  }
  write_output(in.out, in.step.name, "md", md);
  write_output(in.out, in.step.name, "csv", csv.csv());
  // one block: the object itself; with `within`: {"within": key, "blocks": [one object per value]}
  write_output(in.out, in.step.name, "json",
               (within.empty() ? json_blocks[0]
                               : json_object({{"step", json_string(in.step.name)}, {"within", json_string(within)},
                                              {"blocks", json_array(json_blocks)}})) + "\n");
}

}  // namespace

std::vector<Rule> bind_rules(const Step& step, const std::vector<std::string>& functions) {
  const ConfigNode* list = step.node.find("rules");
  std::string at = step.key_path + ".rules";
  if (!list || !list->is_sequence() || list->items.empty())
    throw ConfigError(list ? list->loc : step.loc, at,
                      "needs a list of rules: [{when: \"rel(a, b) > 0.2\", say: \"...\"}, {otherwise: \"...\"}]");
  std::vector<Rule> rules;
  for (size_t i = 0; i < list->items.size(); ++i) {
    const ConfigNode& item = list->items[i];
    std::string here = at + "." + std::to_string(i);
    const ConfigNode* when = item.is_map() ? item.find("when") : nullptr;
    const ConfigNode* say = item.is_map() ? item.find("say") : nullptr;
    const ConfigNode* otherwise = item.is_map() ? item.find("otherwise") : nullptr;
    bool rule = when && say && when->is_scalar() && say->is_scalar() && item.entries.size() == 2;
    bool fallback = otherwise && otherwise->is_scalar() && item.entries.size() == 1;
    if (!rule && !fallback)
      throw ConfigError(item.loc, here, "each rule is {when: EXPRESSION, say: TEXT} or {otherwise: TEXT}");
    if (fallback) {
      if (i + 1 != list->items.size())
        throw ConfigError(item.loc, here, "`otherwise` must be the last rule");
      rules.push_back({std::nullopt, otherwise->scalar, here});
      continue;
    }
    try {
      Expression expression = Expression::parse(when->scalar);
      for (const auto& function : expression.functions())
        if (std::find(functions.begin(), functions.end(), function) == functions.end())
          throw Error("unknown function '" + function + "'" + did_you_mean(function, functions) +
                      "; functions: " + join(functions));
      for (const auto& name : expression.names())
        throw Error("'" + name + "' is not a number or a call; rules read groups through " + join(functions));
      rules.push_back({expression, say->scalar,
                       here + ".when" + (when->loc.known() ? " at " + when->loc.str() : "")});
    } catch (const ConfigError&) {
      throw;
    } catch (const Error& e) {
      throw ConfigError(when->loc, here + ".when", e.what());
    }
  }
  return rules;
}

const StepKind decide_kind = {
    "decide", "rules over the groups of a column; the first that holds is the verdict",
    [] {
      return Schema{}
          .text("by", "", "the sweep key whose values the rules name (default: the compare step's)")
          .text("column", "", "the column the rules read (default: the compare step's)")
          .text("within", "", "a second key: apply the rules inside each of its values, one verdict each "
                              "(default: the compare step's, when `by` is not given)");
    },
    {{"rules", "list",
      "[{when: \"rel(0.9, 0.5) > 0.2\", say: TEXT}, ..., {otherwise: TEXT}]; functions mean, sd, "
      "sem, n of a value of `by`; diff, rel, t, p of two"}},
    check_decide, run_decide};

}  // namespace wm::analysis
