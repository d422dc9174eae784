// train: AdamW with warmup + cosine decay over a budget in steps, epochs, samples or tokens;
// gradient accumulation and clipping; atomic checkpoints (model, optimizer, schedule position,
// random state, data position) that `resume: true` continues bit-exactly; a loss-curve plot.
// Data-parallel over the ranks of a distributed run (distributed.h): each rank builds its slice
// of the global batch, gradients are averaged, and every decision comes from values all ranks
// reduced together; rank 0 alone writes.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <sstream>

#include "../distributed.h"
#include "../procedure.h"
#include "../run.h"
#include "../run_signals.h"
#include "wm/log.h"
#include "report/plot.h"
#include "report/progress.h"
#include "report/tensorboard.h"
#include "wm/error.h"
#include "engine/adamw.h"
#include "engine/autocast.h"
#include "engine/random.h"
#include "wm/io/checkpoint.h"
#include "engine/schedule.h"

namespace wm {
namespace {

namespace fs = std::filesystem;

Schema train_schema() {
  return Schema{}
      .data_ref("data", "train", "which entry under `data:` to train on")
      .integer("batch_size", 16, "samples per step (before accumulation), over all ranks of a "
                                 "distributed run").at_least(1)
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
      .choice("precision", "fp32", {"fp32", "bf16"},
              "bf16: the forward pass under autocast (matrix products in bfloat16, losses and norms "
              "in float32), float32 master weights; fast on GPUs and on CPUs with AVX-512 BF16 or AMX")
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
        precision(p.get<std::string>("precision")),
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
  std::string precision;
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
        batch_size_(o_.batch_size / group_.world()),
        accumulate_(o_.accumulate),
        optimizer_(model_.parameters(), {o_.betas[0], o_.betas[1], 1e-8, o_.weight_decay}),
        gradients_(group_, model_.parameters()),
        checkpoints_(context.next_checkpoint_dir()) {
    if (o_.batch_size % group_.world() != 0) {
      int64_t world = group_.world(), below = o_.batch_size / world * world;
      throw Error("train.batch_size " + std::to_string(o_.batch_size) + " does not divide among " +
                  std::to_string(world) + " ranks; the nearest sizes that do are " +
                  (below > 0 ? std::to_string(below) + " and " : std::string()) +
                  std::to_string(below + world) + " (batch_size is the global batch)");
    }
    if (model_.parameters().empty())
      throw Error("model '" + context.experiment.model->plugin->name() +
                  "' has no trainable parameters; `train` needs a learning model");
    if (dataset_.size() < o_.batch_size)
      throw Error("data." + o_.data + " has " + std::to_string(dataset_.size()) +
                  " samples, fewer than batch_size " + std::to_string(o_.batch_size));
    schedule_ = {o_.lr, o_.min_lr, o_.warmup, o_.total};
    fs::create_directories(checkpoints_);
  }

  void run() {
    train::seed_everything(static_cast<uint64_t>(context_.experiment.seed));
    bool restored = o_.resume && restore();
    // a resumed step has its weights from its own checkpoint
    if (!restored && !o_.init_from.empty())
      load_weights(context_, o_.init_from, o_.init_prefix, o_.init_strict, "train");
    if (group_.active()) join_ranks(restored);
    LoaderOptions options = loader_options(context_, o_.data, batch_size_, true);
    options.rank = group_.rank(), options.world = group_.world();
    loader_ = std::make_unique<Loader>(dataset_, options, LoaderPosition{position_.epoch, position_.cursor});
    model_.set_training(true);
    Progress progress("train", o_.steps > 0 ? o_.steps - position_.step : 0);
    int64_t stop_after = o_.stop_after_steps, started_at = position_.step;
    double window_loss = 0, window_comm_ms = 0;
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
      // this rank's share of the step: the loss, samples, tokens, a non-finite loss, a stop signal
      double step_loss = 0, samples = 0, tokens = 0, nonfinite = 0;
      for (int64_t micro = 0; micro < accumulate_; ++micro) {
        Batch batch = next_batch();
        {
          train::Autocast autocast(context_.experiment.device, o_.precision);
          out = model_.loss(batch);
        }
        double value = out.loss.item<double>();
        if (!std::isfinite(value)) {
          if (!group_.active()) fail_nonfinite(value);
          nonfinite = 1;  // every rank stops after this step's reduction
        }
        (out.loss / static_cast<double>(accumulate_)).backward();
        step_loss += value / static_cast<double>(accumulate_);
        samples += static_cast<double>(batch.size());
        tokens += static_cast<double>(out.tokens);
      }
      // gradients and the step's values summed over the ranks (nothing happens in one process)
      window_comm_ms += collective("gradient allreduce", [&] { return gradients_.run(); });
      auto shared = at::tensor({step_loss, samples, tokens, nonfinite, stop_requested() ? 1.0 : 0.0}, at::kDouble);
      collective("the step's reduction", [&] { group_.sum(shared); return 0.0; });
      auto totals = shared.accessor<double, 1>();
      if (totals[3] > 0) fail_nonfinite(totals[0]);
      step_loss = totals[0] / group_.world();
      position_.samples += static_cast<int64_t>(totals[1]);
      position_.tokens += static_cast<int64_t>(totals[2]);
      window_samples += static_cast<int64_t>(totals[1]);
      bool stop_signal = totals[4] > 0;
      double grad_norm = optimizer_.clip_grad_norm(o_.clip_grad);
      optimizer_.step(lr);
      optimizer_.zero_grad();
      ++position_.step;
      window_loss += step_loss, ++window_steps;
      history_.push_back({static_cast<double>(position_.step), step_loss});

      bool finished = done() >= o_.total;
      bool signalled = stop_signal && !finished;
      bool stopping = (stop_after > 0 && position_.step - started_at >= stop_after && !finished) || signalled;
      // a stop between lines writes none: the resumed run finishes the window (metrics.jsonl
      // then equals an uninterrupted run's)
      if ((position_.step % o_.log_every == 0 || finished) && group_.rank() == 0) {
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
        values["world_size"] = static_cast<double>(group_.world());
        if (group_.active()) values["comm_ms"] = window_comm_ms;
        context_.metrics_log.append({{"procedure", "train"}}, values);
        if (o_.tensorboard) context_.tensorboard().scalars("train", context_.metrics_log.step_label(), values);
        char status[160];
        std::snprintf(status, sizeof status, "loss %.5f, lr %.2e, %.1f samples/s, %s %.4g/%.4g",
                      values["loss"], lr, values["samples_per_s"], o_.unit.c_str(), done(), o_.total);
        progress.advance(window_steps, status);
        window_loss = 0, window_steps = 0, window_samples = 0, window_comm_ms = 0;
        window_start = std::chrono::steady_clock::now();
      } else if (position_.step % o_.log_every == 0 || finished) {
        window_loss = 0, window_steps = 0, window_samples = 0, window_comm_ms = 0;
      }
      bool scheduled = position_.step % o_.checkpoint_every == 0 || finished;
      if (scheduled || stopping) checkpoint(scheduled);
      if (stopping) {
        if (group_.rank() == 0) plot_loss();
        if (signalled)
          throw RunStopped("train stopped by " + stop_signal_name() + " at step " +
                           std::to_string(position_.step) + ", checkpointed; continue with resume: true");
        throw RunStopped("train stopped after " + std::to_string(position_.step - started_at) +
                         " steps as asked (stop_after_steps), at step " +
                         std::to_string(position_.step) + "; continue with resume: true");
      }
    }
    model_.set_training(false);
    if (group_.rank() == 0) plot_loss();
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

  //---- ranks ----

  // every rank trains the same model from rank 0's weights; the log says how the batch divides
  void join_ranks(bool restored) {
    std::string mine = dist::fingerprint(model_.state());
    std::string tag = store_prefix();
    collective("the start", [&] {
      group_.set(tag + "model/" + std::to_string(group_.rank()), mine);
      if (group_.rank() == 0) {
        std::string verdict = "ok";
        for (int k = 1; k < group_.world() && verdict == "ok"; ++k)
          verdict = first_difference(mine, group_.get(tag + "model/" + std::to_string(k)), k);
        group_.set(tag + "verdict", verdict);
      }
      std::string verdict = group_.get(tag + "verdict");
      if (verdict != "ok") throw Error(verdict);
      at::NoGradGuard no_grad;
      for (auto& [name, tensor] : model_.state()) {
        auto values = tensor.contiguous();
        group_.broadcast(values);
        if (!values.is_same(tensor)) tensor.copy_(values);
      }
      return 0.0;
    });
    log().info("train: batch_size {} = {} ranks x {}; gradients in {} buckets; every rank starts "
               "from rank 0's {}", o_.batch_size, group_.world(), batch_size_, gradients_.buckets(),
               restored ? "checkpoint" : "weights");
  }

  // store keys of this train step, apart from any other step or sweep point of the process
  std::string store_prefix() const { return "train/" + checkpoints_.string() + "/"; }

  // the first line in which rank k's parameter list differs from rank 0's, as an error
  static std::string first_difference(const std::string& zero, const std::string& other, int k) {
    if (zero == other) return "ok";
    std::istringstream a(zero), b(other);
    std::string line_a, line_b;
    while (true) {
      bool more_a = static_cast<bool>(std::getline(a, line_a)), more_b = static_cast<bool>(std::getline(b, line_b));
      if (!more_a) line_a = "(nothing)";
      if (!more_b) line_b = "(nothing)";
      if (line_a != line_b)
        return "rank " + std::to_string(k) + " built a different model than rank 0: its parameter '" +
               line_b + "' where rank 0 has '" + line_a + "'; every rank must run the same "
               "experiment file with the same overrides";
    }
  }

  // a collective of every rank; c10d's failures (a lost or hung rank) become one clear error
  template <class Fn>
  double collective(const char* what, Fn&& fn) {
    if (!group_.active()) return fn();
    try {
      return fn();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      std::string last = latest_checkpoint().empty() ? "none yet" : latest_checkpoint().string();
      throw Error("train: lost contact with the other ranks at step " + std::to_string(position_.step + 1) +
                  " during " + what + " (" + dist::Group::first_line(e) + "). Last checkpoint: " +
                  last + "; rerun the same command with resume: true");
    }
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
    for (const auto& [name, state] : other_ranks_random_states_) all.emplace_back(name, state);
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
    if (group_.active()) compare_ranks();
    if (scheduled) maybe_keep_best();
    if (group_.rank() != 0) return;
    io::save_checkpoint(checkpoints_ / name, snapshot());
    auto files = checkpoint_files();
    for (size_t i = 0; i + static_cast<size_t>(o_.keep_last) < files.size(); ++i)
      fs::remove(files[i]);
  }

  // Ranks check that their weights still agree (a min and a max of a checksum), and rank 0
  // collects the other ranks' random states, saved as rng/rank<k>/<device>
  void compare_ranks() {
    std::string tag = store_prefix() + "rng/" + std::to_string(position_.step) + "/";
    collective("the checkpoint", [&] {
      double sum = 0;
      for (const auto& [name, p] : model_.parameters()) sum += p.detach().to(at::kDouble).sum().item<double>();
      auto low = at::tensor({sum}, at::kDouble), high = low.clone();
      group_.min(low), group_.max(high);
      if (low.item<double>() != high.item<double>())
        throw Error("train: ranks diverged at step " + std::to_string(position_.step) +
                    " (their weights' sums range from " + std::to_string(low.item<double>()) + " to " +
                    std::to_string(high.item<double>()) + "); a model that draws randomness outside "
                    "the batch's sample_seed, or a nondeterministic kernel, differs by rank");
      if (group_.rank() != 0) {
        for (const auto& [device, state] : train::random_states()) {
          auto bytes = state.contiguous();
          group_.set(tag + std::to_string(group_.rank()) + "/" + device,
                     std::string(static_cast<const char*>(bytes.data_ptr()), static_cast<size_t>(bytes.nbytes())));
        }
        return 0.0;
      }
      other_ranks_random_states_.clear();
      for (int k = 1; k < group_.world(); ++k)
        for (const auto& [device, state] : train::random_states()) {
          std::string bytes = group_.get(tag + std::to_string(k) + "/" + device);
          auto copy = at::empty({static_cast<int64_t>(bytes.size())}, at::kByte);
          std::memcpy(copy.data_ptr(), bytes.data(), bytes.size());
          other_ranks_random_states_.emplace_back("rng/rank" + std::to_string(k) + "/" + device, copy);
        }
      return 0.0;
    });
  }

  // validation loss on fixed batches with a fixed random state, leaving training's state alone;
  // over ranks, batch b is rank (b mod world)'s and the sums are reduced
  void maybe_keep_best() {
    const std::string& eval = o_.eval_data;
    if (eval.empty()) return;
    Dataset& data = context_.dataset(eval);
    io::NamedTensors saved = train::random_states();
    train::seed_everything(static_cast<uint64_t>(context_.experiment.seed) + 77);
    at::NoGradGuard no_grad;
    double sum = 0;
    int64_t batches = std::min(o_.eval_batches, data.size() / o_.batch_size), counted = 0;
    auto loader = open_loader(context_, eval, o_.batch_size, false);
    for (int64_t b = 0; b < batches; ++b) {
      std::optional<Batch> batch = loader->next();
      if (!batch) break;
      if (b % group_.world() != group_.rank()) continue;
      move_to(*batch, context_.experiment.device);
      sum += model_.loss(*batch).loss.item<double>();
      ++counted;
    }
    train::set_random_states(saved);
    auto totals = at::tensor({sum, static_cast<double>(counted)}, at::kDouble);
    collective("the evaluation", [&] { group_.sum(totals); return 0.0; });
    sum = totals[0].item<double>(), batches = static_cast<int64_t>(totals[1].item<double>());
    if (batches == 0 || group_.rank() != 0) return;
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
    restore_random_states(saved);
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
    if (o_.tensorboard && group_.rank() == 0) context_.tensorboard().restart_at(position_.step + 1);
    return true;
  }

  // rank 0's streams are rng/<device>; rank k's rng/rank<k>/<device>. A rank the checkpoint has
  // no stream for (it was written by fewer ranks) keeps its fresh one.
  void restore_random_states(const io::NamedTensors& saved) {
    if (group_.rank() == 0) return train::set_random_states(io::with_prefix(saved, "rng/"));
    io::NamedTensors mine = io::with_prefix(saved, "rng/rank" + std::to_string(group_.rank()) + "/");
    if (mine.empty())
      log().warn("train: the checkpoint has no random state for rank {} (it was written by fewer "
                 "ranks); this rank's generator starts fresh from the seed", group_.rank());
    train::set_random_states(mine);
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
  dist::Group& group_ = dist::Group::process();
  int64_t batch_size_, accumulate_;  // this rank's share of the batch
  train::AdamW optimizer_;
  dist::GradientSync gradients_;
  train::WarmupCosine schedule_;
  fs::path checkpoints_;
  double best_ = INFINITY;
  Position position_;
  std::unique_ptr<Loader> loader_;
  int64_t skipped_before_ = 0;  // by the runs this one resumes
  std::vector<std::pair<double, double>> history_;
  io::NamedTensors other_ranks_random_states_;  // rng/rank<k>/<device>, collected by rank 0
};

void train_run(RunContext& context, const Params& params) { Trainer(context, params).run(); }

}  // namespace

const Procedure train_procedure = {"train",
                                   "optimise the model's loss (AdamW, warmup + cosine, checkpoints)",
                                   &train_schema, {/*model=*/true}, &train_check, &train_run,
                                   /*all_ranks=*/true};

}  // namespace wm
