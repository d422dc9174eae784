#include "run.h"

#include <spdlog/sinks/basic_file_sink.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "config_resolve.h"
#include "distributed.h"
#include "procedure.h"
#include "wm/io/action_scaler.h"
#include "wm/io/json.h"
#include "wm/io/atomic_file.h"
#include "wm/log.h"
#include "report/provenance.h"
#include "runtime.h"
#include "run_config.h"
#include "run_signals.h"
#include "engine/random.h"
#include "wm/io/checkpoint.h"
#include "wm/error.h"

namespace wm {

std::string utc_now(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[64];
  std::strftime(text, sizeof text, format, &utc);
  return text;
}

std::string utc_timestamp() { return utc_now("%Y%m%d-%H%M%S"); }

std::filesystem::path make_unique_dir(const std::filesystem::path& parent, const std::string& name) {
  std::filesystem::create_directories(parent);
  for (int attempt = 1;; ++attempt) {
    auto dir = parent / (attempt == 1 ? name : name + "-" + std::to_string(attempt));
    if (std::filesystem::create_directory(dir)) return dir;
  }
}

namespace {

// attaches log.txt to the shared logger for as long as it lives
class RunLogFile {
 public:
  explicit RunLogFile(const std::filesystem::path& file)
      : sink_(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string())) {
    sink_->set_pattern("[%Y-%m-%d %H:%M:%S.%e %l] %v");
    log().sinks().push_back(sink_);
  }
  ~RunLogFile() {
    auto& sinks = log().sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> sink_;
};

// A step runs on every rank when its procedure says so (train); any other runs on rank 0 alone
// (evaluate, rollout, collect, ...) while the other ranks wait, then build what it wrote from the
// shared run folder
void run_step(const ProcedureSpec& step, RunContext& context, size_t index, dist::Group& group) {
  if (!group.active() || step.procedure->all_ranks)
    return step.procedure->run(context, step.params);
  std::string key = "run/" + context.dir.string() + "/step/" + std::to_string(index);
  if (group.rank() != 0) {
    std::string outcome = group.get(key);
    if (outcome != "ok") throw Error("rank 0 " + outcome);
    return;
  }
  try {
    step.procedure->run(context, step.params);
  } catch (const std::exception& e) {
    group.set(key, "failed in " + step.key_path + ": " + user_message(e));
    throw;
  }
  group.set(key, "ok");
}

void run_procedures(const Experiment& experiment, RunContext& context) {
  dist::Group& group = dist::Group::process();
  // threads: 0 shares the cores among the ranks on this machine
  int threads = experiment.threads;
  if (threads == 0 && group.local_world() > 1)
    threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / group.local_world());
  threads = set_compute_threads(threads);
  reuse_freed_memory();
  require_device(experiment.device);
  log().info("threads {}, device {}, seed {}{}", threads, experiment.device, experiment.seed,
             group.active() ? ", rank " + std::to_string(group.rank()) + " of " + std::to_string(group.world()) : "");
  // how this invocation was made, once the thread settings it records are in force
  if (group.rank() == 0) write_provenance(context.dir, experiment.threads);
  // the model's weights follow the seed alone (RunContext::model reseeds before building it)
  train::seed_everything(static_cast<uint64_t>(experiment.seed));
  // what names nothing under ${run.dir} is built now, so a broken entry fails before any step
  // runs; the rest is built by the first step that needs it, after earlier steps wrote its files
  context.build_ready();

  for (size_t i = 0; i < experiment.procedures.size(); ++i) {
    const ProcedureSpec& step = experiment.procedures[i];
    // a stop signal during the step before ends the run here (train stops inside its own loop)
    if (group.any(stop_requested()))
      throw RunStopped("stopped by " + (stop_requested() ? stop_signal_name() : "another rank's stop signal") +
                       " before " + step.key_path + "; continue with resume: true");
    log().info("--- {} ({})", step.procedure->name, step.key_path);
    auto start = std::chrono::steady_clock::now();
    context.metrics_log.begin_step(step.label);
    run_step(step, context, i, group);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log().info("--- {} done in {:.1f}s", step.procedure->name, seconds);
  }
}

std::string status_json(const RunOutcome& outcome) {
  std::string status = outcome.ok ? "ok" : outcome.stopped ? "stopped" : "failed";
  std::string text = "{\"status\": " + io::json::quote(status) +
                     ", \"seconds\": " + io::json::number(outcome.seconds);
  if (!outcome.ok) text += ", \"error\": " + io::json::quote(outcome.error);
  text += ", \"metrics\": {";
  bool first = true;
  for (const auto& [key, value] : outcome.final_metrics) {
    text += (first ? "" : ", ") + io::json::quote(key) + ": " + io::json::number(value);
    first = false;
  }
  return text + "}}\n";
}

}  // namespace

RunOutcome execute_run(const Experiment& planned, PluginRegistry& registry,
                       const std::filesystem::path& dir) {
  RunOutcome outcome;
  outcome.dir = dir;
  std::filesystem::create_directories(dir);
  // ${run.dir} becomes this folder, and the experiment is bound again with it
  std::optional<Experiment> bound;
  std::exception_ptr bind_error;
  ConfigNode config = planned.resolved;
  if (resolve_run_dir(config, dir)) {
    try {
      bound = validate_experiment(config, registry, std::filesystem::absolute(dir));
    } catch (...) {
      bind_error = std::current_exception();
    }
  }
  const Experiment& experiment = bound ? *bound : planned;
  // rank 0 writes the run's files; rank k only its log.rank<k>.txt
  int rank = dist::Group::process().rank();
  // a resume with a changed config throws here, before anything in the folder changes
  if (rank == 0) record_run_config(dir, config, resume_forced(experiment));
  RunLogFile log_file(dir / (rank == 0 ? std::string("log.txt") : "log.rank" + std::to_string(rank) + ".txt"));
  log().info("wmhost {} | experiment '{}' | run {}", WM_SDK_VERSION, experiment.name, dir.string());

  auto start = std::chrono::steady_clock::now();
  try {
    if (bind_error) std::rethrow_exception(bind_error);
    MetricsLog metrics_log(rank == 0 ? dir / "metrics.jsonl" : std::filesystem::path());
    RunContext context(experiment, registry, dir, metrics_log);
    try {
      run_procedures(experiment, context);
      metrics_log.finish();
      outcome.ok = true;
    } catch (...) {
      // lines of a resume that no checkpoint confirmed yet are written before the run ends
      try {
        metrics_log.finish();
      } catch (const std::exception& e) {
        log().error("{}", e.what());
      }
      outcome.final_metrics = metrics_log.last_values();
      throw;
    }
    outcome.final_metrics = metrics_log.last_values();
  } catch (const RunStopped& e) {
    outcome.stopped = true;
    outcome.error = e.what();
    log().info("run stopped: {}", outcome.error);
  } catch (const std::exception& e) {
    outcome.error = user_message(e);
    log().error("run failed: {}", outcome.error);
  }
  outcome.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (rank == 0) io::write_file_atomic(dir / "status.json", status_json(outcome));
  if (outcome.ok) log().info("run finished in {:.1f}s: {}", outcome.seconds, dir.string());
  return outcome;
}

}  // namespace wm
