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
};

// a horizontal line across the plot at y, labelled at its right end
struct ReferenceLine {
  double y = 0;
  std::string label;
};

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
