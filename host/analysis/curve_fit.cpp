// Least-squares learning curves: a power law a N^b + c and a logistic in log10 N. The solver is
// Eigen's port of MINPACK's lmder, the Levenberg-Marquardt behind scipy.optimize.curve_fit; the
// standard errors follow curve_fit (absolute_sigma=False): the pseudo-inverse of J^T J at the
// solution, scaled by s^2 = RSS / (n - p). Thresholds on the fits are in curve_thresholds.cpp.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <unsupported/Eigen/NonLinearOptimization>

#include "analysis/stats.h"
#include "wm/error.h"

namespace wm::stats {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
constexpr double kInf = std::numeric_limits<double>::infinity();

int parameter_count(CurveModel model) { return model == CurveModel::PowerLaw ? 3 : 4; }

//---- models ----

// y of the model at x
double model_value(CurveModel model, const double* p, double x) {
  if (model == CurveModel::PowerLaw) return p[0] * std::pow(x, p[1]) + p[2];
  double s = 1 / (1 + std::exp(-p[2] * (std::log10(x) - p[3])));
  return p[0] + (p[1] - p[0]) * s;
}

// dy/dparams of the model at x, into g[0 .. p)
void model_gradient(CurveModel model, const double* p, double x, double* g) {
  if (model == CurveModel::PowerLaw) {
    double power = std::pow(x, p[1]);
    g[0] = power;                       // dy/da
    g[1] = p[0] * power * std::log(x);  // dy/db
    g[2] = 1;                           // dy/dc
    return;
  }
  double u = std::log10(x) - p[3];
  double s = 1 / (1 + std::exp(-p[2] * u)), ds = s * (1 - s) * (p[1] - p[0]);
  g[0] = 1 - s;       // dy/dlo
  g[1] = s;           // dy/dhi
  g[2] = ds * u;      // dy/dk
  g[3] = -ds * p[2];  // dy/dm
}

// residuals and Jacobian in the form Eigen's LevenbergMarquardt asks for
struct Residuals {
  CurveModel model;
  const std::vector<double>& x;
  const std::vector<double>& y;
  int inputs() const { return parameter_count(model); }
  int values() const { return static_cast<int>(x.size()); }
  int operator()(const VectorXd& p, VectorXd& r) const {
    for (size_t i = 0; i < x.size(); ++i) {
      r[i] = model_value(model, p.data(), x[i]) - y[i];
      // an overflowing trial step gets a huge finite residual, so MINPACK rejects it and shrinks
      if (!std::isfinite(r[i])) r[i] = 1e100;
    }
    return 0;
  }
  int df(const VectorXd& p, MatrixXd& jacobian) const {
    double g[4];
    for (size_t i = 0; i < x.size(); ++i) {
      model_gradient(model, p.data(), x[i], g);
      for (int j = 0; j < inputs(); ++j) jacobian(i, j) = std::isfinite(g[j]) ? g[j] : 0;
    }
    return 0;
  }
};

double rss_at(CurveModel model, const std::vector<double>& p, const std::vector<double>& x,
              const std::vector<double>& y) {
  double rss = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double r = model_value(model, p.data(), x[i]) - y[i];
    rss += r * r;
  }
  return std::isfinite(rss) ? rss : kInf;
}

//---- checks ----

void check_input(CurveModel model, const std::vector<double>& x, const std::vector<double>& y) {
  std::string name = curve_model_name(model);
  if (x.size() != y.size())
    throw Error(name + ": " + std::to_string(x.size()) + " N values but " +
                std::to_string(y.size()) + " y values");
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      std::ostringstream text;
      text << name << ": point " << i << " is not finite (N = " << x[i] << ", y = " << y[i]
           << "); drop it before fitting";
      throw Error(text.str());
    }
    if (x[i] <= 0) {
      std::ostringstream text;
      text << name << ": N must be > 0, got N = " << x[i] << " at point " << i;
      throw Error(text.str());
    }
  }
  size_t distinct = std::set<double>(x.begin(), x.end()).size();
  int p = parameter_count(model);
  if (distinct < static_cast<size_t>(p))
    throw Error(name + " needs at least " + std::to_string(p) + " distinct N, got " +
                std::to_string(distinct));
  auto [low, high] = std::minmax_element(y.begin(), y.end());
  if (*low == *high) {
    std::ostringstream text;
    text << name << ": y is " << *low << " at every N; there is no curve to fit";
    throw Error(text.str());
  }
}

// +1 when y grows with log N, -1 when it falls (the sign of the least-squares slope)
double trend(const std::vector<double>& x, const std::vector<double>& y) {
  double mu = 0, my = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) mu += std::log(x[i]) / x.size(), my += y[i] / y.size();
  for (size_t i = 0; i < x.size(); ++i) sxy += (std::log(x[i]) - mu) * (y[i] - my);
  return sxy >= 0 ? 1 : -1;
}

//---- starts ----

// Power law: 200 values of c beyond the data on the side the curve approaches (below the data
// when it falls, above when it rises), from 1e-4 to 1e3 times the data's range; for each, the
// line log|y - c| = log|a| + b log N, and the (a, b, c) with the smallest RSS on y.
std::vector<double> power_law_start(const std::vector<double>& x, const std::vector<double>& y) {
  auto [low, high] = std::minmax_element(y.begin(), y.end());
  double range = *high - *low, direction = trend(x, y);
  std::vector<double> best, best_any;
  double best_rss = kInf, best_any_rss = kInf;
  for (int i = 0; i < 200; ++i) {
    double gap = range * std::pow(10.0, -4 + 7.0 * i / 199);
    double c = direction < 0 ? *low - gap : *high + gap;
    // ordinary least squares of z = log|y - c| on l = log N
    double ml = 0, mz = 0, sll = 0, slz = 0, n = static_cast<double>(x.size());
    for (size_t j = 0; j < x.size(); ++j)
      ml += std::log(x[j]) / n, mz += std::log(std::abs(y[j] - c)) / n;
    for (size_t j = 0; j < x.size(); ++j) {
      double dl = std::log(x[j]) - ml;
      sll += dl * dl, slz += dl * (std::log(std::abs(y[j] - c)) - mz);
    }
    double b = slz / sll, a = -direction * std::exp(mz - b * ml);
    std::vector<double> p = {a, b, c};
    double rss = rss_at(CurveModel::PowerLaw, p, x, y);
    if (b < 0 && rss < best_rss) best_rss = rss, best = p;
    if (rss < best_any_rss) best_any_rss = rss, best_any = p;
  }
  return best.empty() ? best_any : best;
}

// Logistic: k (per decade) and m on a grid over the data's span of log10 N; for each, lo and hi
// enter linearly and are solved exactly; the starts by RSS, best first.
std::vector<std::vector<double>> logistic_starts(const std::vector<double>& x,
                                                 const std::vector<double>& y) {
  auto [umin, umax] = std::minmax_element(x.begin(), x.end());
  double u0 = std::log10(*umin), span = std::log10(*umax) - u0, direction = trend(x, y);
  std::vector<std::pair<double, std::vector<double>>> starts;
  for (double steep : {1.0, 2.0, 4.0, 8.0, 16.0, 32.0})
    for (int i = 0; i <= 12; ++i) {
      double k = steep / span, m = u0 - span / 4 + span * 1.5 * i / 12;
      // y = lo (1 - s) + hi s: a two-column least squares in (lo, hi)
      MatrixXd design(x.size(), 2);
      VectorXd target(y.size());
      for (size_t j = 0; j < x.size(); ++j) {
        double s = 1 / (1 + std::exp(-k * (std::log10(x[j]) - m)));
        design(j, 0) = 1 - s, design(j, 1) = s, target[j] = y[j];
      }
      VectorXd lohi = design.colPivHouseholderQr().solve(target);
      std::vector<double> p = {lohi[0], lohi[1], k, m};
      if (!std::isfinite(lohi[0]) || !std::isfinite(lohi[1])) continue;
      if ((p[1] - p[0]) * direction < 0) continue;  // the grid's k > 0: hi must be the far end
      starts.push_back({rss_at(CurveModel::Logistic, p, x, y), p});
    }
  std::sort(starts.begin(), starts.end(),
            [](const auto& l, const auto& r) { return l.first < r.first; });
  std::vector<std::vector<double>> best;
  for (size_t i = 0; i < starts.size() && i < 3; ++i) best.push_back(starts[i].second);
  return best;
}

//---- solver ----

struct Solution {
  std::vector<double> params;
  int64_t evaluations = 0;
  bool converged = false;
};

// MINPACK's lmder from `start`, run to (near) machine precision
Solution levenberg_marquardt(CurveModel model, const std::vector<double>& x,
                             const std::vector<double>& y, const std::vector<double>& start) {
  Residuals residuals{model, x, y};
  Eigen::LevenbergMarquardt<Residuals> solver(residuals);
  solver.parameters.ftol = 1e-15;
  solver.parameters.xtol = 1e-15;
  solver.parameters.maxfev = 4000;
  VectorXd p = Eigen::Map<const VectorXd>(start.data(), static_cast<Eigen::Index>(start.size()));
  auto status = solver.minimize(p);
  namespace lm = Eigen::LevenbergMarquardtSpace;
  Solution solution;
  solution.params.assign(p.data(), p.data() + p.size());
  solution.evaluations = solver.nfev + solver.njev;
  solution.converged = status != lm::ImproperInputParameters &&
                       status != lm::TooManyFunctionEvaluation && status != lm::UserAsked;
  return solution;
}

// standard errors as scipy's curve_fit: pinv(J^T J) through the SVD of J (singular values below
// eps max(n, p) s_max dropped), times RSS / (n - p); inf when n <= p
std::vector<double> standard_errors(CurveModel model, const std::vector<double>& params,
                                    const std::vector<double>& x, double rss) {
  int p = parameter_count(model);
  auto n = static_cast<Eigen::Index>(x.size());
  MatrixXd jacobian(n, p);
  Residuals{model, x, x}.df(Eigen::Map<const VectorXd>(params.data(), p), jacobian);
  Eigen::JacobiSVD<MatrixXd> svd(jacobian, Eigen::ComputeThinV);
  const VectorXd& singular = svd.singularValues();
  double cutoff = std::numeric_limits<double>::epsilon() * std::max<double>(n, p) * singular[0];
  VectorXd inverse_squares = VectorXd::Zero(p);
  for (int j = 0; j < p; ++j)
    if (singular[j] > cutoff) inverse_squares[j] = 1 / (singular[j] * singular[j]);
  MatrixXd covariance = svd.matrixV() * inverse_squares.asDiagonal() * svd.matrixV().transpose();
  std::vector<double> errors(p, kInf);
  if (n <= p) return errors;
  for (int j = 0; j < p; ++j) errors[j] = std::sqrt(covariance(j, j) * rss / (n - p));
  return errors;
}

}  // namespace

//---- curve fits ----

const char* curve_model_name(CurveModel model) {
  return model == CurveModel::PowerLaw ? "power_law" : "logistic";
}

double CurveFit::predict(double x) const { return model_value(model, params.data(), x); }

double CurveFit::asymptote() const {
  if (model == CurveModel::Logistic) return params[1];
  double a = params[0], b = params[1], c = params[2];
  if (b < 0 || a == 0) return c;
  if (b == 0) return a + c;
  return a > 0 ? kInf : -kInf;
}

CurveFit fit_curve(CurveModel model, const std::vector<double>& x, const std::vector<double>& y) {
  check_input(model, x, y);
  std::vector<std::vector<double>> starts;
  if (model == CurveModel::PowerLaw)
    starts.push_back(power_law_start(x, y));
  else
    starts = logistic_starts(x, y);
  // every grid start had a non-finite (lo, hi): nothing to start LM from
  if (starts.empty())
    throw Error(std::string(curve_model_name(model)) + ": no finite start on the (k, m) grid");
  // LM from each start; the smallest RSS wins
  CurveFit fit;
  fit.model = model;
  fit.names = model == CurveModel::PowerLaw ? std::vector<std::string>{"a", "b", "c"}
                                            : std::vector<std::string>{"lo", "hi", "k", "m"};
  fit.rss = kInf;
  for (const auto& start : starts) {
    Solution solution = levenberg_marquardt(model, x, y, start);
    double rss = rss_at(model, solution.params, x, y);
    fit.evaluations += solution.evaluations;
    if (!(rss < fit.rss) && !fit.params.empty()) continue;
    fit.params = solution.params, fit.start = start, fit.rss = rss;
    fit.converged = solution.converged;
  }
  // a logistic with k < 0 is the same curve as hi <-> lo, k -> -k: keep hi at N -> infinity
  if (model == CurveModel::Logistic && fit.params[2] < 0) {
    std::swap(fit.params[0], fit.params[1]);
    fit.params[2] = -fit.params[2];
  }
  fit.n = static_cast<int64_t>(x.size());
  fit.stderrs = standard_errors(model, fit.params, x, fit.rss);
  double mean = 0, total = 0;
  for (double v : y) mean += v / y.size();
  for (double v : y) total += (v - mean) * (v - mean);
  fit.r2 = 1 - fit.rss / total;
  double n = static_cast<double>(fit.n);
  fit.aic = n * std::log(fit.rss / n) + 2 * parameter_count(model);
  return fit;
}

}  // namespace wm::stats
