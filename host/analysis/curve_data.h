// A metric against N across a sweep's runs, for the steps that fit curves (fit, transfer,
// multiplier, efficiency): the observations, their mean ± sd per N, and the checked fits.
#pragma once
#include <string>
#include <vector>

#include "analysis/stats.h"
#include "analysis/table.h"

namespace wm::analysis {

struct CurvePoint {
  double n = 0;
  std::vector<double> values;  // one per run (seed)
  stats::Summary summary;
};

struct CurveData {
  std::string x, y;                // the column names
  std::vector<CurvePoint> points;  // by N, ascending
  std::vector<double> xs, ys;      // every observation
  double max_n() const { return points.empty() ? 0 : points.back().n; }
  const CurvePoint* at(double n) const;  // the point at N, or null
};

// y against x over `rows`; rows with an empty x or y are left out. Throws when x is not
// positive (N for a fit in log N), naming the run.
CurveData curve_data(const SummaryTable& table, const std::string& x, const std::string& y,
                     const std::vector<size_t>& rows);

// the least-squares fit of `model`, with the step's own words when there are too few points:
// "needs ≥ 3 distinct N for power_law, got 1"
stats::CurveFit fit_checked(stats::CurveModel model, const CurveData& data);
int parameter_count(stats::CurveModel model);
stats::CurveModel curve_model(const std::string& name);  // "power_law" or "logistic"

// N for the plots: `count` values evenly spaced in log N over [low, high]
std::vector<double> log_grid(double low, double high, int count = 80);

}  // namespace wm::analysis
