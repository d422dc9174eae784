// Thresholds on a fitted learning curve: normalised performance f(N) = (y(N) - y_ref) /
// (y_inf - y_ref), the N where f reaches p, the N past which f gains less than `slope` per
// decade, and the inverse y -> N. Closed forms for both models (spec X4 `fit`).
#include <cmath>
#include <limits>

#include "analysis/stats.h"

namespace wm::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// a positive finite N, else NaN
double positive_or_nan(double n) { return std::isfinite(n) && n > 0 ? n : kNaN; }

}  // namespace

//---- thresholds ----

double normalized(const CurveFit& fit, double y_ref, double n) {
  return (fit.predict(n) - y_ref) / (fit.asymptote() - y_ref);
}

double inverse(const CurveFit& fit, double y) {
  const auto& p = fit.params;
  if (fit.model == CurveModel::PowerLaw) {
    // N = ((y - c) / a)^(1 / b)
    double ratio = (y - p[2]) / p[0];
    if (!(ratio > 0) || p[1] == 0) return kNaN;
    return positive_or_nan(std::pow(ratio, 1 / p[1]));
  }
  // s = (y - lo) / (hi - lo) in (0, 1):  log10 N = m + ln(s / (1 - s)) / k
  double s = (y - p[0]) / (p[1] - p[0]);
  if (!(s > 0 && s < 1) || p[2] == 0) return kNaN;
  return positive_or_nan(std::pow(10.0, p[3] + std::log(s / (1 - s)) / p[2]));
}

double threshold_n(const CurveFit& fit, double y_ref, double p) {
  // both models only approach y_inf: f = 1 is never reached (and y_ref + 1 (y_inf - y_ref) need
  // not round to y_inf, which would give a huge N)
  double y_inf = fit.asymptote();
  if (!std::isfinite(y_inf) || y_inf == y_ref || !(p < 1)) return kNaN;
  return inverse(fit, y_ref + p * (y_inf - y_ref));
}

double diminishing_n(const CurveFit& fit, double y_ref, double slope) {
  double y_inf = fit.asymptote();
  if (!std::isfinite(y_inf) || y_inf == y_ref || !(slope > 0)) return kNaN;
  const auto& p = fit.params;
  if (fit.model == CurveModel::PowerLaw) {
    // df/dlog10 N = K N^b with K = a b ln10 / (y_inf - y_ref), falling in N when K > 0, b < 0
    double gain = p[0] * p[1] * std::log(10.0) / (y_inf - y_ref);
    if (!(gain > 0) || !(p[1] < 0)) return kNaN;
    return positive_or_nan(std::pow(slope / gain, 1 / p[1]));
  }
  // df/dlog10 N = G s (1 - s), G = k (hi - lo) / (hi - y_ref), a bump with its top G/4 at N = 10^m;
  // past the top it falls below `slope` where s (1 - s) = slope / G, at s = (1 + sqrt(1 - 4r)) / 2
  double gain = p[2] * (p[1] - p[0]) / (p[1] - y_ref);
  if (!(gain > 0)) return kNaN;
  double r = slope / gain;
  if (!(r < 0.25)) return kNaN;
  double s = (1 + std::sqrt(1 - 4 * r)) / 2;
  return positive_or_nan(std::pow(10.0, p[3] + std::log(s / (1 - s)) / p[2]));
}

}  // namespace wm::stats
