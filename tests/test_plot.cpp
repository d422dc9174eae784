// The SVG line plots: round ticks that never overlap, and the training loss drawn raw and smoothed.
#include <cmath>
#include <regex>

#include "report/plot.h"
#include "test_support.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

struct Tick {
  double position;  // x for x ticks, y for y ticks, in SVG pixels
  std::string label;
};

std::vector<Tick> ticks(const std::string& svg, const std::string& axis) {
  std::regex pattern("<text class=\"" + axis + "-tick\" x=\"([-0-9.e]+)\" y=\"([-0-9.e]+)\"[^>]*>([^<]*)</text>");
  std::vector<Tick> out;
  for (std::sregex_iterator it(svg.begin(), svg.end(), pattern), end; it != end; ++it)
    out.push_back({std::stod((*it)[axis == "x" ? 1 : 2]), (*it)[3]});
  return out;
}

// a label back to its value: "15k" -> 15000, "2.5M" -> 2.5e6, "0.05" -> 0.05, "2e-5" -> 2e-05
double value_of(const std::string& label) {
  double scale = label.back() == 'k' ? 1e3 : label.back() == 'M' ? 1e6 : 1;
  return std::stod(scale == 1 ? label : label.substr(0, label.size() - 1)) * scale;
}

// 1, 2 or 5 times a power of ten (or zero), to a part in 1e9
bool is_round(double value) {
  if (value == 0) return true;
  double exponent = std::floor(std::log10(std::abs(value)) + 1e-12);
  double mantissa = std::abs(value) / std::pow(10.0, exponent);
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (std::abs(mantissa - m) < 1e-9 * m) return true;
  return false;
}

LinePlot plot_of(double x_low, double x_high, double y_low, double y_high, bool log_y) {
  LinePlot plot;
  plot.log_y = log_y;
  Series series{"s", {}};
  for (int i = 0; i <= 200; ++i) {
    double f = i / 200.0;
    double y = log_y ? y_low * std::pow(y_high / y_low, f) : y_low + (y_high - y_low) * f;
    series.points.push_back({x_low + (x_high - x_low) * f, y});
  }
  plot.series.push_back(series);
  return plot;
}

TEST(Plot, TicksAreRoundCompactAndApart) {
  // (x range, y range, log y): steps of short and long runs, losses over part of a decade, one
  // decade and many, a linear axis through zero
  struct Case {
    double x_low, x_high, y_low, y_high;
    bool log_y;
  };
  for (const Case& c : {Case{1, 37, 0.03, 0.9, true}, Case{1, 120000, 0.2, 1.5, true},
                        Case{1, 2500000, 1e-5, 10, true}, Case{0, 7, -3.7, 12.1, false},
                        Case{1, 60, 0.0012, 0.0017, false}, Case{1, 1000, 0.11, 0.99, true},
                        Case{10, 10, 2, 2, true}, Case{1, 150, 1.2e-5, 2.6e-4, true}}) {
    std::string svg = plot_of(c.x_low, c.x_high, c.y_low, c.y_high, c.log_y).svg();
    auto xs = ticks(svg, "x"), ys = ticks(svg, "y");
    SCOPED_TRACE(std::to_string(c.x_high) + " " + std::to_string(c.y_low) + ".." + std::to_string(c.y_high));
    EXPECT_GE(xs.size(), 3u);
    EXPECT_LE(xs.size(), 9u);
    EXPECT_GE(ys.size(), 3u);
    EXPECT_LE(ys.size(), 9u);
    // linear axes step by one round amount; a log axis shows round values themselves
    for (size_t i = 1; i < xs.size(); ++i) {
      double step = value_of(xs[i].label) - value_of(xs[i - 1].label);
      EXPECT_TRUE(is_round(step)) << xs[i - 1].label << " " << xs[i].label;
      EXPECT_NEAR(step, value_of(xs[1].label) - value_of(xs[0].label), 1e-9 * std::abs(step));
    }
    for (size_t i = 0; i < ys.size(); ++i) {
      if (c.log_y) EXPECT_TRUE(is_round(value_of(ys[i].label))) << ys[i].label;
      else if (i > 0) EXPECT_TRUE(is_round(value_of(ys[i].label) - value_of(ys[i - 1].label))) << ys[i].label;
    }
    for (const auto& tick : xs) EXPECT_LE(tick.label.size(), 5u) << tick.label;
    for (const auto& tick : ys) EXPECT_LE(tick.label.size(), 6u) << tick.label;
    // labels at 7 px per character (12 px sans-serif is narrower) keep 6 px apart on x, 14 px on y
    for (size_t i = 1; i < xs.size(); ++i)
      EXPECT_GE(xs[i].position - xs[i - 1].position,
                3.5 * static_cast<double>(xs[i].label.size() + xs[i - 1].label.size()) + 6)
          << xs[i - 1].label << " " << xs[i].label;
    for (size_t i = 1; i < ys.size(); ++i)
      EXPECT_GE(ys[i - 1].position - ys[i].position, 14) << ys[i - 1].label << " " << ys[i].label;
    // values grow along the axis and are distinct
    for (size_t i = 1; i < ys.size(); ++i) EXPECT_GT(value_of(ys[i].label), value_of(ys[i - 1].label));
  }
}

TEST(Plot, TickLabelsKeepTheirStepsDigits) {
  auto ys = ticks(plot_of(1, 60, 0.0012, 0.0017, false).svg(), "y");
  std::vector<std::string> labels;
  for (const auto& tick : ys) labels.push_back(tick.label);
  EXPECT_THAT(labels, ::testing::ElementsAre("0.0012", "0.0013", "0.0014", "0.0015", "0.0016", "0.0017"));
  auto xs = ticks(plot_of(1, 120000, 0.2, 1.5, true).svg(), "x");
  std::vector<std::string> steps;
  for (const auto& tick : xs) steps.push_back(tick.label);
  EXPECT_THAT(steps, ::testing::ElementsAre("0", "20k", "40k", "60k", "80k", "100k", "120k"));
  // less than two decades of loss: 1-2-5 ticks, not a lone 0.1
  auto loss = ticks(plot_of(1, 37, 0.03, 0.9, true).svg(), "y");
  std::vector<std::string> losses;
  for (const auto& tick : loss) losses.push_back(tick.label);
  EXPECT_THAT(losses, ::testing::ElementsAre("0.05", "0.1", "0.2", "0.5", "1"));
  // small losses: one notation for the decades and the values between them
  auto small = ticks(plot_of(1, 150, 1.2e-5, 2.6e-4, true).svg(), "y");
  std::vector<std::string> smalls;
  for (const auto& tick : small) smalls.push_back(tick.label);
  EXPECT_THAT(smalls, ::testing::ElementsAre("2e-5", "5e-5", "1e-4", "2e-4"));
}

TEST(Plot, SmoothedIsTheDebiasedEmaOfNumpy) {
  test::TempDir dir;
  std::vector<std::pair<double, double>> points;
  auto noise = at::rand({300}, at::kDouble);
  for (int i = 0; i < 300; ++i)
    points.push_back({i + 1.0, std::exp(-i / 80.0) + 0.3 * noise[i].item<double>()});
  points[17].second = NAN;  // skipped
  auto ema = smoothed(points, 12);
  ASSERT_EQ(ema.size(), 299u);
  std::vector<double> ys;
  for (auto [x, y] : points) ys.push_back(y);
  test::write_raw(dir.path() / "y.raw", at::tensor(ys, at::kDouble));
  // the reference: pandas' ewm(span=12, adjust=True).mean(), written out in numpy
  test::run_python(dir, R"py(
import sys, numpy as np
y = np.fromfile(sys.argv[1] + '/y.raw')
y = y[np.isfinite(y)]
alpha = 2 / (12 + 1)
weights = (1 - alpha) ** np.arange(len(y))
out = np.array([np.dot(weights[:i + 1][::-1], y[:i + 1]) / weights[:i + 1].sum() for i in range(len(y))])
out.tofile(sys.argv[1] + '/ema.raw')
)py");
  auto reference = test::read_raw(dir.path() / "ema.raw", {299});
  for (int64_t i = 0; i < 299; ++i)
    EXPECT_NEAR(ema[static_cast<size_t>(i)].second, reference[i].item<double>(), 1e-12) << i;
  EXPECT_EQ(ema[17].first, 19.0);  // x of the point after the skipped one
}

TEST(Plot, FaintSeriesCarryTheirOpacityAndColour) {
  LinePlot plot;
  Series raw{"loss per step", {{1, 1.0}, {2, 0.5}}};
  raw.opacity = 0.3, raw.colour = 0;
  Series smooth{"EMA over 4 steps", {{1, 1.0}, {2, 0.8}}};
  smooth.colour = 0;
  plot.series = {raw, smooth};
  std::string svg = plot.svg();
  // both in the first colour; the raw line and its legend entry faint, the smoothed one not
  std::regex faint_path("<path d=\"[^\"]*\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" opacity=\"0.3\"/>");
  std::regex solid_path("<path d=\"[^\"]*\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\"/>");
  EXPECT_TRUE(std::regex_search(svg, faint_path)) << svg;
  EXPECT_TRUE(std::regex_search(svg, solid_path)) << svg;
  EXPECT_THAT(svg, HasSubstr(">EMA over 4 steps</text>"));
  EXPECT_THAT(svg, ::testing::Not(HasSubstr("#d62728")));  // no second colour
}

}  // namespace
}  // namespace wm
