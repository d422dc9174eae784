// The files of the `tiers` procedure: one id list per tier, every clip's scores, a summary
// table per tier and a plot of the scores by tier.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "procedures/tiers.h"
#include "report/plot.h"
#include "report/table_writer.h"
#include "wm/io/atomic_file.h"
#include "wm/schema.h"

namespace wm::tiers {

namespace fs = std::filesystem;
const char* const kTiers[4] = {"platinum", "gold", "silver", "bronze"};

bool nested(const Params& params) { return params.get<std::string>("mode") == "filters"; }

namespace {

std::string fmt(double value) {
  char number[64];
  std::snprintf(number, sizeof number, "%.6g", value);
  return number;
}

// the rule that made the tiers, for the summary's first line
std::string rule(const Params& p) {
  if (nested(p)) {
    std::string text = "filters: silver = min_frames " + std::to_string(p.get<int64_t>("min_frames")) +
                       ", min_side " + std::to_string(p.get<int64_t>("min_side")) +
                       "; gold = silver with motion >= " + fmt(p.get<double>("min_motion")) +
                       (p.get<bool>("flow") ? ", flow >= " + fmt(p.get<double>("min_flow")) : "") +
                       ", clarity >= " + fmt(p.get<double>("min_clarity")) +
                       ", occlusion <= " + fmt(p.get<double>("max_occlusion")) +
                       (p.get<bool>("completeness") ? ", completeness >= " + fmt(p.get<double>("min_completeness")) : "") +
                       "; platinum = ";
    return text + (p.get<std::string>("manual").empty()
                       ? "the best " + std::to_string(p.get<int64_t>("k")) + " of gold by `" + p.get<std::string>("rank_by") + "`"
                       : "gold clips listed in " + p.get<std::string>("manual")) +
           "; each list holds the tiers above it";
  }
  return "ranked by `" + p.get<std::string>("rank_by") + "`, " +
         (p.get<RealList>("thresholds").empty() ? "target fractions " + format_value(p.get<RealList>("fractions"))
                                                : "thresholds " + format_value(p.get<RealList>("thresholds")));
}

}  // namespace

void write_outputs(const fs::path& dir, const std::vector<ScoredClip>& clips, const Params& p,
                   const std::vector<SkippedSample>& skipped) {
  fs::create_directories(dir);
  bool nest = nested(p), truth = !clips.empty() && clips.front().corrupted >= 0;
  bool completeness = p.get<bool>("completeness");
  std::string lists[4];
  report::Table scores{{"id", "source", "frames", "height", "width", "motion", "flow", "clarity", "occlusion",
                        "completeness", "score", "tier"}, {}, 2};
  if (nest) scores.header.push_back("failed");
  if (truth) scores.header.push_back("corrupted");
  for (const auto& c : clips) {
    for (int t = 0; t < 4; ++t)
      if (listed(c, t, nest)) lists[t] += c.id + "\n";
    std::vector<std::string> row = {c.id, c.source, std::to_string(c.quality.frames), std::to_string(c.quality.height),
                                    std::to_string(c.quality.width), fmt(c.quality.motion),
                                    c.quality.flow < 0 ? "" : fmt(c.quality.flow), fmt(c.quality.clarity),
                                    fmt(c.quality.occlusion), c.completeness < 0 ? "" : fmt(c.completeness),
                                    fmt(c.score), kTiers[c.tier]};
    if (nest) row.push_back(c.failed);
    if (truth) row.push_back(std::to_string(c.corrupted));
    scores.rows.push_back(std::move(row));
  }
  for (int t = 0; t < 4; ++t) io::write_file_atomic(dir / (std::string(kTiers[t]) + ".txt"), lists[t]);
  report::write_csv(dir / "scores.csv", scores);

  // summary: per tier (per list, in filters mode) its size, score range and mean scores
  std::string md = "# Tiers of data." + p.get<std::string>("data") + "\n\n" + rule(p) + "; " +
                   std::to_string(clips.size()) + " clips scored, " + std::to_string(skipped.size()) +
                   " unreadable skipped\n\n";
  report::Table tiers{{"tier", "clips", "share", "score min", "score max", "mean motion", "mean flow",
                       "mean clarity", "mean occlusion"}, {}};
  if (completeness) tiers.header.push_back("mean completeness");
  if (truth) tiers.header.push_back("corrupted");
  tiers.text_columns = tiers.header.size();
  LinePlot plot;
  plot.title = "clip scores by tier (" + p.get<std::string>("rank_by") + ")";
  plot.x_label = "clip, best first";
  plot.y_label = "score";
  std::vector<size_t> best_first(clips.size());
  std::iota(best_first.begin(), best_first.end(), 0);
  std::stable_sort(best_first.begin(), best_first.end(), [&](size_t a, size_t b) {
    return clips[a].tier != clips[b].tier ? clips[a].tier < clips[b].tier : clips[a].score > clips[b].score;
  });
  for (int t = 0; t < 4; ++t) {
    double low = INFINITY, high = -INFINITY, motion = 0, flow = 0, clarity = 0, occlusion = 0, sure = 0;
    int64_t count = 0, corrupted = 0;
    Series series{kTiers[t], {}};
    for (size_t r = 0; r < best_first.size(); ++r) {
      const auto& c = clips[best_first[r]];
      if (!listed(c, t, nest)) continue;
      ++count, low = std::min(low, c.score), high = std::max(high, c.score);
      motion += c.quality.motion, flow += c.quality.flow, clarity += c.quality.clarity;
      occlusion += c.quality.occlusion, sure += c.completeness, corrupted += c.corrupted > 0;
      if (c.tier == t) series.points.push_back({static_cast<double>(r + 1), c.score});
    }
    double n = static_cast<double>(std::max<int64_t>(count, 1));
    std::vector<std::string> row = {kTiers[t], std::to_string(count),
                                    fmt(clips.empty() ? 0.0 : 100.0 * static_cast<double>(count) /
                                                                   static_cast<double>(clips.size())) + "%"};
    if (count)
      row.insert(row.end(), {fmt(low), fmt(high), fmt(motion / n), p.get<bool>("flow") ? fmt(flow / n) : "-",
                             fmt(clarity / n), fmt(occlusion / n)});
    else
      row.insert(row.end(), 6, "-");
    if (completeness) row.push_back(count ? fmt(sure / n) : "-");
    if (truth) row.push_back(count ? fmt(100.0 * static_cast<double>(corrupted) / n) + "%" : "-");
    tiers.rows.push_back(std::move(row));
    if (!series.points.empty()) plot.series.push_back(series);
  }
  md += tiers.markdown();
  if (nest) {
    // how many silver clips each gold filter turns away
    const char* filters[] = {"motion", "flow", "clarity", "occlusion", "completeness"};
    report::Table failing_table{{"gold filter", "silver clips failing it"}, {}, 2};
    for (const char* filter : filters) {
      int64_t failing = 0;
      for (const auto& c : clips)
        if (c.tier <= 2 && (" " + c.failed + " ").find(std::string(" ") + filter + " ") != std::string::npos) ++failing;
      failing_table.rows.push_back({filter, std::to_string(failing)});
    }
    md += "\n" + failing_table.markdown();
  }
  if (!skipped.empty()) {
    std::string list;
    for (const auto& s : skipped) list += s.id + "\t" + s.source + "\t" + s.message + "\n";
    io::write_file_atomic(dir / "skipped.txt", list);
    md += "\nUnreadable clips (skipped): see skipped.txt\n";
  }
  io::write_file_atomic(dir / "summary.md", md);
  if (!plot.series.empty()) plot.write(dir / "scores.svg");
}

}  // namespace wm::tiers
