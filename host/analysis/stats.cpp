// Summaries over seeds, Welch's t-test and Wilson intervals. The distributions are Boost.Math's
// (Student's t quantile, the regularised incomplete beta, the normal quantile); the formulas are
// scipy.stats' (t.interval, ttest_ind with equal_var=False) and statsmodels' (proportion_confint,
// method "wilson"), and tests/test_stats.cpp checks them against scipy.
#include "analysis/stats.h"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <cmath>
#include <limits>

#include "wm/error.h"

namespace wm::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// the two-sided normal quantile of a confidence level, e.g. 1.959964 for 0.95
double two_sided_z(double confidence) {
  if (!(confidence > 0 && confidence < 1))
    throw Error("confidence must be in (0, 1), got " + std::to_string(confidence));
  return boost::math::quantile(boost::math::normal_distribution<double>(), 0.5 + confidence / 2);
}

struct Moments {
  double n = 0, mean = kNaN, var = 0;  // var with n - 1 (0 when n < 2)
};

// two-pass mean and variance, like numpy
Moments moments(const std::vector<double>& values) {
  Moments m;
  m.n = static_cast<double>(values.size());
  if (values.empty()) return m;
  double sum = 0;
  for (double v : values) sum += v;
  m.mean = sum / m.n;
  if (values.size() < 2) return m;
  double squares = 0;
  for (double v : values) squares += (v - m.mean) * (v - m.mean);
  m.var = squares / (m.n - 1);
  return m;
}

// ranks 1..n, ties at their average rank (scipy.stats.rankdata, method "average")
std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t start = 0; start < order.size();) {
    size_t end = start + 1;
    while (end < order.size() && values[order[end]] == values[order[start]]) ++end;
    double rank = (start + 1 + end) / 2.0;  // the mean of ranks start+1 .. end
    for (size_t i = start; i < end; ++i) ranks[order[i]] = rank;
    start = end;
  }
  return ranks;
}

}  // namespace

//---- rank correlation ----

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size())
    throw Error("spearman: x has " + std::to_string(x.size()) + " values, y " + std::to_string(y.size()));
  if (x.size() < 2) return kNaN;
  std::vector<double> rx = average_ranks(x), ry = average_ranks(y);
  Moments mx = moments(rx), my = moments(ry);
  double sxy = 0;
  for (size_t i = 0; i < rx.size(); ++i) sxy += (rx[i] - mx.mean) * (ry[i] - my.mean);
  double sx = std::sqrt(mx.var * (mx.n - 1)), sy = std::sqrt(my.var * (my.n - 1));
  if (sx == 0 || sy == 0) return kNaN;
  return sxy / (sx * sy);
}

//---- summaries ----

double t_quantile(double q, double dof) {
  if (!(q > 0 && q < 1)) throw Error("t_quantile: q must be in (0, 1), got " + std::to_string(q));
  if (!(dof > 0)) throw Error("t_quantile: dof must be > 0, got " + std::to_string(dof));
  if (std::isinf(dof)) return boost::math::quantile(boost::math::normal_distribution<double>(), q);
  return boost::math::quantile(boost::math::students_t_distribution<double>(dof), q);
}

Summary summarize(const std::vector<double>& values, double confidence) {
  if (!(confidence > 0 && confidence < 1))
    throw Error("summarize: confidence must be in (0, 1), got " + std::to_string(confidence));
  Moments m = moments(values);
  Summary s;
  s.n = static_cast<int64_t>(values.size());
  s.mean = s.ci_low = s.ci_high = m.mean;
  if (s.n < 2) return s;
  s.sd = std::sqrt(m.var);
  s.sem = s.sd / std::sqrt(m.n);
  // mean +- t_{(1+confidence)/2, n-1} sem, as scipy.stats.t.interval(confidence, n - 1, mean, sem)
  double half = t_quantile(0.5 + confidence / 2, m.n - 1) * s.sem;
  s.ci_low = s.mean - half;
  s.ci_high = s.mean + half;
  return s;
}

//---- tests and intervals ----

WelchResult welch_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  WelchResult r{kNaN, kNaN, kNaN};
  if (a.size() < 2 || b.size() < 2) return r;
  Moments ma = moments(a), mb = moments(b);
  double va = ma.var / ma.n, vb = mb.var / mb.n;  // squared standard errors of the two means
  if (!(va + vb > 0)) return r;
  // Welch-Satterthwaite degrees of freedom
  r.dof = (va + vb) * (va + vb) / (va * va / (ma.n - 1) + vb * vb / (mb.n - 1));
  r.t = (ma.mean - mb.mean) / std::sqrt(va + vb);
  if (std::isnan(r.t)) return r;
  // two-sided p = P(|T| > |t|) = I_{dof/(dof+t^2)}(dof/2, 1/2); the complementary form
  // I_{t^2/(dof+t^2)}(1/2, dof/2) keeps its digits when t is small
  double t2 = r.t * r.t;
  if (std::isinf(t2))
    r.p = 0;
  else if (t2 < r.dof)
    r.p = boost::math::ibetac(0.5, r.dof / 2, t2 / (r.dof + t2));
  else
    r.p = boost::math::ibeta(r.dof / 2, 0.5, r.dof / (r.dof + t2));
  return r;
}

Interval wilson_interval(int64_t successes, int64_t trials, double confidence) {
  if (successes < 0 || successes > trials)
    throw Error("wilson_interval: successes must be in [0, trials], got " +
                std::to_string(successes) + " of " + std::to_string(trials));
  double z = two_sided_z(confidence);
  if (trials == 0) return {kNaN, kNaN};
  // (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
  double n = static_cast<double>(trials), p = successes / n, z2 = z * z;
  double denominator = 1 + z2 / n;
  double center = (p + z2 / (2 * n)) / denominator;
  double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator;
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

}  // namespace wm::stats
