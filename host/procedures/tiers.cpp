// tiers: scores every clip of a dataset (motion, optical flow, clarity, occlusion, length,
// resolution; see procedures/quality.h; with a model, action completeness) and sorts the clips
// into platinum / gold / silver / bronze lists: by score thresholds or target shares (`mode:
// ranked`, disjoint lists), or by the seed's filters (`mode: filters`, nested lists). Writes
// tiers/<tier>.txt (one id per line), tiers/scores.csv, tiers/summary.md and tiers/scores.svg
// into the run folder (tiers_report.cpp; tiers-<name>/ for a step named otherwise than its data).
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "../procedure.h"
#include "engine/dataset_split.h"
#include "wm/log.h"
#include "report/progress.h"
#include "procedures/tiers.h"
#include "wm/error.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
using tiers::kTiers;
using tiers::ScoredClip;

Schema tiers_schema() {
  return Schema{}
      .data_ref("data", "train",
                "which entry under `data:` to score (its transforms are not applied)")
      .choice("mode", "ranked", {"ranked", "filters"},
              "ranked: disjoint tiers by `thresholds` or `fractions` of the rank_by score; filters: "
              "nested tiers, bronze all, silver passing min_frames/min_side, gold also passing the "
              "min_*/max_occlusion filters, platinum the gold clips of `manual` or the best `k`")
      .choice("rank_by", "combined", {"combined", "motion", "flow", "clarity"},
              "the score tiers follow; combined: the mean of the percentile ranks of motion (flow "
              "when computed) and clarity")
      .reals("thresholds", {}, "ranked: [platinum, gold, silver]: lowest score of each tier")
      .reals("fractions", {}, "ranked: [platinum, gold, silver]: share of the scored clips in each "
                              "tier (best first); the rest is bronze").range(0, 1)
      .integer("min_frames", 0, "clips with fewer frames are bronze").at_least(0)
      .integer("min_side", 0, "clips whose shorter side has fewer pixels are bronze").at_least(0)
      .real("min_motion", 0, "filters: gold needs a mean frame difference of at least this many grey levels").at_least(0)
      .real("min_flow", 0, "filters: gold needs a mean optical flow of at least this many pixels per frame").at_least(0)
      .real("min_clarity", 0, "filters: gold needs a Laplacian variance of at least this").at_least(0)
      .real("max_occlusion", 0.2, "filters: gold needs an occlusion score (a heuristic share of the "
                                  "frame under static overlays) of at most this").range(0, 1)
      .boolean("completeness", false, "filters: gold needs the model to be sure of the clip's action "
                                      "(max softmax of its `completeness_key` output)")
      .text("completeness_key", "action_logits", "the model's predict output holding action logits [B, C]")
      .real("min_completeness", 0.8, "filters: the least max softmax probability gold needs").range(0, 1)
      .path("manual", "filters: platinum is the gold clips this file lists (one id per line)")
      .integer("k", 0, "filters, without `manual`: platinum is the best k gold clips by rank_by").at_least(0)
      .boolean("flow", true, "also compute Lucas-Kanade optical flow (slower, steadier motion)")
      .integer("flow_side", 64, "longer side of the frames the flow is computed on").at_least(8)
      .integer("flow_pairs", 4, "frame pairs per clip the flow looks at").at_least(1)
      .integer("max_samples", 0, "score only the first so many clips (0: all)").at_least(0);
}

void check_filters(const Experiment& experiment, const ProcedureSpec& step) {
  const Params& p = step.params;
  if (!p.get<RealList>("thresholds").empty() || !p.get<RealList>("fractions").empty())
    throw p.error(p.get<RealList>("thresholds").empty() ? "fractions" : "thresholds",
                  "belongs to mode: ranked; mode: filters sorts by min_frames, min_side, min_motion, "
                  "min_flow, min_clarity, max_occlusion, completeness and manual or k");
  bool manual = !p.get<std::string>("manual").empty();
  if (manual == (p.get<int64_t>("k") > 0))
    throw manual ? p.error("k", "give manual or k for platinum, not both")
                 : ConfigError(step.loc, step.key_path,
                               "mode: filters needs platinum's rule: `manual: <id file>` or `k: <count>`");
  if (p.get<double>("min_flow") > 0 && !p.get<bool>("flow"))
    throw p.error("min_flow", "filters on flow, but flow: false turns it off");
  if (p.get<bool>("completeness") && !experiment.model)
    throw p.error("completeness", "needs a `model:` section whose predict gives `" +
                                      p.get<std::string>("completeness_key") + "` (action logits)");
}

void tiers_check(const Experiment& experiment, const ProcedureSpec& step) {
  const Params& p = step.params;
  if (p.get<std::string>("rank_by") == "flow" && !p.get<bool>("flow"))
    throw p.error("rank_by", "ranks by flow, but flow: false turns it off");
  if (tiers::nested(p)) return check_filters(experiment, step);
  if (!p.get<std::string>("manual").empty()) throw p.error("manual", "belongs to mode: filters");
  if (p.get<int64_t>("k") > 0) throw p.error("k", "belongs to mode: filters");
  if (p.get<bool>("completeness")) throw p.error("completeness", "belongs to mode: filters");
  RealList thresholds = p.get<RealList>("thresholds"), fractions = p.get<RealList>("fractions");
  if (thresholds.empty() == fractions.empty())
    throw ConfigError(step.loc, step.key_path,
                      "give either thresholds or fractions, three values each "
                      "([platinum, gold, silver]), or mode: filters");
  const char* key = thresholds.empty() ? "fractions" : "thresholds";
  const RealList& values = thresholds.empty() ? fractions : thresholds;
  if (values.size() != 3) throw p.error(key, "needs three values: [platinum, gold, silver]");
  if (!thresholds.empty() && !(thresholds[0] >= thresholds[1] && thresholds[1] >= thresholds[2]))
    throw p.error("thresholds", "must not increase from platinum to silver");
  if (std::accumulate(fractions.begin(), fractions.end(), 0.0) > 1.0 + 1e-9)
    throw p.error("fractions", "add up to more than 1");
}
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

bool eligible(const ScoredClip& c, const Params& p) {
  return c.quality.frames >= p.get<int64_t>("min_frames") &&
         std::min(c.quality.height, c.quality.width) >= p.get<int64_t>("min_side");
}

// ranked mode: disjoint tiers by thresholds, or by shares filled best first
void assign_ranked(std::vector<ScoredClip>& clips, const Params& p) {
  auto eligible = [&](const ScoredClip& c) { return wm::eligible(c, p); };
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

// filters mode: the seed's nested definitions; a clip's tier is the best one it reaches
void assign_filters(std::vector<ScoredClip>& clips, const Params& p, const std::vector<std::string>& manual) {
  std::vector<size_t> gold;
  for (size_t i = 0; i < clips.size(); ++i) {
    ScoredClip& c = clips[i];
    const auto& q = c.quality;
    std::vector<std::string> failed;
    if (q.frames < p.get<int64_t>("min_frames")) failed.push_back("frames");
    if (std::min(q.height, q.width) < p.get<int64_t>("min_side")) failed.push_back("side");
    bool silver = failed.empty();
    if (q.motion < p.get<double>("min_motion")) failed.push_back("motion");
    if (q.flow >= 0 && q.flow < p.get<double>("min_flow")) failed.push_back("flow");
    if (q.clarity < p.get<double>("min_clarity")) failed.push_back("clarity");
    if (q.occlusion > p.get<double>("max_occlusion")) failed.push_back("occlusion");
    if (c.completeness >= 0 && c.completeness < p.get<double>("min_completeness")) failed.push_back("completeness");
    c.failed.clear();
    for (const auto& f : failed) c.failed += (c.failed.empty() ? "" : " ") + f;
    c.tier = !silver ? 3 : failed.empty() ? 1 : 2;
    if (c.tier == 1) gold.push_back(i);
  }
  if (!manual.empty()) {
    std::set<std::string> listed(manual.begin(), manual.end());
    int64_t promoted = 0;
    for (size_t i : gold)
      if (listed.count(clips[i].id)) clips[i].tier = 0, ++promoted;
    int64_t others = static_cast<int64_t>(listed.size()) - promoted;
    if (others > 0)
      log().info("tiers: {} of the {} ids in {} are not gold clips of data.{} (failing a filter, or "
                 "not in the data); platinum holds the {} that are", others, listed.size(),
                 p.get<std::string>("manual"), p.get<std::string>("data"), promoted);
    return;
  }
  // the best k of gold by the rank_by score
  std::stable_sort(gold.begin(), gold.end(), [&](size_t a, size_t b) { return clips[a].score > clips[b].score; });
  auto k = static_cast<size_t>(p.get<int64_t>("k"));
  for (size_t r = 0; r < std::min(k, gold.size()); ++r) clips[gold[r]].tier = 0;
}

// the max softmax probability of the model's action logits for the clip of `batch`
double completeness_of(RunContext& context, const Batch& batch, const std::string& key) {
  TensorMap outputs = context.model().predict(batch);
  auto found = outputs.find(key);
  if (found == outputs.end()) {
    std::string keys;
    for (const auto& [name, tensor] : outputs) keys += (keys.empty() ? "" : ", ") + name;
    throw Error("tiers: completeness needs model output '" + key + "' (action logits [B, C]), which " +
                context.experiment.model->name + " does not produce; its predict gives: " + keys +
                " (name another with completeness_key)");
  }
  return eval::max_softmax_probability(found->second).reshape({-1})[0].item<double>();
}

void tiers_run(RunContext& context, const Params& p) {
  std::string data = p.get<std::string>("data");
  LoaderOptions options = loader_options(context, data, 1, /*training=*/false);
  options.transforms = nullptr;  // quality of the clips as stored
  Loader loader(context.dataset(data), options);
  int64_t total = context.dataset(data).size();
  if (int64_t limit = p.get<int64_t>("max_samples"); limit > 0) total = std::min(total, limit);
  if (total == 0) throw Error("tiers: data." + data + " is empty");
  std::vector<std::string> manual;
  if (!p.get<std::string>("manual").empty()) manual = read_id_list(p.get<std::string>("manual"));

  eval::QualityOptions quality;
  quality.flow = p.get<bool>("flow");
  quality.flow_side = p.get<int64_t>("flow_side");
  quality.flow_pairs = p.get<int64_t>("flow_pairs");
  bool completeness = p.get<bool>("completeness");
  if (completeness) context.model().set_training(false);
  std::vector<ScoredClip> clips;
  Progress progress("tiers " + data, total);
  at::NoGradGuard no_grad;
  // one clip's scores are small tensor ops that a thread team only slows down (6x under load);
  // a model's predict keeps the run's threads
  std::optional<SingleComputeThread> one_thread;
  if (!completeness) one_thread.emplace();
  for (int64_t seen = 0; seen < total;) {
    std::optional<Batch> batch = loader.next();
    if (!batch) break;
    int64_t position = loader.position().cursor;  // samples read, unreadable ones included
    progress.advance(position - seen);
    seen = position;
    ScoredClip clip{batch->ids[0], batch->sources[0], eval::score_clip(batch->at("video")[0], quality)};
    if (completeness) clip.completeness = completeness_of(context, *batch, p.get<std::string>("completeness_key"));
    if (batch->tensors.count("corrupted")) clip.corrupted = batch->at("corrupted").reshape({-1})[0].item<bool>() ? 1 : 0;
    clips.push_back(std::move(clip));
  }
  if (clips.empty()) throw Error("tiers: no readable clip in data." + data);
  rank(clips, p);
  if (tiers::nested(p))
    assign_filters(clips, p, manual);
  else
    assign_ranked(clips, p);
  // tiers/, or tiers-<name>/ for a step whose `name:` is not its data's: two steps keep their lists apart
  std::string label = context.metrics_log.step_label();
  fs::path dir = context.dir / (label.empty() || label == data ? std::string("tiers") : "tiers-" + label);
  tiers::write_outputs(dir, clips, p, loader.skipped_samples());

  // per list its size and, when the data knows, its share of corrupted clips
  bool nest = tiers::nested(p), truth = clips.front().corrupted >= 0;
  std::map<std::string, double> values{{"clips", static_cast<double>(clips.size())},
                                       {"skipped_samples", static_cast<double>(loader.skipped())}};
  int64_t counts[4] = {0, 0, 0, 0}, corrupted[4] = {0, 0, 0, 0}, all_corrupted = 0;
  for (const auto& c : clips) {
    all_corrupted += c.corrupted > 0;
    for (int t = 0; t < 4; ++t)
      if (tiers::listed(c, t, nest)) ++counts[t], corrupted[t] += c.corrupted > 0;
  }
  for (int t = 0; t < 4; ++t) {
    values[kTiers[t]] = static_cast<double>(counts[t]);
    if (truth) values[std::string(kTiers[t]) + "_corrupted_share"] = counts[t] ? static_cast<double>(corrupted[t]) / static_cast<double>(counts[t]) : 0.0;
  }
  if (truth) values["corrupted_share"] = static_cast<double>(all_corrupted) / static_cast<double>(clips.size());
  context.metrics_log.append({{"procedure", "tiers"}, {"data", data}}, values);
  log().info("tiers {}: {} clips: platinum {}, gold {}, silver {}, bronze {}{}; {} unreadable skipped; "
             "lists and scores in {}", data, clips.size(), counts[0], counts[1], counts[2], counts[3],
             nest ? " (nested lists)" : "", loader.skipped(), dir.string());
}

}  // namespace

const Procedure tiers_procedure = {"tiers",
                                   "score clips (motion, flow, clarity, occlusion, size, action "
                                   "completeness) into quality tiers",
                                   &tiers_schema, {}, &tiers_check, &tiers_run};

}  // namespace wm
