// score: metrics on videos made elsewhere. Predicted and true videos (two folders or globs) are
// paired by file name, decoded through the SDK's video reader and fed to every metric as
// `prediction` and `target`, with evaluate's accumulation (scoreboard.h). `wmhost score` runs it.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "../procedure.h"
#include "report/progress.h"
#include "score.h"
#include "scoreboard.h"
#include "wm/error.h"
#include "wm/io/webdataset.h"
#include "wm/log.h"
#ifdef WM_HAVE_VIDEO
#include "wm/video/video.h"
#endif

namespace wm {
namespace {

Schema score_schema() {
  return Schema{}
      .path("prediction", "predicted videos: a folder (its video files, not recursive) or a glob "
                          "(gen/*.mp4); paired with `target` by file name without extension")
      .required()
      .path("target", "true videos: a folder or a glob, one file per prediction").required()
      .integer("frames", 0, "score the first N frames of every pair (0: all frames; the two files "
                            "must then hold the same number)").at_least(0)
      .integer("batch_size", 8, "pairs per metric update (pairs of one shape are batched together)")
      .at_least(1);
}

//---- pairing files by name ----

bool is_video_file(const std::filesystem::path& file) {
  static const std::vector<std::string> extensions = {".mp4", ".webm", ".mkv", ".avi",
                                                      ".mov", ".m4v",  ".gif"};
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(extensions.begin(), extensions.end(), extension) != extensions.end();
}

// the files of one side by name: a folder's video files, or what a glob matches
std::map<std::string, std::filesystem::path> list_side(const std::string& side, const std::string& where) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(where)) {
    for (const auto& entry : std::filesystem::directory_iterator(where))
      if (entry.is_regular_file() && is_video_file(entry.path())) files.push_back(entry.path());
    if (files.empty())
      throw Error(side + " folder " + where + " holds no video files (.mp4, .webm, .mkv, .avi, "
                  ".mov, .m4v, .gif)");
  } else {
    for (const auto& file : io::expand_shard_pattern(where))
      if (std::filesystem::is_regular_file(file)) files.push_back(file);
    if (files.empty()) throw Error(side + " pattern " + where + " matches no files");
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, std::filesystem::path> named;
  for (const auto& file : files) {
    auto [it, added] = named.emplace(file.stem().string(), file);
    if (!added)
      throw Error(side + " files " + it->second.string() + " and " + file.string() +
                  " share the name '" + it->first + "'; pairs are matched by name without extension");
  }
  return named;
}

}  // namespace

std::vector<VideoPair> pair_videos(const std::string& prediction, const std::string& target) {
  auto predictions = list_side("prediction", prediction);
  auto targets = list_side("target", target);
  std::vector<VideoPair> pairs;
  std::vector<std::string> lone_predictions, lone_targets;
  for (const auto& [name, file] : predictions) {
    auto match = targets.find(name);
    if (match == targets.end()) lone_predictions.push_back(name);
    else pairs.push_back({name, file, match->second});
  }
  for (const auto& [name, file] : targets)
    if (!predictions.count(name)) lone_targets.push_back(name);
  if (lone_predictions.empty() && lone_targets.empty()) return pairs;
  std::string count = std::to_string(lone_predictions.size()) + " prediction(s) and " +
                      std::to_string(lone_targets.size()) + " target(s) have no partner; ";
  bool prediction_first = !lone_predictions.empty() &&
                          (lone_targets.empty() || lone_predictions.front() < lone_targets.front());
  if (prediction_first) {
    const std::string& name = lone_predictions.front();
    throw Error(count + "the first: prediction " + predictions.at(name).string() +
                " has no target named '" + name + "' in " + target);
  }
  const std::string& name = lone_targets.front();
  throw Error(count + "the first: target " + targets.at(name).string() +
              " has no prediction named '" + name + "' in " + prediction);
}

namespace {

void score_check(const Experiment& experiment, const ProcedureSpec& step) {
  std::string prediction = step.params.get<std::string>("prediction");
  std::string target = step.params.get<std::string>("target");
  if (written_by_run(experiment, prediction) || written_by_run(experiment, target)) return;
  try {
    pair_videos(prediction, target);
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& e) {
    throw step.params.error("prediction", e.what());
  }
}

//---- decoding and scoring ----

#ifdef WM_HAVE_VIDEO
std::string frame_size(const at::Tensor& frames) {
  return std::to_string(frames.size(3)) + "x" + std::to_string(frames.size(2));
}

// both videos of a pair, uint8 [T, 3, H, W], cut to `frames` (0: all); a mismatch in frame count
// or size names the pair and both files
std::pair<at::Tensor, at::Tensor> read_pair(const VideoPair& pair, int64_t frames) {
  auto prediction = video::Reader(pair.prediction, 1).read_all();
  auto target = video::Reader(pair.target, 1).read_all();
  std::string files = "prediction " + pair.prediction.string() + " and target " + pair.target.string();
  if (frame_size(prediction) != frame_size(target))
    throw Error("score: pair '" + pair.name + "' differs in frame size: " + files + " are " +
                frame_size(prediction) + " and " + frame_size(target) + " (width x height)");
  if (frames == 0 && prediction.size(0) != target.size(0))
    throw Error("score: pair '" + pair.name + "' differs in frame count: " + files + " hold " +
                std::to_string(prediction.size(0)) + " and " + std::to_string(target.size(0)) +
                " frames (frames: N scores the first N of each)");
  int64_t shortest = std::min(prediction.size(0), target.size(0));
  if (frames > shortest)
    throw Error("score: pair '" + pair.name + "' is too short for frames: " + std::to_string(frames) +
                ": " + files + " hold " + std::to_string(prediction.size(0)) + " and " +
                std::to_string(target.size(0)) + " frames");
  if (frames > 0) prediction = prediction.slice(0, 0, frames), target = target.slice(0, 0, frames);
  return {prediction, target};
}

// a batch of pairs of one shape, as `collate` makes videos: float32 in [0, 1], [B, T, 3, H, W]
TensorMap pairs_batch(const std::vector<at::Tensor>& predictions, const std::vector<at::Tensor>& targets,
                      const std::string& device) {
  Batch batch;
  batch.tensors["prediction"] = at::stack(predictions).to(at::kFloat).div_(255.0);
  batch.tensors["target"] = at::stack(targets).to(at::kFloat).div_(255.0);
  move_to(batch, device);
  return batch.tensors;
}
#endif

void score_run(RunContext& context, const Params& params) {
#ifndef WM_HAVE_VIDEO
  (void)context, (void)params;
  throw Error("score: this wmhost was built without FFmpeg, so it cannot decode videos "
              "(apt install libavcodec-dev libavformat-dev libswscale-dev, then rebuild)");
#else
  std::string stem = context.metrics_log.step_label().empty()
                         ? "score" : "score_" + context.metrics_log.step_label();
  auto pairs = pair_videos(params.get<std::string>("prediction"), params.get<std::string>("target"));
  int64_t frames = params.get<int64_t>("frames");
  size_t batch_size = static_cast<size_t>(params.get<int64_t>("batch_size"));
  log().info("score: {} pairs", pairs.size());

  std::vector<Scoreboard> boards{{"", context.metrics()}};
  reset_boards(boards);
  at::NoGradGuard no_grad;
  Progress progress("score", static_cast<int64_t>(pairs.size()));
  std::vector<at::Tensor> predictions, targets;
  const std::string producer = "score (it gives the metrics `prediction` and `target` only)";
  auto flush = [&] {
    if (predictions.empty()) return;
    score(boards.front(), pairs_batch(predictions, targets, context.experiment.device), producer);
    progress.advance(static_cast<int64_t>(predictions.size()));
    predictions.clear(), targets.clear();
  };
  int64_t scored_frames = 0;
  for (const auto& pair : pairs) {
    auto [prediction, target] = read_pair(pair, frames);
    if (!predictions.empty() && !predictions.front().sizes().equals(prediction.sizes())) flush();
    scored_frames += prediction.size(0);
    predictions.push_back(prediction), targets.push_back(target);
    if (predictions.size() == batch_size) flush();
  }
  flush();

  std::map<std::string, double> values{{"samples", static_cast<double>(pairs.size())},
                                       {"frames", static_cast<double>(scored_frames)}};
  std::string report;
  collect_values(boards, values, report);
  context.metrics_log.append({{"procedure", "score"}}, values);
  write_metric_table(context.dir / stem, values);
  log().info("score: {} pairs, {} frames | {}", pairs.size(), scored_frames, report);
  log().info("score: table in {}.md and .csv", (context.dir / stem).string());
#endif
}

}  // namespace

const Procedure score_procedure = {"score",
                                   "score videos made elsewhere against true ones, paired by file "
                                   "name, with every metric",
                                   &score_schema,
                                   {/*model=*/false, /*env=*/false, /*metrics=*/true},
                                   &score_check, &score_run};

}  // namespace wm
