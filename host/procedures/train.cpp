// train: AdamW with warmup + cosine decay over a budget in steps, epochs, samples or tokens;
// gradient accumulation and clipping; atomic checkpoints (model, optimizer, schedule position,
// random state, data position) that `resume: true` continues bit-exactly; a loss-curve plot.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <regex>

#include "../procedure.h"
#include "../run.h"
#include "../run_signals.h"
#include "wm/log.h"
#include "report/plot.h"
#include "report/progress.h"
#include "report/tensorboard.h"
#include "wm/error.h"
#include "engine/adamw.h"
#include "engine/random.h"
#include "wm/io/checkpoint.h"
#include "engine/schedule.h"

namespace wm {
namespace {

namespace fs = std::filesystem;

Schema train_schema() {
  return Schema{}
      .data_ref("data", "train", "which entry under `data:` to train on")
      .integer("batch_size", 16, "samples per step (before accumulation)").at_least(1)
      .integer("steps", 0, "budget in optimizer steps").at_least(0)
      .integer("epochs", 0, "budget in passes over the data").at_least(0)
      .integer("samples", 0, "budget in samples seen").at_least(0)
      .integer("tokens", 0, "budget in tokens seen (as the model counts them)").at_least(0)
      .real("warmup", 0, "linear warmup length, in the budget's unit").at_least(0)
      .real("lr", 1e-3, "peak learning rate").at_least(0)
      .real("min_lr", 1e-6, "learning rate at the end of the cosine decay").at_least(0)
      .real("weight_decay", 0.05, "AdamW decoupled weight decay (not on biases and norms)").at_least(0)
      .reals("betas", {0.9, 0.999}, "AdamW betas").range(0.0, 1.0)
      .real("clip_grad", 1.0, "clip the gradient norm to this (0: off)").at_least(0)
      .integer("accumulate", 1, "batches per optimizer step").at_least(1)
      .integer("log_every", 10, "steps between metrics.jsonl lines").at_least(1)
      .integer("checkpoint_every", 100, "steps between checkpoints (and at the end)").at_least(1)
      .integer("keep_last", 2, "checkpoints kept besides best.pt").at_least(1)
      .data_ref("eval_data", "", "entry under `data:` whose loss picks best.pt (empty: none)")
      .integer("eval_batches", 4, "batches of eval_data per checkpoint").at_least(1)
      .choice("resume", "false", {"false", "true", "force"},
              "true: continue this step from its last checkpoint (each train step has its own "
              "folder: checkpoints, checkpoints-2, ...); force: also when the config changed (the "
              "change is saved as config-change-<n>.diff in the run folder)")
      .path("init_from", "start from these weights: a checkpoint file, or a run folder (its last "
                         "train step's best.pt, else its newest step-*.pt); optimiser and "
                         "schedule start fresh")
      .text("init_prefix", "model/", "the part of the init_from checkpoint holding the model")
      .boolean("init_strict", true, "init_from: every tensor must match in name and shape; false: "
                                    "load the matching ones and list the rest")
      .boolean("tensorboard", true, "also write the logged values as TensorBoard events in <run>/tb/")
      .integer("stop_after_steps", 0,
               "end this process after so many steps, checkpointed (for job time limits); 0: never")
      .at_least(0);
}

void train_check(const Experiment& experiment, const ProcedureSpec& step) {
  const Params& p = step.params;
  check_checkpoint_path(experiment, p, "init_from");
  int budgets = 0;
  for (const char* unit : {"steps", "epochs", "samples", "tokens"}) budgets += p.get<int64_t>(unit) > 0;
  if (budgets != 1)
    throw ConfigError(step.loc, step.key_path,
                      "give exactly one budget: steps, epochs, samples or tokens (got " +
                          std::to_string(budgets) + ")");
  if (p.get<RealList>("betas").size() != 2) throw p.error("betas", "needs two values");
}

// the parameters as the step loop reads them, bound once (train_schema has the docs)
struct TrainOptions {
  explicit TrainOptions(const Params& p)
      : data(p.get<std::string>("data")),
        eval_data(p.get<std::string>("eval_data")),
        batch_size(p.get<int64_t>("batch_size")),
        accumulate(p.get<int64_t>("accumulate")),
        steps(p.get<int64_t>("steps")),
        log_every(p.get<int64_t>("log_every")),
        checkpoint_every(p.get<int64_t>("checkpoint_every")),
        keep_last(p.get<int64_t>("keep_last")),
        eval_batches(p.get<int64_t>("eval_batches")),
        stop_after_steps(p.get<int64_t>("stop_after_steps")),
        lr(p.get<double>("lr")),
        min_lr(p.get<double>("min_lr")),
        warmup(p.get<double>("warmup")),
        weight_decay(p.get<double>("weight_decay")),
        clip_grad(p.get<double>("clip_grad")),
        betas(p.get<RealList>("betas")),
        resume(p.get<std::string>("resume") != "false"),
        init_from(p.get<std::string>("init_from")),
        init_prefix(p.get<std::string>("init_prefix")),
        init_strict(p.get<bool>("init_strict")),
        tensorboard(p.get<bool>("tensorboard")) {
    // the one budget train_check allows
    for (const char* name : {"steps", "epochs", "samples", "tokens"})
      if (p.get<int64_t>(name) > 0) unit = name, total = static_cast<double>(p.get<int64_t>(name));
  }

  std::string data, eval_data;
  int64_t batch_size, accumulate, steps, log_every, checkpoint_every, keep_last, eval_batches,
      stop_after_steps;
  double lr, min_lr, warmup, weight_decay, clip_grad;
  RealList betas;
  bool resume;
  std::string init_from, init_prefix;
  bool init_strict, tensorboard;
  std::string unit;  // of the budget: steps, epochs, samples or tokens
  double total = 0;  // the budget in that unit
};

// where training stands; everything here goes into a checkpoint
struct Position {
  int64_t step = 0, samples = 0, tokens = 0, epoch = 0, cursor = 0;
};

class Trainer {
 public:
  Trainer(RunContext& context, const Params& p)
      : context_(context),
        o_(p),
        model_(context.model()),
        dataset_(context.dataset(o_.data)),
        batch_size_(o_.batch_size),
        accumulate_(o_.accumulate),
        optimizer_(model_.parameters(), {o_.betas[0], o_.betas[1], 1e-8, o_.weight_decay}),
        checkpoints_(context.next_checkpoint_dir()) {
    if (model_.parameters().empty())
      throw Error("model '" + context.experiment.model->plugin->name() +
                  "' has no trainable parameters; `train` needs a learning model");
    if (dataset_.size() < batch_size_)
      throw Error("data." + o_.data + " has " + std::to_string(dataset_.size()) +
                  " samples, fewer than batch_size " + std::to_string(batch_size_));
    schedule_ = {o_.lr, o_.min_lr, o_.warmup, o_.total};
    fs::create_directories(checkpoints_);
  }

  void run() {
    train::seed_everything(static_cast<uint64_t>(context_.experiment.seed));
    bool restored = o_.resume && restore();
    // a resumed step has its weights from its own checkpoint
    if (!restored && !o_.init_from.empty())
      load_weights(context_, o_.init_from, o_.init_prefix, o_.init_strict, "train");
    loader_ =
        open_loader(context_, o_.data, batch_size_, true, {position_.epoch, position_.cursor});
    model_.set_training(true);
    Progress progress("train", o_.steps > 0 ? o_.steps - position_.step : 0);
    int64_t stop_after = o_.stop_after_steps, started_at = position_.step;
    double window_loss = 0;
    int64_t window_steps = 0, window_samples = 0;
    // a resume inside a logging window takes up its steps again, so the line at its end
    // averages the same steps as without the resume
    for (const auto& [step, loss] : history_)
      if (step > static_cast<double>(position_.step / o_.log_every * o_.log_every))
        window_loss += loss, ++window_steps;
    auto window_start = std::chrono::steady_clock::now();

    while (done() < o_.total) {
      double lr = schedule_.at(done());
      LossOutput out;
      double step_loss = 0;
      for (int64_t micro = 0; micro < accumulate_; ++micro) {
        Batch batch = next_batch();
        out = model_.loss(batch);
        double value = out.loss.item<double>();
        if (!std::isfinite(value)) fail_nonfinite(value);
        (out.loss / static_cast<double>(accumulate_)).backward();
        step_loss += value / static_cast<double>(accumulate_);
        position_.samples += batch.size();
        position_.tokens += out.tokens;
        window_samples += batch.size();
      }
      double grad_norm = optimizer_.clip_grad_norm(o_.clip_grad);
      optimizer_.step(lr);
      optimizer_.zero_grad();
      ++position_.step;
      window_loss += step_loss, ++window_steps;
      history_.push_back({static_cast<double>(position_.step), step_loss});

      bool finished = done() >= o_.total;
      bool signalled = stop_requested() && !finished;
      bool stopping = (stop_after > 0 && position_.step - started_at >= stop_after && !finished) || signalled;
      // a stop between lines writes none: the resumed run finishes the window (metrics.jsonl
      // then equals an uninterrupted run's)
      if (position_.step % o_.log_every == 0 || finished) {
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
        std::map<std::string, double> values = out.logs;
        values["step"] = static_cast<double>(position_.step);
        values["loss"] = window_loss / static_cast<double>(window_steps);
        values["lr"] = lr;
        values["grad_norm"] = grad_norm;
        values["samples_per_s"] = seconds > 0 ? window_samples / seconds : 0.0;
        values["samples"] = static_cast<double>(position_.samples);
        values["tokens"] = static_cast<double>(position_.tokens);
        values["skipped_samples"] = static_cast<double>(skipped());
        values["train_size"] = static_cast<double>(dataset_.size());  // the N of a data study
        context_.metrics_log.append({{"procedure", "train"}}, values);
        if (o_.tensorboard) context_.tensorboard().scalars("train", context_.metrics_log.step_label(), values);
        char status[160];
        std::snprintf(status, sizeof status, "loss %.5f, lr %.2e, %.1f samples/s, %s %.4g/%.4g",
                      values["loss"], lr, values["samples_per_s"], o_.unit.c_str(), done(), o_.total);
        progress.advance(window_steps, status);
        window_loss = 0, window_steps = 0, window_samples = 0;
        window_start = std::chrono::steady_clock::now();
      }
      bool scheduled = position_.step % o_.checkpoint_every == 0 || finished;
      if (scheduled || stopping) checkpoint(scheduled);
      if (stopping) {
        plot_loss();
        if (signalled)
          throw RunStopped("train stopped by " + stop_signal_name() + " at step " +
                           std::to_string(position_.step) + ", checkpointed; continue with resume: true");
        throw RunStopped("train stopped after " + std::to_string(position_.step - started_at) +
                         " steps as asked (stop_after_steps), at step " +
                         std::to_string(position_.step) + "; continue with resume: true");
      }
    }
    model_.set_training(false);
    plot_loss();
    if (skipped() > 0)
      log().warn("train: {} unreadable samples were skipped (each replaced by the next one); "
                 "they are listed above in log.txt", skipped());
  }

 private:
  double done() const {
    if (o_.unit == "steps") return static_cast<double>(position_.step);
    if (o_.unit == "samples") return static_cast<double>(position_.samples);
    if (o_.unit == "tokens") return static_cast<double>(position_.tokens);
    return static_cast<double>(position_.epoch) +
           static_cast<double>(position_.cursor) / static_cast<double>(dataset_.size());
  }

  // the loader's batches depend only on (seed, epoch, cursor): any worker count, same losses
  Batch next_batch() {
    Batch batch = *loader_->next();
    position_.epoch = loader_->position().epoch, position_.cursor = loader_->position().cursor;
    move_to(batch, context_.experiment.device);
    return batch;
  }

  int64_t skipped() const { return skipped_before_ + (loader_ ? loader_->skipped() : 0); }

  [[noreturn]] void fail_nonfinite(double value) {
    std::string last = latest_checkpoint().empty() ? "none yet" : latest_checkpoint().string();
    throw Error("train: loss is " + std::to_string(value) + " at step " +
                std::to_string(position_.step + 1) + "; stopped. Last good checkpoint: " + last +
                ". Lower lr, raise warmup or set clip_grad, then resume: true");
  }

  //---- checkpoints ----

  // torch.save's dict: step, model (the state_dict), optimizer, rng, position, history, best,
  // data, config (see docs/run_folder.md)
  io::CheckpointEntries snapshot() const {
    io::CheckpointEntries all;
    all.emplace_back("step", position_.step);
    for (const auto& [name, tensor] : model_.state()) all.emplace_back("model/" + name, tensor);
    for (const auto& [name, tensor] : optimizer_.state()) all.emplace_back("optimizer/" + name, tensor);
    for (const auto& [device, state] : train::random_states()) all.emplace_back("rng/" + device, state);
    const std::pair<const char*, int64_t> position[] = {
        {"step", position_.step},   {"samples", position_.samples}, {"tokens", position_.tokens},
        {"epoch", position_.epoch}, {"cursor", position_.cursor}};
    for (const auto& [name, value] : position) all.emplace_back(std::string("position/") + name, value);
    auto history = at::empty({static_cast<int64_t>(history_.size()), 2}, at::kDouble);
    for (size_t i = 0; i < history_.size(); ++i)
      history[static_cast<int64_t>(i)][0] = history_[i].first, history[static_cast<int64_t>(i)][1] = history_[i].second;
    all.emplace_back("history", history);
    all.emplace_back("best", at::scalar_tensor(best_, at::kDouble));
    all.emplace_back("data/skipped", skipped());
    all.emplace_back("config", to_yaml(context_.experiment.resolved));
    // metrics.jsonl's length: a resume drops the lines written after this checkpoint
    all.emplace_back("metrics/offset", at::scalar_tensor(context_.metrics_log.offset(), at::kLong));
    return all;
  }

  // a stop between scheduled checkpoints saves the state only: eval_loss lines and best.pt
  // follow the schedule, so the resumed run writes what an uninterrupted one would
  void checkpoint(bool scheduled) {
    char name[32];
    std::snprintf(name, sizeof name, "step-%08lld.pt", static_cast<long long>(position_.step));
    if (scheduled) maybe_keep_best();
    io::save_checkpoint(checkpoints_ / name, snapshot());
    auto files = checkpoint_files();
    for (size_t i = 0; i + static_cast<size_t>(o_.keep_last) < files.size(); ++i)
      fs::remove(files[i]);
  }

  // validation loss on fixed batches with a fixed random state, leaving training's state alone
  void maybe_keep_best() {
    const std::string& eval = o_.eval_data;
    if (eval.empty()) return;
    Dataset& data = context_.dataset(eval);
    io::NamedTensors saved = train::random_states();
    train::seed_everything(static_cast<uint64_t>(context_.experiment.seed) + 77);
    at::NoGradGuard no_grad;
    double sum = 0;
    int64_t batches = std::min(o_.eval_batches, data.size() / batch_size_);
    auto loader = open_loader(context_, eval, batch_size_, false);
    for (int64_t b = 0; b < batches; ++b) {
      std::optional<Batch> batch = loader->next();
      if (!batch) break;
      move_to(*batch, context_.experiment.device);
      sum += model_.loss(*batch).loss.item<double>();
    }
    train::set_random_states(saved);
    if (batches == 0) return;
    double value = sum / static_cast<double>(batches);
    std::map<std::string, double> values{{"step", static_cast<double>(position_.step)}, {"eval_loss", value}};
    context_.metrics_log.append({{"procedure", "train"}, {"data", eval}}, values);
    if (o_.tensorboard) context_.tensorboard().scalars("train", context_.metrics_log.step_label(), values);
    if (value < best_) {
      best_ = value;
      io::save_checkpoint(checkpoints_ / "best.pt", snapshot());
      log().info("train: eval loss {:.5f} on data.{} is the best so far: {}", value, eval,
                 (checkpoints_ / "best.pt").string());
    }
  }

  std::vector<fs::path> checkpoint_files() const {
    std::vector<fs::path> files;
    static const std::regex pattern("step-[0-9]{8}\\.pt");
    for (const auto& entry : fs::directory_iterator(checkpoints_))
      if (std::regex_match(entry.path().filename().string(), pattern)) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
  }

  fs::path latest_checkpoint() const {
    auto files = checkpoint_files();
    return files.empty() ? fs::path() : files.back();
  }

  bool restore() {
    fs::path file = latest_checkpoint();
    if (file.empty()) {
      log().info("train: resume: true, but no checkpoint in {} yet; starting fresh", checkpoints_.string());
      return false;
    }
    io::CheckpointEntries entries = io::load_checkpoint(file);
    io::NamedTensors saved = io::tensors_of(entries);
    int64_t metrics_offset = -1;  // -1: a checkpoint from before wmhost stored it
    io::copy_by_name(io::with_prefix(saved, "model/"), model_.state(), "checkpoint " + file.string());
    optimizer_.load_state(io::with_prefix(saved, "optimizer/"));
    train::set_random_states(io::with_prefix(saved, "rng/"));
    for (const auto& [name, tensor] : saved) {
      if (name == "best") best_ = tensor.item<double>();
      if (name == "metrics/offset") metrics_offset = tensor.item<int64_t>();
      if (name == "position") {  // written before position/ held integers
        auto values = tensor.accessor<int64_t, 1>();
        position_ = {values[0], values[1], values[2], values[3], values[4]};
      }
      if (name == "history")
        for (int64_t i = 0; i < tensor.size(0); ++i)
          history_.push_back({tensor[i][0].item<double>(), tensor[i][1].item<double>()});
    }
    if (auto skipped = io::checkpoint_integer(entries, "data/skipped")) skipped_before_ = *skipped;
    if (auto step = io::checkpoint_integer(entries, "position/step")) {
      auto integer = [&](const char* name) { return io::checkpoint_integer(entries, name).value_or(0); };
      position_ = {*step, integer("position/samples"), integer("position/tokens"),
                   integer("position/epoch"), integer("position/cursor")};
    }
    log().info("train: resumed from {} at step {}", file.string(), position_.step);
    context_.metrics_log.restored(metrics_offset);
    // TensorBoard drops the stopped run's events after the checkpoint, which this run redoes
    if (o_.tensorboard) context_.tensorboard().restart_at(position_.step + 1);
    return true;
  }

  void plot_loss() const {
    LinePlot plot;
    plot.title = context_.experiment.name + ": training loss";
    plot.x_label = "step";
    plot.y_label = "loss";
    plot.log_y = true;
    // the per-step loss faintly, and on top its exponential moving average over 1/25 of the
    // steps (at least 5; none under 20 steps)
    Series raw{"loss per step", history_};
    raw.opacity = 0.3, raw.colour = 0;
    plot.series.push_back(raw);
    double window = std::max(5.0, std::round(static_cast<double>(history_.size()) / 25));
    if (history_.size() >= 20) {
      Series smooth{"EMA over " + std::to_string(static_cast<int64_t>(window)) + " steps",
                    smoothed(history_, window)};
      smooth.colour = 0;
      plot.series.push_back(smooth);
    }
    // loss.svg, and loss-2.svg ... beside checkpoints-2 ... for later train steps
    std::string folder = checkpoints_.filename().string();
    fs::path file = context_.dir / ("loss" + folder.substr(std::string("checkpoints").size()) + ".svg");
    plot.write(file);
    log().info("train: loss curve in {}", file.string());
  }

  RunContext& context_;
  const TrainOptions o_;
  Model& model_;
  Dataset& dataset_;
  int64_t batch_size_, accumulate_;
  train::AdamW optimizer_;
  train::WarmupCosine schedule_;
  fs::path checkpoints_;
  double best_ = INFINITY;
  Position position_;
  std::unique_ptr<Loader> loader_;
  int64_t skipped_before_ = 0;  // by the runs this one resumes
  std::vector<std::pair<double, double>> history_;
};

void train_run(RunContext& context, const Params& params) { Trainer(context, params).run(); }

}  // namespace

const Procedure train_procedure = {"train",
                                   "optimise the model's loss (AdamW, warmup + cosine, checkpoints)",
                                   &train_schema, {/*model=*/true}, &train_check, &train_run};

}  // namespace wm
