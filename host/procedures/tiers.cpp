// tiers: scores every clip of a dataset (motion, optical flow, clarity, length, resolution; see
// wm/quality.h) and sorts the clips into platinum / gold / silver / bronze lists, by score
// thresholds or by target shares. Writes tiers/<tier>.txt (one id per line), tiers/scores.csv,
// tiers/summary.md and tiers/scores.svg into the run folder.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "../procedure.h"
#include "wm/io/atomic_file.h"
#include "wm/log.h"
#include "report/plot.h"
#include "report/progress.h"
#include "procedures/quality.h"
#include "wm/error.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
const char* const kTiers[4] = {"platinum", "gold", "silver", "bronze"};

Schema tiers_schema() {
  return Schema{}
      .data_ref("data", "train",
                "which entry under `data:` to score (its transforms are not applied)")
      .choice("rank_by", "combined", {"combined", "motion", "flow", "clarity"},
              "the score tiers follow; combined: the mean of the percentile ranks of motion (flow "
              "when computed) and clarity")
      .reals("thresholds", {}, "[platinum, gold, silver]: lowest score of each tier")
      .reals("fractions", {}, "[platinum, gold, silver]: share of the scored clips in each tier "
                              "(best first); the rest is bronze").range(0, 1)
      .integer("min_frames", 0, "clips with fewer frames are bronze").at_least(0)
      .integer("min_side", 0, "clips whose shorter side has fewer pixels are bronze").at_least(0)
      .boolean("flow", true, "also compute Lucas-Kanade optical flow (slower, steadier motion)")
      .integer("flow_side", 64, "longer side of the frames the flow is computed on").at_least(8)
      .integer("flow_pairs", 4, "frame pairs per clip the flow looks at").at_least(1)
      .integer("max_samples", 0, "score only the first so many clips (0: all)").at_least(0);
}

void tiers_check(const Experiment&, const ProcedureSpec& step) {
  const Params& p = step.params;
  RealList thresholds = p.get<RealList>("thresholds"), fractions = p.get<RealList>("fractions");
  if (thresholds.empty() == fractions.empty())
    throw ConfigError(step.loc, step.key_path,
                      "give either thresholds or fractions, three values each "
                      "([platinum, gold, silver])");
  const char* key = thresholds.empty() ? "fractions" : "thresholds";
  const RealList& values = thresholds.empty() ? fractions : thresholds;
  if (values.size() != 3) throw p.error(key, "needs three values: [platinum, gold, silver]");
  if (!thresholds.empty() && !(thresholds[0] >= thresholds[1] && thresholds[1] >= thresholds[2]))
    throw p.error("thresholds", "must not increase from platinum to silver");
  if (std::accumulate(fractions.begin(), fractions.end(), 0.0) > 1.0 + 1e-9)
    throw p.error("fractions", "add up to more than 1");
  if (p.get<std::string>("rank_by") == "flow" && !p.get<bool>("flow"))
    throw p.error("rank_by", "ranks by flow, but flow: false turns it off");
}

struct ScoredClip {
  std::string id, source;
  eval::ClipQuality quality;
  double score = 0;
  int tier = 3;
};

// each value's rank scaled to [0, 1] (0 the lowest); equal values share their mean rank
std::vector<double> percentile_ranks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size(), 1.0);
  double last = static_cast<double>(std::max<size_t>(order.size(), 2) - 1);
  for (size_t first = 0, end = 0; first < order.size(); first = end) {
    while (end < order.size() && values[order[end]] == values[order[first]]) ++end;
    double mean_rank = (static_cast<double>(first) + static_cast<double>(end - 1)) / 2.0;
    for (size_t r = first; r < end; ++r) ranks[order[r]] = mean_rank / last;
  }
  return ranks;
}

void rank(std::vector<ScoredClip>& clips, const Params& p) {
  std::string by = p.get<std::string>("rank_by");
  bool flow = p.get<bool>("flow");
  std::vector<double> motion, clarity;
  for (const auto& clip : clips) {
    motion.push_back(flow ? clip.quality.flow : clip.quality.motion);
    clarity.push_back(clip.quality.clarity);
  }
  auto motion_rank = percentile_ranks(motion), clarity_rank = percentile_ranks(clarity);
  for (size_t i = 0; i < clips.size(); ++i) {
    const auto& q = clips[i].quality;
    clips[i].score = by == "motion"    ? q.motion
                     : by == "flow"    ? q.flow
                     : by == "clarity" ? q.clarity
                                       : (motion_rank[i] + clarity_rank[i]) / 2.0;
  }
}

void assign(std::vector<ScoredClip>& clips, const Params& p) {
  int64_t min_frames = p.get<int64_t>("min_frames"), min_side = p.get<int64_t>("min_side");
  auto eligible = [&](const ScoredClip& c) {
    return c.quality.frames >= min_frames && std::min(c.quality.height, c.quality.width) >= min_side;
  };
  RealList thresholds = p.get<RealList>("thresholds");
  if (!thresholds.empty()) {
    for (auto& clip : clips) {
      clip.tier = 3;
      for (int t = 2; t >= 0; --t)
        if (eligible(clip) && clip.score >= thresholds[static_cast<size_t>(t)]) clip.tier = t;
    }
    return;
  }
  // target shares of all scored clips, filled best first from the eligible ones
  RealList fractions = p.get<RealList>("fractions");
  std::vector<size_t> order;
  for (size_t i = 0; i < clips.size(); ++i)
    if (eligible(clips[i])) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return clips[a].score > clips[b].score; });
  size_t next = 0;
  for (int t = 0; t < 3; ++t) {
    auto quota = static_cast<size_t>(std::llround(fractions[static_cast<size_t>(t)] * static_cast<double>(clips.size())));
    for (size_t k = 0; k < quota && next < order.size(); ++k) clips[order[next++]].tier = t;
  }
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void write_outputs(const fs::path& dir, const std::vector<ScoredClip>& clips, const Params& p,
                   const std::vector<SkippedSample>& skipped) {
  fs::create_directories(dir);
  std::string lists[4];
  std::string csv = "id,source,frames,height,width,motion,flow,clarity,score,tier\n";
  char number[64];
  auto fmt = [&](double value) { return std::snprintf(number, sizeof number, "%.6g", value), std::string(number); };
  for (const auto& c : clips) {
    lists[c.tier] += c.id + "\n";
    csv += csv_field(c.id) + "," + csv_field(c.source) + "," + std::to_string(c.quality.frames) + "," +
           std::to_string(c.quality.height) + "," + std::to_string(c.quality.width) + "," +
           fmt(c.quality.motion) + "," + (c.quality.flow < 0 ? "" : fmt(c.quality.flow)) + "," +
           fmt(c.quality.clarity) + "," + fmt(c.score) + "," + kTiers[c.tier] + "\n";
  }
  for (int t = 0; t < 4; ++t) io::write_file_atomic(dir / (std::string(kTiers[t]) + ".txt"), lists[t]);
  io::write_file_atomic(dir / "scores.csv", csv);

  // summary: per tier its size, score range and mean motion / clarity
  std::string md = "# Tiers of data." + p.get<std::string>("data") + "\n\nranked by `" +
                   p.get<std::string>("rank_by") + "`, " +
                   (p.get<RealList>("thresholds").empty() ? "target fractions " + format_value(p.get<RealList>("fractions"))
                                                          : "thresholds " + format_value(p.get<RealList>("thresholds"))) +
                   "; " + std::to_string(clips.size()) + " clips scored, " +
                   std::to_string(skipped.size()) + " unreadable skipped\n\n"
                   "| tier | clips | share | score min | score max | mean motion | mean flow | mean clarity |\n"
                   "|---|---|---|---|---|---|---|---|\n";
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
    double low = INFINITY, high = -INFINITY, motion = 0, flow = 0, clarity = 0;
    int64_t count = 0;
    Series series{kTiers[t], {}};
    for (size_t r = 0; r < best_first.size(); ++r) {
      const auto& c = clips[best_first[r]];
      if (c.tier != t) continue;
      ++count, low = std::min(low, c.score), high = std::max(high, c.score);
      motion += c.quality.motion, flow += c.quality.flow, clarity += c.quality.clarity;
      series.points.push_back({static_cast<double>(r + 1), c.score});
    }
    double n = std::max<int64_t>(count, 1);
    md += std::string("| ") + kTiers[t] + " | " + std::to_string(count) + " | " +
          fmt(clips.empty() ? 0.0 : 100.0 * count / clips.size()) + "% | " +
          (count ? fmt(low) + " | " + fmt(high) + " | " + fmt(motion / n) + " | " +
                       (p.get<bool>("flow") ? fmt(flow / n) : "-") + " | " + fmt(clarity / n)
                 : "- | - | - | - | -") + " |\n";
    if (!series.points.empty()) plot.series.push_back(series);
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

void tiers_run(RunContext& context, const Params& p) {
  std::string data = p.get<std::string>("data");
  LoaderOptions options = loader_options(context, data, 1, /*training=*/false);
  options.transforms = nullptr;  // quality of the clips as stored
  Loader loader(context.dataset(data), options);
  int64_t total = context.dataset(data).size();
  if (int64_t limit = p.get<int64_t>("max_samples"); limit > 0) total = std::min(total, limit);
  if (total == 0) throw Error("tiers: data." + data + " is empty");

  eval::QualityOptions quality;
  quality.flow = p.get<bool>("flow");
  quality.flow_side = p.get<int64_t>("flow_side");
  quality.flow_pairs = p.get<int64_t>("flow_pairs");
  std::vector<ScoredClip> clips;
  Progress progress("tiers " + data, total);
  at::NoGradGuard no_grad;
  for (int64_t seen = 0; seen < total;) {
    std::optional<Batch> batch = loader.next();
    if (!batch) break;
    int64_t position = loader.position().cursor;  // samples read, unreadable ones included
    progress.advance(position - seen);
    seen = position;
    clips.push_back({batch->ids[0], batch->sources[0], eval::score_clip(batch->at("video")[0], quality)});
  }
  if (clips.empty()) throw Error("tiers: no readable clip in data." + data);
  rank(clips, p);
  assign(clips, p);
  fs::path dir = context.dir / "tiers";
  write_outputs(dir, clips, p, loader.skipped_samples());

  int64_t counts[4] = {0, 0, 0, 0};
  for (const auto& c : clips) ++counts[c.tier];
  std::map<std::string, double> values{{"clips", static_cast<double>(clips.size())},
                                       {"skipped_samples", static_cast<double>(loader.skipped())}};
  for (int t = 0; t < 4; ++t) values[kTiers[t]] = static_cast<double>(counts[t]);
  context.metrics_log.append({{"procedure", "tiers"}, {"data", data}}, values);
  log().info("tiers {}: {} clips: platinum {}, gold {}, silver {}, bronze {}; {} unreadable skipped; "
             "lists and scores in {}", data, clips.size(), counts[0], counts[1], counts[2], counts[3],
             loader.skipped(), dir.string());
}

}  // namespace

const Procedure tiers_procedure = {"tiers",
                                   "score clips (motion, flow, clarity, size) into quality tiers",
                                   &tiers_schema, {}, &tiers_check, &tiers_run};

}  // namespace wm
