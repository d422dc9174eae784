// Steps that read conditions off a reference learning curve (spec X4):
//   transfer    pretrained vs scratch: efficiency, target-data reduction, negative transfer
//   multiplier  each condition's N_equiv on the baseline's power law, / N
//   efficiency  tiers of data: per-sample gain and the worth of one curated sample
#include <algorithm>
#include <cmath>

#include "analysis/analysis.h"
#include "analysis/curve_data.h"
#include "analysis/output.h"
#include "report/plot.h"
#include "wm/error.h"

namespace wm::analysis {
namespace {

// rows whose `key` equals `value` (or differs from it)
std::vector<size_t> rows_where(const SummaryTable& table, const std::string& key, const std::string& value,
                               bool equal = true) {
  std::vector<size_t> rows;
  size_t column = table.column(key);
  for (size_t row : table.all_rows())
    if (same_value(table.cell(row, column), value) == equal) rows.push_back(row);
  return rows;
}

std::vector<size_t> intersect(const std::vector<size_t>& a, const std::vector<size_t>& b) {
  std::vector<size_t> out;
  for (size_t row : a)
    if (std::find(b.begin(), b.end(), row) != b.end()) out.push_back(row);
  return out;
}

// a log-x plot of each curve's mean ± sd
void plot_curves(const StepInput& in, const std::vector<std::pair<std::string, CurveData>>& curves,
                 const stats::CurveFit* fit, const std::string& fit_label) {
  LinePlot plot;
  plot.title = in.step.name + ": " + (curves.empty() ? "" : curves.front().second.y);
  plot.x_label = curves.empty() ? "" : curves.front().second.x;
  plot.y_label = curves.empty() ? "" : curves.front().second.y;
  plot.log_x = true;
  double low = INFINITY, high = 0;
  for (const auto& [label, data] : curves) {
    Series series;
    series.label = label;
    series.markers = true;
    for (const auto& point : data.points) {
      series.points.push_back({point.n, point.summary.mean}), series.errors.push_back(point.summary.sd);
      low = std::min(low, point.n), high = std::max(high, point.n);
    }
    plot.series.push_back(series);
  }
  if (fit && high > 0) {
    Series line;
    line.label = fit_label;
    line.dashed = true;
    for (double n : log_grid(low, high)) line.points.push_back({n, fit->predict(n)});
    plot.series.push_back(line);
  }
  plot.write(in.out / (in.step.name + ".svg"));
}

void write_all(const StepInput& in, const std::string& intro, const TextTable& table,
               const std::string& extra_md, const std::string& json) {
  write_output(in.out, in.step.name, "md", "# " + in.step.name + "\n\n" + intro + "\n\n" + table.markdown() + extra_md);
  write_output(in.out, in.step.name, "csv", table.csv());
  write_output(in.out, in.step.name, "json", json + "\n");
  log_table("analysis " + in.step.name + ": " + intro, table);
}

//---- transfer ----

void run_transfer(const StepInput& in) {
  const Params& p = in.step.params;
  const SummaryTable& table = in.table;
  std::string by = p.get<std::string>("by"), scratch = p.get<std::string>("scratch");
  std::string target = p.get<std::string>("target"), x = p.get<std::string>("x"), y = p.get<std::string>("column");
  double sign = p.get<bool>("higher_is_better") ? 1 : -1;
  std::vector<Group> sources = group_rows(table, {table.column(by)}, table.all_rows());
  find_group(sources, scratch, by);
  std::vector<Group> targets = target.empty() ? std::vector<Group>{{{""}, table.all_rows()}}
                                              : group_rows(table, {table.column(target)}, table.all_rows());

  TextTable rows, matrix;
  rows.header = {"source", "N", "scratch", "pretrained", "efficiency", "p", "negative transfer"};
  if (!target.empty()) rows.header.insert(rows.header.begin(), "target");
  rows.text_columns = target.empty() ? 1 : 2;
  matrix.header = {"source \\ target"};
  for (const auto& t : targets) matrix.header.push_back(t.values[0].empty() ? y : t.values[0]);
  std::vector<std::string> json_rows, json_matrix;
  std::vector<std::pair<std::string, CurveData>> curves;
  for (const auto& source : sources) {
    if (same_value(source.values[0], scratch)) continue;
    std::vector<std::string> matrix_row = {source.values[0]};
    for (const auto& t : targets) {
      CurveData scr = curve_data(table, x, y, intersect(find_group(sources, scratch, by).rows, t.rows));
      CurveData pre = curve_data(table, x, y, intersect(source.rows, t.rows));
      if (scr.points.empty() || pre.points.empty()) {
        matrix_row.push_back("—");
        continue;
      }
      double efficiency_sum = 0;
      int efficiency_count = 0;
      for (const auto& point : pre.points) {
        const CurvePoint* base = scr.at(point.n);
        if (!base) continue;
        double efficiency = sign * (point.summary.mean - base->summary.mean) / std::abs(base->summary.mean);
        double pv = point.values.size() >= 2 && base->values.size() >= 2
                        ? stats::welch_t_test(point.values, base->values).p : NAN;
        bool negative = efficiency < 0 && pv < 0.05;
        efficiency_sum += efficiency, ++efficiency_count;
        std::vector<std::string> row = {source.values[0], fmt_n(point.n), fmt(base->summary.mean),
                                        fmt(point.summary.mean), fmt(efficiency), fmt(pv), negative ? "yes" : "no"};
        if (!target.empty()) row.insert(row.begin(), t.values[0]);
        rows.rows.push_back(row);
        json_rows.push_back(json_object({{"source", json_string(source.values[0])}, {"target", json_string(t.values[0])},
                                         {"n", json_number(point.n)}, {"scratch", json_number(base->summary.mean)},
                                         {"pretrained", json_number(point.summary.mean)},
                                         {"efficiency", json_number(efficiency)}, {"p", json_number(pv)},
                                         {"negative_transfer", negative ? "true" : "false"}}));
      }
      // target-data reduction: N_pre on the pretrained power law reaching scratch's best
      double reduction = NAN, n_pre = NAN;
      if (pre.points.size() >= 3) {
        stats::CurveFit fit = fit_checked(stats::CurveModel::PowerLaw, pre);
        n_pre = stats::inverse(fit, scr.points.back().summary.mean);
        reduction = 1 - n_pre / scr.max_n();
      }
      double mean_efficiency = efficiency_count ? efficiency_sum / efficiency_count : NAN;
      matrix_row.push_back(fmt(mean_efficiency) + " (reduction " + fmt(reduction) + ")");
      json_matrix.push_back(json_object({{"source", json_string(source.values[0])}, {"target", json_string(t.values[0])},
                                         {"mean_efficiency", json_number(mean_efficiency)},
                                         {"n_pre", json_number(n_pre)}, {"n_max", json_number(scr.max_n())},
                                         {"reduction", json_number(reduction)}}));
      if (targets.size() == 1) {
        if (curves.empty()) curves.push_back({scratch, scr});
        curves.push_back({source.values[0], pre});
      }
    }
    matrix.rows.push_back(matrix_row);
  }
  std::string intro = y + " against " + x + ", pretrained (" + by + ") vs " + by + " = " + scratch +
                      "; efficiency = (y_pre − y_scratch)/|y_scratch|" + (sign < 0 ? ", sign-flipped (lower is better)" : "") +
                      "; negative transfer: efficiency < 0 with Welch p < 0.05";
  std::string extra = "\nmean efficiency over N, and the target-data reduction 1 − N_pre/N_max (N_pre: where the "
                      "pretrained power law reaches scratch at its largest N):\n\n" + matrix.markdown();
  write_all(in, intro, rows, extra,
            json_object({{"step", json_string(in.step.name)}, {"rows", json_array(json_rows)},
                         {"matrix", json_array(json_matrix)}}));
  if (!curves.empty()) plot_curves(in, curves, nullptr, "");
}

//---- multiplier ----

void run_multiplier(const StepInput& in) {
  const Params& p = in.step.params;
  const SummaryTable& table = in.table;
  std::string baseline = p.get<std::string>("baseline"), x = p.get<std::string>("x"), y = p.get<std::string>("column");
  size_t eq = baseline.find('=');
  std::string key = baseline.substr(0, eq), value = baseline.substr(eq + 1);
  CurveData base = curve_data(table, x, y, rows_where(table, key, value));
  stats::CurveFit fit = fit_checked(stats::CurveModel::PowerLaw, base);
  double pass = p.get<double>("pass");

  TextTable out;
  out.header = {key, "N", "mean", "N_equiv", "multiplier", "> " + fmt(pass) + "×"};
  std::vector<std::string> json_rows;
  std::vector<std::pair<std::string, CurveData>> curves = {{baseline, base}};
  bool any_beyond = false;
  for (const auto& group : group_rows(table, {table.column(key)}, rows_where(table, key, value, false))) {
    CurveData data = curve_data(table, x, y, group.rows);
    for (const auto& point : data.points) {
      double n_equiv = stats::inverse(fit, point.summary.mean), multiplier = n_equiv / point.n;
      // past the asymptote c, on the side the baseline only approaches: no amount of baseline
      // data gets there, which passes any multiplier
      bool beyond = std::isnan(n_equiv) && fit.params[1] != 0 && (point.summary.mean - fit.params[2]) * fit.params[0] <= 0;
      any_beyond = any_beyond || beyond;
      bool passed = beyond || multiplier > pass;
      out.rows.push_back({group.values[0], fmt_n(point.n), fmt_pm(point.summary.mean, point.summary.sd),
                          beyond ? "∞ (past c)" : fmt(n_equiv), beyond ? "∞" : fmt(multiplier), passed ? "pass" : "fail"});
      json_rows.push_back(json_object({{"condition", json_string(group.values[0])}, {"n", json_number(point.n)},
                                       {"mean", json_number(point.summary.mean)}, {"n_equiv", json_number(n_equiv)},
                                       {"multiplier", json_number(multiplier)}, {"pass", passed ? "true" : "false"},
                                       {"beyond_asymptote", beyond ? "true" : "false"}}));
    }
    curves.push_back({group.values[0], data});
  }
  std::string intro = "effective data multiplier of each " + key + " on the power law of " + baseline + " (" + y +
                      " = " + fmt(fit.params[0]) + "·N^" + fmt(fit.params[1]) + " + " + fmt(fit.params[2]) +
                      ", R² " + fmt(fit.r2) + "): N_equiv = ((y − c)/a)^(1/b), multiplier = N_equiv/N";
  std::string note = any_beyond ? "\n∞ (past c): the condition's mean is beyond the baseline power law's asymptote c = " +
                                       fmt(fit.params[2]) + ", which no amount of baseline data reaches.\n"
                                 : "";
  write_all(in, intro, out, note,
            json_object({{"step", json_string(in.step.name)}, {"baseline", json_string(baseline)},
                         {"fit", json_numbers(fit.params)}, {"r2", json_number(fit.r2)}, {"rows", json_array(json_rows)}}));
  plot_curves(in, curves, &fit, "power law of " + baseline);
}

void check_multiplier(const Step& step) {
  std::string baseline = step.params.get<std::string>("baseline");
  size_t eq = baseline.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == baseline.size())
    throw step.params.error("baseline", "expected \"<key>=<value>\", e.g. \"transforms=none\"");
}

//---- efficiency ----

void run_efficiency(const StepInput& in) {
  const Params& p = in.step.params;
  const SummaryTable& table = in.table;
  std::string by = p.get<std::string>("by"), x = p.get<std::string>("x"), y = p.get<std::string>("column");
  std::vector<Group> tiers = group_rows(table, {table.column(by)}, table.all_rows());
  std::string reference = p.get<std::string>("reference");
  if (reference.empty()) {  // default: the tier with the largest N (bronze: all of the data)
    double largest = -INFINITY;
    for (const auto& tier : tiers) {
      CurveData data = curve_data(table, x, y, tier.rows);
      if (!data.points.empty() && data.max_n() > largest) largest = data.max_n(), reference = tier.values[0];
    }
  }
  CurveData ref = curve_data(table, x, y, find_group(tiers, reference, by).rows);
  stats::CurveFit fit = fit_checked(stats::CurveModel::PowerLaw, ref);
  double y_ref = p.get<double>("baseline");

  TextTable out;
  out.header = {by, "N", "mean ± sd", "gain per 1000 samples", "N_equiv on " + reference, "worth of one sample"};
  std::vector<std::string> json_rows;
  std::vector<std::pair<std::string, CurveData>> curves;
  for (const auto& tier : tiers) {
    CurveData data = curve_data(table, x, y, tier.rows);
    for (const auto& point : data.points) {
      double gain = (point.summary.mean - y_ref) / point.n * 1000;
      double n_equiv = stats::inverse(fit, point.summary.mean), worth = n_equiv / point.n;
      out.rows.push_back({tier.values[0], fmt_n(point.n), fmt_pm(point.summary.mean, point.summary.sd), fmt(gain),
                          fmt(n_equiv), fmt(worth)});
      json_rows.push_back(json_object({{"tier", json_string(tier.values[0])}, {"n", json_number(point.n)},
                                       {"mean", json_number(point.summary.mean)}, {"gain_per_sample", json_number(gain / 1000)},
                                       {"n_equiv", json_number(n_equiv)}, {"worth", json_number(worth)}}));
    }
    curves.push_back({tier.values[0], data});
  }
  std::string intro = "per-sample efficiency of each " + by + " (gain over " + fmt(y_ref) + " per sample) and its " +
                      "N_equiv on the power law of " + by + " = " + reference + " (R² " + fmt(fit.r2) +
                      "); worth of one sample = N_equiv/N";
  write_all(in, intro, out, "",
            json_object({{"step", json_string(in.step.name)}, {"reference", json_string(reference)},
                         {"fit", json_numbers(fit.params)}, {"rows", json_array(json_rows)}}));
  plot_curves(in, curves, &fit, "power law of " + reference);
}

}  // namespace

const StepKind transfer_kind = {
    "transfer", "pretrained vs scratch: efficiency, target-data reduction, negative transfer",
    [] {
      return Schema{}
          .text("column", "", "the metric column").required()
          .text("x", "train*/train_size", "N of the target data: a sweep key or a column, by name or glob")
          .text("by", "", "the sweep key naming the pretraining source").required()
          .text("scratch", "none", "the value of `by` that means no pretraining")
          .text("target", "", "a sweep key naming the finetuning target (the matrix's columns)")
          .boolean("higher_is_better", true, "the metric improves upwards");
    },
    {}, nullptr, run_transfer};

const StepKind multiplier_kind = {
    "multiplier", "effective data multiplier of each condition on the baseline's power law",
    [] {
      return Schema{}
          .text("baseline", "", "\"<key>=<value>\": the runs whose curve is the baseline").required()
          .text("column", "", "the metric column").required()
          .text("x", "train*/train_size", "N: a sweep key or a column, by name or glob (one match)")
          .real("pass", 1.5, "the multiplier a condition must exceed").at_least(0);
    },
    {}, check_multiplier, run_multiplier};

const StepKind efficiency_kind = {
    "efficiency", "data tiers: per-sample gain, N_equiv on the reference tier, worth of one sample",
    [] {
      return Schema{}
          .text("column", "", "the metric column").required()
          .text("x", "train*/train_size", "N: a sweep key or a column, by name or glob (one match)")
          .text("by", "tier", "the sweep key naming the tier")
          .text("reference", "", "the tier whose power law measures the others (default: the one "
                                 "with the largest N, e.g. bronze)")
          .real("baseline", 0, "y_ref of the per-sample gain (chance, or 0)");
    },
    {}, nullptr, run_efficiency};

}  // namespace wm::analysis
