#include "analysis/curve_data.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "wm/error.h"

namespace wm::analysis {

const CurvePoint* CurveData::at(double n) const {
  for (const auto& point : points)
    if (point.n == n) return &point;
  return nullptr;
}

CurveData curve_data(const SummaryTable& table, const std::string& x, const std::string& y,
                     const std::vector<size_t>& rows) {
  CurveData data;
  data.x = table.resolve(x), data.y = table.resolve(y);
  size_t x_column = table.column(data.x), y_column = table.column(data.y);
  for (size_t row : rows) {
    auto n = table.number(row, x_column), value = table.number(row, y_column);
    if (!table.cell(row, x_column).empty() && !n)
      throw Error("run " + table.cell(row, 0) + ": " + data.x + " = '" + table.cell(row, x_column) +
                  "' is not a number");
    if (!n || !value) continue;
    if (!(*n > 0))
      throw Error("run " + table.cell(row, 0) + " has " + data.x + " = " + table.cell(row, x_column) +
                  "; a curve in log N needs N > 0");
    data.xs.push_back(*n), data.ys.push_back(*value);
    auto found = std::find_if(data.points.begin(), data.points.end(),
                              [&](const CurvePoint& point) { return point.n == *n; });
    if (found == data.points.end()) data.points.push_back({*n, {*value}, {}});
    else found->values.push_back(*value);
  }
  std::sort(data.points.begin(), data.points.end(),
            [](const CurvePoint& a, const CurvePoint& b) { return a.n < b.n; });
  for (auto& point : data.points) point.summary = stats::summarize(point.values);
  return data;
}

int parameter_count(stats::CurveModel model) { return model == stats::CurveModel::PowerLaw ? 3 : 4; }

stats::CurveModel curve_model(const std::string& name) {
  if (name == "power_law") return stats::CurveModel::PowerLaw;
  if (name == "logistic") return stats::CurveModel::Logistic;
  throw Error("unknown curve model '" + name + "'" + did_you_mean(name, {"power_law", "logistic"}) +
              "; models: power_law, logistic");
}

stats::CurveFit fit_checked(stats::CurveModel model, const CurveData& data) {
  int needed = parameter_count(model);
  if (data.points.size() < static_cast<size_t>(needed))
    throw Error(std::string(stats::curve_model_name(model)) + " of " + data.y + " needs ≥ " +
                std::to_string(needed) + " distinct N (" + data.x + "), got " +
                std::to_string(data.points.size()));
  return stats::fit_curve(model, data.xs, data.ys);
}

std::vector<double> log_grid(double low, double high, int count) {
  std::vector<double> grid;
  double a = std::log10(low), b = std::log10(high);
  for (int i = 0; i < count; ++i) grid.push_back(std::pow(10.0, a + (b - a) * i / (count - 1)));
  return grid;
}

}  // namespace wm::analysis
