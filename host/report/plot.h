// Plots a person can open: line charts written as self-contained SVG (no plotting library).
// Linear or log axes, lines and/or point markers, error bars, horizontal reference lines.
#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace wm {

//---- what is drawn ----

struct Series {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y)
  std::vector<double> errors;  // ± per point, drawn as error bars (empty: none)
  bool line = true;            // join the points
  bool markers = false;        // a dot at each point
  bool dashed = false;
  double opacity = 1;  // below 1: a faint series, e.g. raw values under their smoothed curve
  int colour = -1;     // a palette index; -1: the series' own position
};

// a horizontal line across the plot at y, labelled at its right end
struct ReferenceLine {
  double y = 0;
  std::string label;
};

// an exponential moving average over about `window` points (alpha = 2 / (window + 1)), divided by
// the weight it has gathered so far so the first points are not pulled towards zero (TensorBoard's
// smoothing does the same); non-finite y values are skipped
std::vector<std::pair<double, double>> smoothed(const std::vector<std::pair<double, double>>& points,
                                                double window);

//---- the chart ----

struct LinePlot {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;  // log axes skip points <= 0
  std::vector<Series> series;
  std::vector<ReferenceLine> references;

  std::string svg() const;
  void write(const std::filesystem::path& file) const;  // atomically
};

}  // namespace wm
