// budget: how far an estimate fitted on a smaller sample budget lies from the reference budget's,
// per dimension, paired over seeds and in units of the reference std, beside the theoretical
// sampling error. Seed 003's 10K / 100K / 1M scaler study:
//   - budget: {by: procedure.1.fit_action_scaler.max_samples, reference: 1000000,
//              over: procedure.0.write_fixture.seed, mean: "fit_action_scaler/mean/*",
//              std: "fit_action_scaler/std/*"}
// For n rows, the mean's standard error is σ/√n and the std's about σ/√(2n) (normal rows). The
// budgets' rows are the first rows of the reference's, so Δ = est(n) − est(N) has sd
// σ·√(1/n − 1/N) and E|Δ| = √(2/π)·σ·√(1/n − 1/N) for the mean; both are printed.
#include <algorithm>
#include <cmath>
#include <map>

#include "analysis/analysis.h"
#include "analysis/output.h"
#include "analysis/stats.h"
#include "wm/error.h"

namespace wm::analysis {
namespace {

// "fit_action_scaler/mean/*" matched "fit_action_scaler/mean/mouse.dx" -> "mouse.dx"
std::string dimension_of(const std::string& pattern, const std::string& column) {
  size_t star = pattern.find('*');
  if (star == std::string::npos) return column;
  size_t tail = pattern.size() - star - 1;
  return column.substr(star, column.size() - star - tail);
}

// the rows of one value of `by`, keyed by their `over` value
std::map<std::string, size_t> rows_by_seed(const SummaryTable& table, const Group& group,
                                           size_t over) {
  std::map<std::string, size_t> rows;
  for (size_t row : group.rows) rows[table.cell(row, over)] = row;
  return rows;
}

void check_budget(const Step& step) {
  if (step.params.get<std::string>("mean").find('*') == std::string::npos ||
      step.params.get<std::string>("std").find('*') == std::string::npos)
    throw step.params.error("mean", "`mean` and `std` are globs with one `*` standing for the "
                                    "dimension, e.g. \"fit_action_scaler/mean/*\"");
}

void run_budget(const StepInput& in) {
  const SummaryTable& table = in.table;
  const Params& p = in.step.params;
  std::string by = p.get<std::string>("by"), over = p.get<std::string>("over");
  std::string reference = p.get<std::string>("reference");
  std::string mean_glob = p.get<std::string>("mean"), std_glob = p.get<std::string>("std");
  size_t over_column = table.column(over);
  std::vector<Group> groups = group_rows(table, {table.column(by)}, table.all_rows());
  const Group& ref = find_group(groups, reference, by);
  auto ref_n = parse_number(reference);
  if (!ref_n || *ref_n <= 0)
    throw Error("budget: the reference '" + reference + "' of " + by + " is not a positive count");
  auto ref_rows = rows_by_seed(table, ref, over_column);

  // dimensions: every column the mean glob matches that has a std partner
  std::vector<std::pair<std::string, std::string>> dims;  // mean column, std column
  for (const auto& column : table.match(mean_glob)) {
    std::string dim = dimension_of(mean_glob, column);
    std::string partner = std_glob.substr(0, std_glob.find('*')) + dim +
                          std_glob.substr(std_glob.find('*') + 1);
    table.column(partner);  // throws naming the columns that exist
    dims.push_back({column, partner});
  }

  // budgets in ascending order, the reference left out
  std::vector<const Group*> budgets;
  for (const auto& group : groups) {
    auto n = parse_number(group.values[0]);
    if (!n || *n <= 0)
      throw Error("budget: the value '" + group.values[0] + "' of " + by + " is not a positive count");
    if (!same_value(group.values[0], reference)) budgets.push_back(&group);
  }
  std::sort(budgets.begin(), budgets.end(), [](const Group* a, const Group* b) {
    return *parse_number(a->values[0]) < *parse_number(b->values[0]);
  });

  TextTable out, csv;
  out.header = {"dimension", "n", "|Δmean|/σ", "SE mean 1/√n", "E|Δmean|/σ", "|Δstd|/σ",
                "SE std 1/√(2n)", "seeds"};
  out.text_columns = 1;
  csv.header = {"dimension", "n", "reference_n", "abs_dmean_over_std", "abs_dmean_sd",
                "se_mean", "expected_abs_dmean", "abs_dstd_over_std", "abs_dstd_sd", "se_std",
                "expected_abs_dstd", "seeds"};
  std::vector<std::string> json_rows;
  std::vector<double> all_mean;  // over dimensions, per budget: the headline
  for (const Group* budget : budgets) {
    double n = *parse_number(budget->values[0]);
    auto rows = rows_by_seed(table, *budget, over_column);
    std::vector<double> pooled, pooled_std;
    for (const auto& [mean_column, std_column] : dims) {
      size_t mc = table.column(mean_column), sc = table.column(std_column);
      std::vector<double> dmean, dstd;
      for (const auto& [seed, row] : rows) {
        auto paired = ref_rows.find(seed);
        if (paired == ref_rows.end()) continue;
        auto m = table.number(row, mc), s = table.number(row, sc);
        auto rm = table.number(paired->second, mc), rs = table.number(paired->second, sc);
        if (!m || !s || !rm || !rs || *rs <= 0) continue;
        dmean.push_back(std::abs(*m - *rm) / *rs);
        dstd.push_back(std::abs(*s - *rs) / *rs);
      }
      if (dmean.empty())
        throw Error("budget: no " + over + " value has both " + by + " = " + budget->values[0] +
                    " and the reference " + reference + " (pairs are matched by " + over + ")");
      pooled.insert(pooled.end(), dmean.begin(), dmean.end());
      pooled_std.insert(pooled_std.end(), dstd.begin(), dstd.end());
      stats::Summary sm = stats::summarize(dmean), ss = stats::summarize(dstd);
      double se_mean = 1 / std::sqrt(n), se_std = 1 / std::sqrt(2 * n);
      double shrink = std::sqrt(std::max(0.0, 1 - n / *ref_n));  // nested: Δ's sd is SE·√(1 − n/N)
      double expected_mean = std::sqrt(2 / M_PI) * se_mean * shrink;
      double expected_std = std::sqrt(2 / M_PI) * se_std * shrink;
      std::string dim = dimension_of(mean_glob, mean_column);
      out.rows.push_back({dim, budget->values[0], fmt_pm(sm.mean, sm.sd), fmt(se_mean),
                          fmt(expected_mean), fmt_pm(ss.mean, ss.sd), fmt(se_std),
                          std::to_string(sm.n)});
      csv.rows.push_back({dim, budget->values[0], reference, full(sm.mean), full(sm.sd),
                          full(se_mean), full(expected_mean), full(ss.mean), full(ss.sd),
                          full(se_std), full(expected_std), std::to_string(sm.n)});
      json_rows.push_back(json_object(
          {{"dimension", json_string(dim)}, {"n", json_number(n)},
           {"abs_dmean_over_std", json_number(sm.mean)}, {"se_mean", json_number(se_mean)},
           {"expected_abs_dmean", json_number(expected_mean)},
           {"abs_dstd_over_std", json_number(ss.mean)}, {"se_std", json_number(se_std)},
           {"expected_abs_dstd", json_number(expected_std)}, {"seeds", std::to_string(sm.n)}}));
    }
    stats::Summary pooled_summary = stats::summarize(pooled), pooled_spread = stats::summarize(pooled_std);
    out.rows.push_back({"all (mean)", budget->values[0], fmt_pm(pooled_summary.mean, pooled_summary.sd),
                        fmt(1 / std::sqrt(n)),
                        fmt(std::sqrt(2 / M_PI) / std::sqrt(n) * std::sqrt(std::max(0.0, 1 - n / *ref_n))),
                        fmt_pm(pooled_spread.mean, pooled_spread.sd), fmt(1 / std::sqrt(2 * n)),
                        std::to_string(pooled_summary.n)});
    all_mean.push_back(pooled_summary.mean);
  }

  std::string headline = in.step.name + ": estimates at each " + by + " against " + reference +
                         ", paired by " + over + ", in units of the reference std; SE = 1/√n "
                         "(mean), 1/√(2n) (std); E|Δmean| = √(2/π)·√(1/n − 1/N)";
  std::string note = "\nΔ is the difference from the same seed's fit at " + reference +
                     "; mean ± sd over seeds. A budget's rows are the first rows of the reference's, "
                     "so E|Δmean|/σ = √(2/π)·√(1/n − 1/N) for independent rows.\n";
  write_output(in.out, in.step.name, "md",
               "# " + in.step.name + "\n\n" + headline + "\n\n" + out.markdown() + note);
  write_output(in.out, in.step.name, "csv", csv.csv());
  write_output(in.out, in.step.name, "json",
               json_object({{"step", json_string(in.step.name)}, {"by", json_string(by)},
                            {"reference", json_string(reference)}, {"over", json_string(over)},
                            {"rows", json_array(json_rows)}}) + "\n");
  log_table("analysis " + headline, out);
}

}  // namespace

const StepKind budget_kind = {
    "budget", "estimates at smaller budgets vs the reference budget, with the theoretical SE",
    [] {
      return Schema{}
          .text("by", "", "the sweep key holding the budget (a row count)").required()
          .text("reference", "", "the budget the others are compared with").required()
          .text("over", "seed", "the sweep key pairing runs (the same fixture seed)")
          .text("mean", "", "glob of the per-dimension mean columns, one `*` for the dimension")
          .required()
          .text("std", "", "glob of the matching std columns").required();
    },
    {}, check_budget, run_budget};

}  // namespace wm::analysis
