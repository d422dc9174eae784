#include "report/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "wm/io/atomic_file.h"

namespace wm {

namespace {

constexpr double kWidth = 720, kHeight = 420, kLeft = 70, kRight = 20, kTop = 40, kBottom = 50;
constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b"};

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

}  // namespace

std::string LinePlot::svg() const {
  double x_min = INFINITY, x_max = -INFINITY, y_min = INFINITY, y_max = -INFINITY;
  auto transform_y = [&](double y) { return log_y ? std::log10(std::max(y, 1e-300)) : y; };
  for (const auto& line : series)
    for (const auto& [x, y] : line.points) {
      if (!std::isfinite(y) || (log_y && y <= 0)) continue;
      x_min = std::min(x_min, x), x_max = std::max(x_max, x);
      y_min = std::min(y_min, transform_y(y)), y_max = std::max(y_max, transform_y(y));
    }
  if (!std::isfinite(x_min)) x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  if (x_max == x_min) x_max = x_min + 1;
  if (y_max == y_min) y_max = y_min + 1;
  double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + (x - x_min) / (x_max - x_min) * plot_w; };
  auto py = [&](double y) { return kTop + (1 - (transform_y(y) - y_min) / (y_max - y_min)) * plot_h; };

  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(kWidth) +
                    "\" height=\"" + number(kHeight) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += "<text x=\"" + number(kWidth / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
         escape(title) + "</text>\n";
  // axes with five ticks each
  for (int i = 0; i <= 4; ++i) {
    double fx = x_min + (x_max - x_min) * i / 4, fy = y_min + (y_max - y_min) * i / 4;
    double tick_y = log_y ? std::pow(10.0, fy) : fy;
    out += "<line x1=\"" + number(px(fx)) + "\" y1=\"" + number(kTop) + "\" x2=\"" + number(px(fx)) +
           "\" y2=\"" + number(kTop + plot_h) + "\" stroke=\"#eee\"/>\n";
    out += "<text x=\"" + number(px(fx)) + "\" y=\"" + number(kTop + plot_h + 16) +
           "\" text-anchor=\"middle\">" + number(fx) + "</text>\n";
    double y = kTop + (1 - static_cast<double>(i) / 4) * plot_h;
    out += "<line x1=\"" + number(kLeft) + "\" y1=\"" + number(y) + "\" x2=\"" + number(kLeft + plot_w) +
           "\" y2=\"" + number(y) + "\" stroke=\"#eee\"/>\n";
    out += "<text x=\"" + number(kLeft - 6) + "\" y=\"" + number(y + 4) + "\" text-anchor=\"end\">" +
           number(tick_y) + "</text>\n";
  }
  out += "<rect x=\"" + number(kLeft) + "\" y=\"" + number(kTop) + "\" width=\"" + number(plot_w) +
         "\" height=\"" + number(plot_h) + "\" fill=\"none\" stroke=\"#444\"/>\n";
  out += "<text x=\"" + number(kLeft + plot_w / 2) + "\" y=\"" + number(kHeight - 10) +
         "\" text-anchor=\"middle\">" + escape(x_label) + "</text>\n";
  out += "<text transform=\"translate(16," + number(kTop + plot_h / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + escape(y_label) + (log_y ? " (log)" : "") +
         "</text>\n";
  for (size_t s = 0; s < series.size(); ++s) {
    const char* colour = kColours[s % 6];
    std::string path;
    for (const auto& [x, y] : series[s].points) {
      if (!std::isfinite(y) || (log_y && y <= 0)) continue;
      path += (path.empty() ? "M" : " L") + number(px(x)) + "," + number(py(y));
    }
    out += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"1.5\"/>\n";
    double legend_y = kTop + 14 + 16 * static_cast<double>(s);
    out += "<text x=\"" + number(kLeft + plot_w - 8) + "\" y=\"" + number(legend_y) +
           "\" text-anchor=\"end\" fill=\"" + colour + "\">" + escape(series[s].label) + "</text>\n";
  }
  return out + "</svg>\n";
}

void LinePlot::write(const std::filesystem::path& file) const { io::write_file_atomic(file, svg()); }

}  // namespace wm
