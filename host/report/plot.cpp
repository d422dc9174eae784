#include "report/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "wm/io/atomic_file.h"

namespace wm {

namespace {

constexpr double kWidth = 720, kHeight = 420, kRight = 24, kTop = 40, kBottom = 50;
constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#17becf"};

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

//---- axes ----

// one axis: its range in plot units (log10 of the value on a log axis) and its ticks
struct Axis {
  bool log = false;
  double low = INFINITY, high = -INFINITY;
  std::vector<std::pair<double, std::string>> ticks;  // (plot unit, label)

  bool usable(double value) const { return std::isfinite(value) && (!log || value > 0); }
  double unit(double value) const { return log ? std::log10(value) : value; }
  void include(double value) {
    if (!usable(value)) return;
    low = std::min(low, unit(value)), high = std::max(high, unit(value));
  }
};

// 1, 2 or 5 times a power of ten, the smallest giving at most 7 steps over the range
double nice_step(double range) {
  double step = std::pow(10.0, std::floor(std::log10(range / 5)));
  for (double factor : {1.0, 2.0, 5.0, 10.0})
    if (range / (step * factor) <= 7) return step * factor;
  return step * 10;
}

// a tick value written as short as its step allows: 0.25 (step 0.05), 1200, 15k, 2.5M, 2e-5
std::string tick_label(double value, double step) {
  char text[32];
  double size = std::abs(value);
  if (value == 0) return "0";
  if (size >= 1e4 && size < 1e9) {
    bool millions = size >= 1e6;
    double scaled = value / (millions ? 1e6 : 1e3), scaled_step = step / (millions ? 1e6 : 1e3);
    int decimals = scaled_step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(scaled_step) - 1e-9));
    std::snprintf(text, sizeof text, "%.*f%s", std::min(decimals, 3), scaled, millions ? "M" : "k");
  } else if (size < 1e-3 || size >= 1e9) {
    // 2e-4, 2.5e-4 like the decades beside them (1e-4), not 0.0002 or 2e-04
    int exponent = static_cast<int>(std::floor(std::log10(size) + 1e-9));
    std::snprintf(text, sizeof text, "%.3ge%d", value / std::pow(10.0, exponent), exponent);
  } else {
    int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
    std::snprintf(text, sizeof text, "%.*f", std::min(decimals, 6), value);
  }
  return text;
}

// a power of ten as people write it: 100, 0.001, 1e6, 1e-5
std::string decade_label(int exponent) {
  char text[32];
  if (exponent >= -3 && exponent <= 5) std::snprintf(text, sizeof text, "%g", std::pow(10.0, exponent));
  else std::snprintf(text, sizeof text, "1e%d", exponent);
  return text;
}

// pads the range, then places round ticks: decades on a log axis that spans one, else 1-2-5 steps
void place_ticks(Axis& axis) {
  if (!std::isfinite(axis.low)) axis.low = 0, axis.high = 1;
  if (axis.high - axis.low < 1e-12) {
    double pad = axis.log ? 0.5 : std::max(std::abs(axis.low) * 0.1, 0.5);
    axis.low -= pad, axis.high += pad;
  }
  double pad = (axis.high - axis.low) * 0.04;
  axis.low -= pad, axis.high += pad;
  if (axis.log) {
    // the powers of ten in view; with fewer than three, 2 and 5 times them too, like a ruler
    int first = static_cast<int>(std::ceil(axis.low)), last = static_cast<int>(std::floor(axis.high));
    int every = std::max(1, (last - first) / 8 + 1);
    for (int e = first; e <= last; e += every) axis.ticks.push_back({e, decade_label(e)});
    if (axis.ticks.size() < 3) {
      for (int e = first - 1; e <= last; ++e)
        for (double factor : {2.0, 5.0}) {
          double value = factor * std::pow(10.0, e), unit = std::log10(value);
          if (unit < axis.low || unit > axis.high) continue;
          axis.ticks.push_back({unit, tick_label(value, std::pow(10.0, e))});
        }
      std::sort(axis.ticks.begin(), axis.ticks.end());
    }
    if (axis.ticks.size() >= 3) return;
    axis.ticks.clear();  // a narrow range: evenly stepped values, as on a linear axis
  }
  double low = axis.log ? std::pow(10.0, axis.low) : axis.low;
  double high = axis.log ? std::pow(10.0, axis.high) : axis.high;
  double step = nice_step(high - low);
  // ticks as whole multiples of the step (no drift from adding it up)
  for (double k = std::ceil(low / step - 1e-9); k * step <= high + step * 1e-9; k += 1) {
    double value = k == 0 ? 0.0 : k * step;
    if (axis.log && value <= 0) continue;
    axis.ticks.push_back({axis.unit(value), tick_label(value, step)});
  }
}

}  // namespace

std::string LinePlot::svg() const {
  Axis x_axis, y_axis;
  x_axis.log = log_x, y_axis.log = log_y;
  for (const auto& line : series)
    for (size_t i = 0; i < line.points.size(); ++i) {
      auto [x, y] = line.points[i];
      if (!x_axis.usable(x) || !y_axis.usable(y)) continue;
      x_axis.include(x), y_axis.include(y);
      double error = i < line.errors.size() && std::isfinite(line.errors[i]) ? line.errors[i] : 0;
      y_axis.include(y + error);
      if (!log_y || y - error > 0) y_axis.include(y - error);
    }
  for (const auto& reference : references) y_axis.include(reference.y);
  place_ticks(x_axis);
  place_ticks(y_axis);

  // the left margin fits the longest y tick label, so labels never run into the axis title
  size_t widest = 0;
  for (const auto& tick : y_axis.ticks) widest = std::max(widest, tick.second.size());
  double left = std::max(56.0, 34.0 + 7.0 * static_cast<double>(widest));
  double plot_w = kWidth - left - kRight, plot_h = kHeight - kTop - kBottom;
  auto px = [&](double unit) { return left + (unit - x_axis.low) / (x_axis.high - x_axis.low) * plot_w; };
  auto py = [&](double unit) { return kTop + (1 - (unit - y_axis.low) / (y_axis.high - y_axis.low)) * plot_h; };
  auto at = [&](double x, double y) { return number(px(x_axis.unit(x))) + "," + number(py(y_axis.unit(y))); };

  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(kWidth) +
                    "\" height=\"" + number(kHeight) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += "<text x=\"" + number(kWidth / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
         escape(title) + "</text>\n";

  // grid and tick labels; x labels are skipped where they would overlap the previous one
  double last_label_end = -INFINITY;
  for (const auto& [unit, label] : x_axis.ticks) {
    double x = px(unit);
    out += "<line x1=\"" + number(x) + "\" y1=\"" + number(kTop) + "\" x2=\"" + number(x) +
           "\" y2=\"" + number(kTop + plot_h) + "\" stroke=\"#eee\"/>\n";
    double half = 3.5 * static_cast<double>(label.size());
    if (x - half < last_label_end + 6) continue;
    last_label_end = x + half;
    out += "<text class=\"x-tick\" x=\"" + number(x) + "\" y=\"" + number(kTop + plot_h + 16) +
           "\" text-anchor=\"middle\">" + escape(label) + "</text>\n";
  }
  // y labels are 12 px tall: one closer than 14 px to the last one drawn is left out
  double last_label_y = INFINITY;
  for (const auto& [unit, label] : y_axis.ticks) {
    double y = py(unit);
    out += "<line x1=\"" + number(left) + "\" y1=\"" + number(y) + "\" x2=\"" + number(left + plot_w) +
           "\" y2=\"" + number(y) + "\" stroke=\"#eee\"/>\n";
    if (last_label_y - y < 14) continue;
    last_label_y = y;
    out += "<text class=\"y-tick\" x=\"" + number(left - 6) + "\" y=\"" + number(y + 4) +
           "\" text-anchor=\"end\">" + escape(label) + "</text>\n";
  }
  out += "<rect x=\"" + number(left) + "\" y=\"" + number(kTop) + "\" width=\"" + number(plot_w) +
         "\" height=\"" + number(plot_h) + "\" fill=\"none\" stroke=\"#444\"/>\n";
  out += "<text x=\"" + number(left + plot_w / 2) + "\" y=\"" + number(kHeight - 10) +
         "\" text-anchor=\"middle\">" + escape(x_label) + (log_x ? " (log)" : "") + "</text>\n";
  out += "<text transform=\"translate(16," + number(kTop + plot_h / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + escape(y_label) + (log_y ? " (log)" : "") +
         "</text>\n";

  // reference lines, dashed grey, labelled at their right end
  for (const auto& reference : references) {
    if (!y_axis.usable(reference.y)) continue;
    double y = py(y_axis.unit(reference.y));
    out += "<line x1=\"" + number(left) + "\" y1=\"" + number(y) + "\" x2=\"" + number(left + plot_w) +
           "\" y2=\"" + number(y) + "\" stroke=\"#888\" stroke-dasharray=\"2,3\"/>\n";
    out += "<text x=\"" + number(left + plot_w - 4) + "\" y=\"" + number(y - 3) +
           "\" text-anchor=\"end\" fill=\"#666\" font-size=\"10\">" + escape(reference.label) + "</text>\n";
  }

  // each series: its line (broken where a point cannot be drawn), error bars, markers
  std::vector<std::pair<double, double>> drawn;  // where ink is, for the legend
  for (size_t s = 0; s < series.size(); ++s) {
    const Series& line = series[s];
    const char* colour = kColours[(line.colour >= 0 ? static_cast<size_t>(line.colour) : s) % 8];
    std::string faint = line.opacity < 1 ? " opacity=\"" + number(line.opacity) + "\"" : "";
    std::string path, marks;
    bool joined = false;
    for (size_t i = 0; i < line.points.size(); ++i) {
      auto [x, y] = line.points[i];
      if (!x_axis.usable(x) || !y_axis.usable(y)) {
        joined = false;
        continue;
      }
      path += (joined ? " L" : (path.empty() ? "M" : " M")) + at(x, y);
      drawn.push_back({px(x_axis.unit(x)), py(y_axis.unit(y))});
      joined = true;
      double error = i < line.errors.size() && std::isfinite(line.errors[i]) ? line.errors[i] : 0;
      if (error > 0) {
        double low = log_y && y - error <= 0 ? y : y - error;
        std::string cx = number(px(x_axis.unit(x)));
        double top = py(y_axis.unit(y + error)), bottom = py(y_axis.unit(low));
        marks += "<path d=\"M" + cx + "," + number(top) + " V" + number(bottom) + " M" +
                 number(px(x_axis.unit(x)) - 4) + "," + number(top) + " h8 M" +
                 number(px(x_axis.unit(x)) - 4) + "," + number(bottom) + " h8\" stroke=\"" + colour +
                 "\" fill=\"none\"/>\n";
      }
      if (line.markers)
        marks += "<circle cx=\"" + number(px(x_axis.unit(x))) + "\" cy=\"" + number(py(y_axis.unit(y))) +
                 "\" r=\"3\" fill=\"" + colour + "\"/>\n";
    }
    if (line.line && !path.empty())
      out += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"1.5\"" +
             (line.dashed ? " stroke-dasharray=\"6,4\"" : "") + faint + "/>\n";
    out += marks;
  }

  // the legend on a white box, in the corner that hides the fewest drawn points
  if (!series.empty()) {
    size_t longest = 0;
    for (const auto& line : series) longest = std::max(longest, line.label.size());
    double box_w = 36 + 6.5 * static_cast<double>(longest);
    double box_h = 6 + 16 * static_cast<double>(series.size());
    double box_x = left + plot_w - box_w - 6, box_y = kTop + 4;
    size_t fewest = SIZE_MAX;
    for (auto [cx, cy] : {std::pair<double, double>{left + plot_w - box_w - 6, kTop + 4},
                          {left + 6, kTop + 4},
                          {left + plot_w - box_w - 6, kTop + plot_h - box_h - 4},
                          {left + 6, kTop + plot_h - box_h - 4}}) {
      size_t hidden = static_cast<size_t>(std::count_if(drawn.begin(), drawn.end(), [&, cx = cx, cy = cy](const auto& p) {
        return p.first >= cx - 4 && p.first <= cx + box_w + 4 && p.second >= cy - 4 && p.second <= cy + box_h + 4;
      }));
      if (hidden < fewest) fewest = hidden, box_x = cx, box_y = cy;
    }
    out += "<rect x=\"" + number(box_x) + "\" y=\"" + number(box_y) + "\" width=\"" +
           number(box_w) + "\" height=\"" + number(box_h) +
           "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n";
    for (size_t s = 0; s < series.size(); ++s) {
      const char* colour = kColours[(series[s].colour >= 0 ? static_cast<size_t>(series[s].colour) : s) % 8];
      std::string faint = series[s].opacity < 1 ? " opacity=\"" + number(series[s].opacity) + "\"" : "";
      double y = box_y + 14 + 16 * static_cast<double>(s);
      out += "<line x1=\"" + number(box_x + 6) + "\" y1=\"" + number(y - 4) + "\" x2=\"" +
             number(box_x + 24) + "\" y2=\"" + number(y - 4) + "\" stroke=\"" + colour +
             "\" stroke-width=\"2\"" + (series[s].dashed ? " stroke-dasharray=\"4,2\"" : "") +
             (series[s].line ? "" : " stroke-opacity=\"0\"") + faint + "/>\n";
      if (series[s].markers)
        out += "<circle cx=\"" + number(box_x + 15) + "\" cy=\"" + number(y - 4) + "\" r=\"3\" fill=\"" +
               colour + "\"/>\n";
      out += "<text x=\"" + number(box_x + 30) + "\" y=\"" + number(y) + "\" fill=\"" + colour + "\">" +
             escape(series[s].label) + "</text>\n";
    }
  }
  return out + "</svg>\n";
}

std::vector<std::pair<double, double>> smoothed(const std::vector<std::pair<double, double>>& points,
                                                double window) {
  double keep = 1 - 2 / (std::max(window, 1.0) + 1);
  double sum = 0, weight = 0;
  std::vector<std::pair<double, double>> out;
  for (auto [x, y] : points) {
    if (!std::isfinite(y)) continue;
    sum = keep * sum + (1 - keep) * y;
    weight = keep * weight + (1 - keep);
    out.push_back({x, sum / weight});
  }
  return out;
}

void LinePlot::write(const std::filesystem::path& file) const { io::write_file_atomic(file, svg()); }

}  // namespace wm
