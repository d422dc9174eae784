// fit: the learning curve. Power law y = a N^b + c and logistic in log10 N, with standard
// errors, R², AIC, the N reaching 80/90/95 % of the gain, the diminishing-returns N and the
// inflection; a log-x plot of the points ± sd over seeds with both fits (spec X4 `fit`).
#include <algorithm>
#include <cmath>

#include "analysis/analysis.h"
#include "analysis/curve_data.h"
#include "analysis/output.h"
#include "report/plot.h"
#include "wm/error.h"
#include "wm/log.h"

namespace wm::analysis {
namespace {

// a parameter cell: "2 ± 1.3e-09", with its name when the model is not a, b, c
std::string param_cell(const stats::CurveFit& fit, size_t i) {
  std::string prefix = fit.model == stats::CurveModel::PowerLaw ? "" : fit.names[i] + " ";
  return prefix + fmt_pm(fit.params[i], fit.stderrs[i]);
}

// N where f reaches p, "never" when the fit does not get there, flagged past the largest N
std::string threshold_cell(double n, double max_n) {
  if (std::isnan(n)) return "never";
  return fmt(n) + (n > max_n ? " (extrapolated)" : "");
}

// y_ref: the `baseline` number, the mean of a baseline column, or the mean at the smallest N
double reference_y(const StepInput& in, const CurveData& data, std::string& described) {
  std::string baseline = in.step.params.get<std::string>("baseline");
  if (baseline.empty()) {
    described = "the mean at the smallest N (" + fmt_n(data.points.front().n) + ")";
    return data.points.front().summary.mean;
  }
  if (auto number = parse_number(baseline)) {
    described = "`baseline: " + baseline + "`";
    return *number;
  }
  std::string column = in.table.resolve(baseline);
  stats::Summary s = stats::summarize(values_of(in.table, in.table.column(column), in.table.all_rows()));
  described = "the mean of " + column + " over every run";
  return s.mean;
}

// the first observed N whose mean reaches f >= p on this fit's scale
double first_observed(const CurveData& data, const stats::CurveFit& fit, double y_ref, double p) {
  double span = fit.asymptote() - y_ref;
  for (const auto& point : data.points)
    if ((point.summary.mean - y_ref) / span >= p) return point.n;
  return NAN;
}

void check_fit(const Step& step) {
  for (const auto& model : step.params.get<StringList>("models")) {
    try {
      curve_model(model);
    } catch (const Error& e) {
      throw step.params.error("models", e.what());
    }
  }
  if (step.params.get<StringList>("models").empty()) throw step.params.error("models", "names no model");
}

void run_fit(const StepInput& in) {
  const Params& p = in.step.params;
  CurveData data = curve_data(in.table, p.get<std::string>("x"), p.get<std::string>("y"), in.table.all_rows());
  RealList thresholds = p.get<RealList>("thresholds");
  double slope = p.get<double>("diminishing");
  std::vector<std::string> header = {"model", "a ± se", "b ± se", "c ± se", "R²", "AIC"};
  for (double t : thresholds) header.push_back("N" + fmt(t * 100));
  header.insert(header.end(), {"N_dim", "inflection"});
  if (data.points.empty()) throw Error("no run has both " + data.x + " and " + data.y);
  std::string described;
  double y_ref = reference_y(in, data, described);

  // every model that has enough points; the others are listed as skipped
  TextTable table, threshold_table;
  table.header = header;
  threshold_table.header = {"model", "p", "y at p", "N_p", "first observed N with f ≥ p"};
  threshold_table.text_columns = 1;
  std::vector<std::string> notes, json_fits;
  std::vector<stats::CurveFit> fits;
  // with too few N for every model the fit fails; a model needing more than the others is skipped
  int fewest = 99;
  for (const auto& name : p.get<StringList>("models")) fewest = std::min(fewest, parameter_count(curve_model(name)));
  for (const auto& name : p.get<StringList>("models")) {
    stats::CurveModel model = curve_model(name);
    size_t needed = static_cast<size_t>(parameter_count(model));
    if (data.points.size() < needed && data.points.size() >= static_cast<size_t>(fewest)) {
      notes.push_back(name + " skipped: it needs ≥ " + std::to_string(needed) + " distinct N, the sweep has " +
                      std::to_string(data.points.size()));
      continue;
    }
    stats::CurveFit fit = fit_checked(model, data);
    std::vector<std::string> row = {name, param_cell(fit, 0), param_cell(fit, 1), param_cell(fit, 2),
                                    fmt(fit.r2), fmt(fit.aic)};
    std::vector<std::string> json_thresholds;
    for (double t : thresholds) {
      double n = stats::threshold_n(fit, y_ref, t), seen = first_observed(data, fit, y_ref, t);
      row.push_back(threshold_cell(n, data.max_n()));
      threshold_table.rows.push_back({name, fmt(t), fmt(y_ref + t * (fit.asymptote() - y_ref)),
                                      threshold_cell(n, data.max_n()), std::isnan(seen) ? "none" : fmt_n(seen)});
      json_thresholds.push_back(json_object({{"p", json_number(t)}, {"n", json_number(n)},
                                             {"extrapolated", n > data.max_n() ? "true" : "false"},
                                             {"first_observed_n", json_number(seen)}}));
    }
    double dim = stats::diminishing_n(fit, y_ref, slope);
    row.push_back(threshold_cell(dim, data.max_n()));
    double inflection = model == stats::CurveModel::Logistic ? std::pow(10.0, fit.params[3]) : NAN;
    row.push_back(model == stats::CurveModel::Logistic ? fmt(inflection) + " (m " + fmt_pm(fit.params[3], fit.stderrs[3]) + ")"
                                                      : "none (no inflection in log N)");
    table.rows.push_back(row);
    std::vector<std::pair<std::string, std::string>> params, errors;
    for (size_t i = 0; i < fit.names.size(); ++i)
      params.push_back({fit.names[i], json_number(fit.params[i])}), errors.push_back({fit.names[i], json_number(fit.stderrs[i])});
    json_fits.push_back(json_object({{"model", json_string(name)}, {"params", json_object(params)},
                                     {"stderrs", json_object(errors)}, {"r2", json_number(fit.r2)},
                                     {"aic", json_number(fit.aic)}, {"rss", json_number(fit.rss)},
                                     {"n", std::to_string(fit.n)}, {"asymptote", json_number(fit.asymptote())},
                                     {"thresholds", json_array(json_thresholds)},
                                     {"diminishing_n", json_number(dim)}, {"inflection_n", json_number(inflection)}}));
    bool rising = fit.asymptote() > y_ref;
    if (rising != p.get<bool>("higher_is_better"))
      notes.push_back(name + ": the fit " + (rising ? "rises" : "falls") + " towards " + fmt(fit.asymptote()) +
                      " from y_ref " + fmt(y_ref) + ", but `higher_is_better` is " +
                      (p.get<bool>("higher_is_better") ? "true" : "false"));
    fits.push_back(fit);
  }

  // the observations
  TextTable points;
  points.header = {data.x, "runs", "mean", "sd", "values"};
  std::vector<std::string> json_points;
  for (const auto& point : data.points) {
    std::string values;
    for (double v : point.values) values += (values.empty() ? "" : " ") + fmt(v);
    points.rows.push_back({fmt_n(point.n), std::to_string(point.summary.n), fmt(point.summary.mean),
                           fmt(point.summary.sd), values});
    json_points.push_back(json_object({{"n", json_number(point.n)}, {"mean", json_number(point.summary.mean)},
                                       {"sd", json_number(point.summary.sd)}, {"values", json_numbers(point.values)}}));
  }
  std::string intro = data.y + " against " + data.x + ": " + std::to_string(data.xs.size()) + " runs at " +
                      std::to_string(data.points.size()) + " N; y_ref = " + fmt(y_ref) + ", " + described +
                      "; f(N) = (y(N) − y_ref)/(y_∞ − y_ref); N_dim: the smallest N where df/dlog₁₀N < " + fmt(slope);
  std::string md = "# " + in.step.name + "\n\n" + intro + "\n\n" + table.markdown() + "\n" +
                   threshold_table.markdown() + "\n" + points.markdown();
  for (const auto& note : notes) md += "\n- " + note;
  write_output(in.out, in.step.name, "md", md + "\n");
  write_output(in.out, in.step.name, "csv", table.csv());
  write_output(in.out, in.step.name, "json",
               json_object({{"step", json_string(in.step.name)}, {"x", json_string(data.x)},
                            {"y", json_string(data.y)}, {"y_ref", json_number(y_ref)},
                            {"higher_is_better", p.get<bool>("higher_is_better") ? "true" : "false"},
                            {"points", json_array(json_points)}, {"fits", json_array(json_fits)}}) + "\n");

  // log-x: the points ± sd, each fit, the threshold lines of the first fit
  LinePlot plot;
  plot.title = in.step.name + ": " + data.y;
  plot.x_label = data.x, plot.y_label = data.y, plot.log_x = true;
  Series observed;
  observed.label = "mean ± sd over runs";
  observed.line = false, observed.markers = true;
  for (const auto& point : data.points)
    observed.points.push_back({point.n, point.summary.mean}), observed.errors.push_back(point.summary.sd);
  plot.series.push_back(observed);
  double high = data.max_n();
  for (const auto& fit : fits)
    for (double t : thresholds) {
      double n = stats::threshold_n(fit, y_ref, t);
      if (std::isfinite(n) && n > high) high = std::min(n, data.max_n() * 100);
    }
  for (const auto& fit : fits) {
    Series line;
    line.label = std::string(stats::curve_model_name(fit.model)) + " (R² " + fmt(fit.r2) + ")";
    line.dashed = fit.model == stats::CurveModel::Logistic;
    for (double n : log_grid(data.points.front().n, high)) line.points.push_back({n, fit.predict(n)});
    plot.series.push_back(line);
  }
  if (!fits.empty())
    for (double t : thresholds)
      plot.references.push_back({y_ref + t * (fits[0].asymptote() - y_ref), fmt(t * 100) + " %"});
  plot.write(in.out / (in.step.name + ".svg"));
  log_table("analysis " + in.step.name + ": " + intro, table);
  for (const auto& note : notes) log().warn("analysis {}: {}", in.step.name, note);
}

}  // namespace

const StepKind fit_kind = {
    "fit", "learning curve: power law and logistic in log N, thresholds, diminishing returns",
    [] {
      return Schema{}
          .text("x", "train*/train_size", "N: a sweep key or a column, by name or glob (one match; the default finds train[<data>]/train_size)")
          .text("y", "", "the metric column").required()
          .boolean("higher_is_better", true, "the metric improves upwards (checked against the fit)")
          .text("baseline", "", "y_ref of f(N): a number (chance) or a column whose mean is used "
                                "(e.g. a copy-last score); default: the mean at the smallest N")
          .strings("models", {"power_law", "logistic"}, "power_law: a N^b + c; logistic: in log10 N")
          .reals("thresholds", {0.8, 0.9, 0.95}, "shares p of the gain y_∞ − y_ref: N_p solves f(N) = p")
          .range(0, 1)
          .real("diminishing", 0.1, "N_dim: the smallest N where df/dlog10 N falls below this")
          .at_least(0);
    },
    {}, check_fit, run_fit};

}  // namespace wm::analysis
