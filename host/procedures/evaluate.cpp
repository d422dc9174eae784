// evaluate: run the model over a dataset and score its outputs with every metric.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>

#include "../procedure.h"
#include "scoreboard.h"
#include "report/gif_writer.h"
#include "wm/log.h"
#include "report/png_writer.h"
#include "report/progress.h"
#include "report/tensorboard.h"
#include "wm/error.h"
#ifdef WM_HAVE_VIDEO
#include "wm/video/video.h"
#endif

namespace wm {
namespace {

Schema evaluate_schema() {
  return Schema{}
      .data_ref("data", "val", "which entry under `data:` to evaluate on")
      .integer("batch_size", 8, "samples per batch").at_least(1)
      .integer("max_batches", 0, "stop after this many batches (0: the whole dataset)")
      .at_least(0)
      .integers("gaps", {}, "frame gaps to score separately (a frame predictor's horizon); empty: "
                            "the model's own").at_least(1)
      .text("baseline", "none", "also score this entry of `baselines:` (default: copy_last, "
                                "frame t as the prediction of t+gap) on the same batches; none: no")
      .integer("preview", 4, "clips in preview_<data>_gap<k>.gif (frame t | prediction | truth) and, "
                             "with FFmpeg, .mp4 (prediction | truth); 0: none")
      .at_least(0)
      .boolean("tensorboard", true, "also write the values and the preview frames (PNG) as "
                                    "TensorBoard events in <run>/tb/");
}

// `baseline` names an entry of `baselines:` (copy_last unless the experiment lists its own)
void evaluate_check(const Experiment& experiment, const ProcedureSpec& step) {
  std::string baseline = step.params.get<std::string>("baseline");
  if (baseline == "none") return;
  std::vector<std::string> names;
  for (const auto& spec : experiment.baselines) names.push_back(spec.name);
  if (std::find(names.begin(), names.end(), baseline) == names.end())
    throw step.params.error("baseline", "no baseline '" + baseline + "'" + did_you_mean(baseline, names) +
                                            "; baselines: " + (names.empty() ? "none" : join(names)) +
                                            " (list models under `baselines:`)");
}

// preview frames: per clip a row [frame t | prediction | truth], over time: [T', 3, rows*H, 3*W]
at::Tensor preview_frames(const Batch& batch, const TensorMap& outputs, int64_t clips) {
  const auto& prediction = outputs.at("prediction");
  if (prediction.dim() != 5) return {};
  int64_t steps = prediction.size(1);
  auto first = batch.at("video").slice(1, 0, steps);
  if (!first.sizes().equals(prediction.sizes())) return {};
  auto rows = at::cat({first, prediction, outputs.at("target")}, 4).slice(0, 0, clips);  // [C, T', 3, H, 3W]
  return rows.permute({1, 2, 0, 3, 4}).reshape({steps, 3, -1, rows.size(4)});
}

// the preview's frames as TensorBoard images <tag>/frame_00, _01, ..., enlarged like the GIF
void write_preview_images(TensorBoardWriter& board, const std::string& tag, const at::Tensor& frames,
                          int64_t scale) {
  auto large = frames.detach().to(at::kCPU).repeat_interleave(scale, 2).repeat_interleave(scale, 3);
  for (int64_t t = 0; t < large.size(0); ++t) {
    char name[16];
    std::snprintf(name, sizeof name, "/frame_%02lld", static_cast<long long>(t));
    board.image(tag + name, encode_png(large[t]), large.size(2), large.size(3), board.last_step());
  }
}

#ifdef WM_HAVE_VIDEO
// the preview clips as a video, prediction | truth, clips stacked vertically and enlarged
// `scale` times; a failure (e.g. no H.264 encoder) is reported and the evaluation goes on
void write_preview_video(const std::filesystem::path& file, const TensorMap& outputs,
                         int64_t clips, int64_t scale) {
  auto stacked = [&](const at::Tensor& frames) {  // [C, T', 3, H, W] -> [T', 3, C*H*s, W*s]
    auto picked = frames.slice(0, 0, clips).detach().to(at::kCPU).to(at::kFloat);
    auto rows = picked.permute({1, 2, 0, 3, 4}).reshape({picked.size(1), 3, -1, picked.size(4)});
    return rows.repeat_interleave(scale, 2).repeat_interleave(scale, 3);
  };
  try {
    video::write_side_by_side(file, stacked(outputs.at("prediction")), stacked(outputs.at("target")),
                              {2.5});
    log().info("evaluate: preview (prediction | truth) in {}", file.string());
  } catch (const Error& error) {
    log().warn("evaluate: no video preview: {}", error.what());
  }
}
#endif

void evaluate_run(RunContext& context, const Params& params) {
  std::string data_name = params.get<std::string>("data");
  // files are named by the step's label: its data, unless it has a `name:`
  std::string stem = context.metrics_log.step_label().empty() ? data_name : context.metrics_log.step_label();
  Dataset& dataset = context.dataset(data_name);
  int64_t batch_size = params.get<int64_t>("batch_size");
  int64_t batches = (dataset.size() + batch_size - 1) / batch_size;
  if (int64_t limit = params.get<int64_t>("max_batches"); limit > 0)
    batches = std::min(batches, limit);
  if (batches == 0) throw Error("evaluate: data." + data_name + " is empty");
  IntList gaps = params.get<IntList>("gaps");
  std::string baseline_name = params.get<std::string>("baseline");
  Model* baseline = baseline_name == "none" ? nullptr : &context.baseline(baseline_name);
  if (baseline) baseline->set_training(false);
  int64_t preview = params.get<int64_t>("preview");
  bool tensorboard = params.get<bool>("tensorboard");

  // the run's metrics score the model; fresh copies of them score each extra gap and the baseline
  std::vector<Scoreboard> model_boards, baseline_boards;
  size_t horizons = gaps.empty() ? 1 : gaps.size();
  for (size_t g = 0; g < horizons; ++g) {
    std::string label = gaps.empty() ? "" : "gap" + std::to_string(gaps[g]);
    model_boards.push_back({label, g == 0 ? context.metrics() : context.make_metrics()});
    if (baseline)
      baseline_boards.push_back({"baseline" + (label.empty() ? "" : "/" + label), context.make_metrics()});
  }
  reset_boards(model_boards);
  reset_boards(baseline_boards);

  context.model().set_training(false);
  at::NoGradGuard no_grad;
  Progress progress("evaluate " + data_name, batches);
  int64_t samples = 0;
  auto loader = open_loader(context, data_name, batch_size, /*training=*/false);
  for (int64_t b = 0; b < batches; ++b) {
    std::optional<Batch> next = loader->next();
    if (!next) break;
    Batch& batch = *next;
    move_to(batch, context.experiment.device);
    for (size_t g = 0; g < horizons; ++g) {
      if (!gaps.empty()) batch.tensors["gap"] = at::scalar_tensor(gaps[g], at::kLong);  // read on the CPU
      TensorMap outputs = context.model().predict(batch);
      score(model_boards[g], outputs);
      if (baseline) score(baseline_boards[g], baseline->predict(batch));
      if (b == 0 && preview > 0) {
        auto frames = preview_frames(batch, outputs, preview);
        if (frames.defined()) {
          auto file = context.dir / ("preview_" + stem + (model_boards[g].label.empty() ? "" : "_" + model_boards[g].label) + ".gif");
          int64_t scale = std::max<int64_t>(1, 128 / batch.at("video").size(3));
          write_gif(file, frames, 400, scale);
          log().info("evaluate: preview (frame t | prediction | truth) in {}", file.string());
          if (tensorboard)
            write_preview_images(context.tensorboard(),
                                 summary_key("evaluate", context.metrics_log.step_label(),
                                             file.stem().string()), frames, scale);
#ifdef WM_HAVE_VIDEO
          write_preview_video(file.replace_extension(".mp4"), outputs, preview, scale);
#endif
        }
      }
    }
    samples += batch.size();
    progress.advance();
  }

  std::map<std::string, double> values{{"samples", static_cast<double>(samples)},
                                       {"skipped_samples", static_cast<double>(loader->skipped())}};
  std::string report;
  collect_values(model_boards, values, report);
  collect_values(baseline_boards, values, report);
  context.metrics_log.append({{"procedure", "evaluate"}, {"data", data_name}}, values);
  if (tensorboard) context.tensorboard().scalars("evaluate", context.metrics_log.step_label(), values);
  write_metric_table(context.dir / ("evaluate_" + stem), values);
  log().info("evaluate {}: {} samples | {}", data_name, samples, report);
  if (loader->skipped() > 0)
    log().warn("evaluate {}: {} unreadable samples were left out; they are listed above in log.txt",
               data_name, loader->skipped());
}

}  // namespace

const Procedure evaluate_procedure = {"evaluate",
                                      "score the model's outputs on a dataset with every metric",
                                      &evaluate_schema,
                                      {/*model=*/true, /*env=*/false, /*metrics=*/true},
                                      &evaluate_check, &evaluate_run};

}  // namespace wm
