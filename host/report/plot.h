// Plots a person can open: line charts written as self-contained SVG (no plotting library).
#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace wm {

struct Series {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y)
};

struct LinePlot {
  std::string title, x_label, y_label;
  bool log_y = false;
  std::vector<Series> series;

  std::string svg() const;
  void write(const std::filesystem::path& file) const;  // atomically
};

}  // namespace wm
