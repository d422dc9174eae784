#include "procedures/scaler_report.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "report/table_writer.h"
#include "wm/error.h"

namespace wm {

//---- expected ranges ----

std::map<std::string, std::pair<double, double>> parse_expected_std(
    const std::vector<std::string>& items) {
  std::map<std::string, std::pair<double, double>> ranges;
  for (const auto& item : items) {
    std::istringstream in(item);
    std::string name, range;
    in >> name >> range;
    size_t dots = range.find("..");
    std::string rest;
    if (name.empty() || dots == std::string::npos || (in >> rest))
      throw Error("'" + item + "' is not \"<dimension> <low>..<high>\" (e.g. \"mouse.dx 5..50\")");
    char* end = nullptr;
    std::string low_text = range.substr(0, dots), high_text = range.substr(dots + 2);
    double low = std::strtod(low_text.c_str(), &end);
    bool ok = !low_text.empty() && *end == '\0';
    double high = std::strtod(high_text.c_str(), &end);
    ok = ok && !high_text.empty() && *end == '\0';
    if (!ok) throw Error("'" + item + "': the range '" + range + "' is not two numbers low..high");
    if (!(low >= 0 && low <= high))
      throw Error("'" + item + "': need 0 <= low <= high, got " + low_text + ".." + high_text);
    ranges[name] = {low, high};
  }
  return ranges;
}

//---- the report ----

namespace {

// 100352 -> "100,352"
std::string thousands(int64_t value) {
  std::string digits = std::to_string(value), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ',';
    out += digits[i];
  }
  return out;
}

std::string range_text(const std::pair<double, double>& range) {
  return fmt::format("{:g}–{:g}", range.first, range.second);
}

}  // namespace

ScalerReport scaler_report(const ActionScalerFit& fit, const ActionScalerFitOptions& options,
                           const std::map<std::string, std::pair<double, double>>& expected_std,
                           int64_t warn_below_samples,
                           const std::vector<std::filesystem::path>& saved) {
  const io::ActionScaler& scaler = fit.scaler;
  ScalerReport report;
  std::vector<std::string>& warnings = report.warnings;

  // warnings, in the seed's order: per dimension, then the sample count and convergence
  for (int64_t d = 0; d < scaler.size(); ++d) {
    const std::string& name = scaler.names[d];
    double spread = scaler.std[d];
    auto range = expected_std.find(name);
    if (spread < 1e-8)
      warnings.push_back(fmt::format("'{}' has std ~0: no variation (constant or corrupt data?); it "
                                     "will be divided by 1", name));
    else if (spread > 1000)
      warnings.push_back(fmt::format("'{}' has std {:.4g} > 1000: outliers or wrong units?", name,
                                     spread));
    if (range != expected_std.end() &&
        (spread < range->second.first || spread > range->second.second))
      warnings.push_back(fmt::format("{} std {:.4g} outside the expected {} (expected_std)", name,
                                     spread, range_text(range->second)));
  }
  if (warn_below_samples > 0 && scaler.count < warn_below_samples)
    warnings.push_back(fmt::format(
        "only {} rows, fewer than {} (warn_below_samples): the mean's standard error is {:.2f} % "
        "of a std; raise max_samples or add shards",
        thousands(scaler.count), thousands(warn_below_samples),
        100.0 / std::sqrt(static_cast<double>(std::max<int64_t>(1, scaler.count)))));
  if (options.convergence && !scaler.converged)
    warnings.push_back("not converged: raise max_samples if the budget was the limit");
  if (fit.holdout_rows == 0 && options.holdout > 0)
    warnings.push_back(fmt::format("no held-out samples (too few samples for holdout {})",
                                   options.holdout));
  if (fit.skipped > 0)
    warnings.push_back(fmt::format("skipped {} unreadable sample(s), first: {}", fit.skipped,
                                   fit.skipped_sources.front()));
  if (fit.short_samples > 0)
    warnings.push_back(fmt::format("{} sample(s) shorter than one clip of {} frame(s) at stride {} "
                                   "were left out", fit.short_samples, options.frames,
                                   options.stride));

  // the seed's block
  std::string rule(60, '=');
  std::vector<std::string>& block = report.block;
  std::string saved_to;
  for (const auto& path : saved) saved_to += (saved_to.empty() ? "" : ", ") + path.string();
  block = {rule, "SCALER FITTING COMPLETE", rule, "Saved to: " + saved_to,
           "Total samples: " + thousands(scaler.count),
           std::string("Converged: ") + (scaler.converged ? "True" : "False"),
           fmt::format("fit_action_scaler: {} rows from {} samples in {} shard(s), {:.2f}s, "
                       "converged: {}", scaler.count, fit.samples_read, fit.shards_used,
                       fit.seconds, scaler.converged ? "yes" : "no"),
           fmt::format("Rows: stride {}, {}", options.stride,
                       options.frames > 0 ? fmt::format("clips of {} frames ({})", options.frames,
                                                        options.every_clip ? "all" : "first")
                                          : std::string("whole samples")),
           "", "Action Statistics (Continuous Actions):"};
  for (int64_t d = 0; d < scaler.size(); ++d)
    block.push_back(fmt::format("  {:<12}- Mean: {:>12.6g}, Std: {:>12.6g}", scaler.names[d],
                                scaler.mean[d], scaler.std[d]));
  if (fit.holdout_rows > 0) {
    double worst_mean = 0, worst_std = 0;
    for (int64_t d = 0; d < scaler.size(); ++d) {
      worst_mean = std::max(worst_mean, std::abs(fit.holdout_mean[d]));
      worst_std = std::max(worst_std, std::abs(fit.holdout_std[d] - 1));
    }
    block.push_back(fmt::format("held-out check on {} rows: |mean| <= {:.3f}, |std - 1| <= {:.3f} "
                                "(ideal 0 and 0)", fit.holdout_rows, worst_mean, worst_std));
  }
  block.push_back(fmt::format("Warnings: {}", warnings.empty() ? "none" : std::to_string(warnings.size())));
  block.push_back(rule);

  // action_scaler.md: the same facts as a table
  std::ostringstream md;
  md << "# Action scaler\n\n"
     << "Saved to: " << saved_to << "  \n"
     << "Total samples: " << thousands(scaler.count) << " rows from " << fit.samples_read
     << " samples in " << fit.shards_used << " shard(s), " << fmt::format("{:.2f}", fit.seconds)
     << " s  \nConverged: " << (scaler.converged ? "yes" : "no") << "  \n"
     << "Rows: stride " << options.stride << ", "
     << (options.frames > 0 ? fmt::format("clips of {} frames", options.frames) : "whole samples")
     << "; budget " << thousands(options.max_samples) << "\n\n";
  report::Table dimensions{{"dimension", "mean", "std", "expected std", "held-out mean", "held-out std"}, {}, 1};
  for (int64_t d = 0; d < scaler.size(); ++d) {
    auto range = expected_std.find(scaler.names[d]);
    dimensions.rows.push_back({scaler.names[d], fmt::format("{:.6g}", scaler.mean[d]), fmt::format("{:.6g}", scaler.std[d]),
                               range == expected_std.end() ? "–" : range_text(range->second),
                               fit.holdout_rows > 0 ? fmt::format("{:.4f}", fit.holdout_mean[d]) : "–",
                               fit.holdout_rows > 0 ? fmt::format("{:.4f}", fit.holdout_std[d]) : "–"});
  }
  md << dimensions.markdown();
  if (fit.holdout_rows > 0)
    md << "\nHeld-out check: " << fit.holdout_rows
       << " rows of samples kept out of the fit, standardised by it (ideal: mean 0, std 1).\n";
  md << "\n## Warnings\n\n";
  if (warnings.empty()) md << "None.\n";
  for (const auto& warning : warnings) md << "- " << warning << "\n";
  report.markdown = md.str();
  return report;
}

}  // namespace wm
