// The statistics the analysis layer reports: summaries over seeds, Welch's t-test, Wilson
// intervals and least-squares curve fits (power law and logistic in log10 N) with standard
// errors. Distributions come from Boost.Math; the fits from a packaged Levenberg-Marquardt.
// Checked against scipy in tests/test_stats.cpp.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wm::stats {

//---- summaries ----

struct Summary {
  int64_t n = 0;
  double mean = 0, sd = 0, sem = 0;  // sd with n - 1 (0 when n < 2)
  double ci_low = 0, ci_high = 0;    // 95 % t interval of the mean (the mean itself when n < 2)
};
// NaN values propagate (filter them first); n == 0 gives NaN mean and interval. Throws wm::Error
// when `confidence` is not in (0, 1).
Summary summarize(const std::vector<double>& values, double confidence = 0.95);

// the q-quantile of Student's t with `dof` degrees of freedom (infinite dof: the normal); throws
// wm::Error when q is not in (0, 1) or dof <= 0
double t_quantile(double q, double dof);

//---- tests and intervals ----

struct WelchResult {
  double t = 0, dof = 0, p = 1;  // two-sided p; NaN t/p when either group has n < 2 or no spread
};
// scipy.stats.ttest_ind(a, b, equal_var=False)
WelchResult welch_t_test(const std::vector<double>& a, const std::vector<double>& b);

struct Interval {
  double low = 0, high = 0;
};
// Wilson score interval of `successes` out of `trials` (statsmodels' proportion_confint, method
// "wilson"); NaN bounds when trials == 0, wm::Error when successes is not in [0, trials]
Interval wilson_interval(int64_t successes, int64_t trials, double confidence = 0.95);

//---- rank correlation ----

// Spearman's rho of x and y: Pearson's r of their ranks, ties given their average rank
// (scipy.stats.spearmanr(x, y).correlation); NaN with fewer than 2 pairs or a constant side.
// Throws wm::Error when the sizes differ.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

//---- curve fits ----

enum class CurveModel { PowerLaw, Logistic };
// power law:  y = a * N^b + c                     params {a, b, c}, b < 0
// logistic:   y = lo + (hi - lo) / (1 + exp(-k (log10 N - m)))   params {lo, hi, k, m}
const char* curve_model_name(CurveModel model);  // "power_law", "logistic"

struct CurveFit {
  CurveModel model;
  std::vector<std::string> names;  // {"a", "b", "c"} or {"lo", "hi", "k", "m"}
  std::vector<double> params, stderrs;  // stderrs from (J^T J)^-1 s^2, s^2 = RSS / (n - p)
  double r2 = 0, aic = 0, rss = 0;  // aic = n ln(RSS / n) + 2 p (-inf for an exact fit)
  int64_t n = 0;
  // how the solver got there: the start it began from (power law: the best of the c grid), the
  // model evaluations it used and whether MINPACK reported convergence
  std::vector<double> start;
  int64_t evaluations = 0;
  bool converged = false;
  double predict(double x) const;
  double asymptote() const;  // y at N -> infinity: c, or hi (+-inf for a power law with b > 0)
};
// Least squares of y on x (x > 0). Throws wm::Error when there are fewer distinct x than the
// model's parameters, a non-positive x, a non-finite value, or y the same everywhere. Power law:
// a grid over c, a linear fit of log|y - c| on log N for each, then Levenberg-Marquardt from the
// best start (b is not bounded during LM; a fit ending with b >= 0 has no finite asymptote, and
// the thresholds below give NaN). Logistic: starts on a grid of (k, m), then LM; the result is
// put in the form k > 0, so hi is always the N -> infinity end. With n == p the standard errors
// are inf (as curve_fit).
CurveFit fit_curve(CurveModel model, const std::vector<double>& x, const std::vector<double>& y);

// Normalised performance f(N) = (y(N) - y_ref) / (y_inf - y_ref); works for either direction.
double normalized(const CurveFit& fit, double y_ref, double n);
// the N where f(N) = p (NaN when the fit never gets there)
double threshold_n(const CurveFit& fit, double y_ref, double p);
// the smallest N beyond which df/dlog10(N) stays below `slope` (the seed's "derivative < 0.1"),
// df/dlog10(N) = a b N^b ln10 / (y_inf - y_ref) for the power law; NaN when the fit never rises
// towards y_inf or (logistic) its steepest slope is already below `slope`
double diminishing_n(const CurveFit& fit, double y_ref, double slope);
// the N whose predicted y equals `y` on the fit (the inverse; NaN when out of its range)
double inverse(const CurveFit& fit, double y);

}  // namespace wm::stats
