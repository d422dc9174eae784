#include "run.h"

#include <spdlog/sinks/basic_file_sink.h>

#include <chrono>
#include <ctime>

#include "procedure.h"
#include "wm/io/action_scaler.h"
#include "wm/io/json.h"
#include "wm/io/atomic_file.h"
#include "wm/log.h"
#include "runtime.h"
#include "engine/random.h"
#include "wm/io/checkpoint.h"
#include "wm/error.h"

namespace wm {

std::string utc_timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", &utc);
  return text;
}

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

void check_keys(const RunContext& context) {
  if (!context.model) return;
  auto needed = context.model->required_keys();
  for (const auto& [name, dataset] : context.data) {
    std::vector<std::string> have;
    for (const auto& key : dataset->keys()) have.push_back(key.name);
    for (const auto& key : needed)
      if (std::find(have.begin(), have.end(), key) == have.end())
        throw Error("model '" + context.experiment.model->plugin->name() + "' needs key '" + key +
                    "', which data." + name + " ('" + context.experiment.data.at(name).plugin->name() +
                    "') does not provide (it has: " + join(have) + ")");
  }
}

void run_procedures(const Experiment& experiment, PluginRegistry& registry, RunContext& context) {
  int threads = set_compute_threads(experiment.threads);
  reuse_freed_memory();
  require_device(experiment.device);
  log().info("threads {}, device {}, seed {}", threads, experiment.device, experiment.seed);
  // before any plugin exists: weight initialisation and every draw after it follow the seed
  train::seed_everything(static_cast<uint64_t>(experiment.seed));

  for (const auto& [name, spec] : experiment.data) {
    auto base = registry.create<Dataset>(*spec.plugin, spec.params, spec.where());
    if (!spec.action_scaler.empty()) {
      try {
        base = std::make_shared<io::ScaledActionsDataset>(
            base, io::ActionScaler::load(spec.action_scaler), spec.action_scaler);
      } catch (const Error& e) {
        throw Error(spec.where() + ": " + e.what());
      }
    }
    if (!spec.ids.empty()) {
      auto listed = std::make_shared<ListedDataset>(base, spec.listed_ids, spec.ids);
      log().info("data.{}: {} samples listed in {}{}", name, listed->size(), spec.ids,
                 listed->missing() ? fmt::format(" ({} listed ids not in the data)", listed->missing())
                                   : std::string());
      base = listed;
    }
    auto dataset = spec.split.split == "all" && spec.split.subset >= 1.0
                       ? base
                       : std::make_shared<SplitDataset>(base, spec.split);
    log().info("data.{}: {} ({} of {} samples)", name, spec.plugin->name(), dataset->size(),
               base->size());
    spec.transforms->check_keys(dataset->keys());  // e.g. a flip that would leave actions unmirrored
    context.data.emplace(name, dataset);
  }
  if (experiment.model) {
    context.model = registry.create<Model>(*experiment.model->plugin, experiment.model->params,
                                           experiment.model->where());
    context.model->to_device(experiment.device);
  }
  for (const auto& spec : experiment.baselines) {
    auto baseline = registry.create<Model>(*spec.plugin, spec.params, spec.where());
    baseline->to_device(experiment.device);
    context.baselines[spec.name] = baseline;
  }
  if (experiment.env)
    context.env = registry.create<Env>(*experiment.env->plugin, experiment.env->params,
                                       experiment.env->where());
  context.make_metrics = [&experiment, &registry] {
    RunContext::Metrics metrics;
    for (const auto& spec : experiment.metrics)
      metrics.emplace_back(spec.name, registry.create<Metric>(*spec.plugin, spec.params, spec.where()));
    return metrics;
  };
  context.metrics = context.make_metrics();
  check_keys(context);

  for (const auto& step : experiment.procedures) {
    log().info("--- {} ({})", step.procedure->name, step.key_path);
    auto start = std::chrono::steady_clock::now();
    step.procedure->run(context, step.params);
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

RunOutcome execute_run(const Experiment& experiment, PluginRegistry& registry,
                       const std::filesystem::path& dir) {
  RunOutcome outcome;
  outcome.dir = dir;
  std::filesystem::create_directories(dir);
  io::write_file_atomic(dir / "config.yaml", to_yaml(experiment.resolved));
  RunLogFile log_file(dir / "log.txt");
  log().info("wmhost {} | experiment '{}' | run {}", WM_SDK_VERSION, experiment.name, dir.string());

  auto start = std::chrono::steady_clock::now();
  try {
    MetricsLog metrics_log(dir / "metrics.jsonl");
    RunContext context{experiment, dir, metrics_log, {}, nullptr, nullptr, {}, {}};
    try {
      run_procedures(experiment, registry, context);
      outcome.ok = true;
    } catch (...) {
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
  io::write_file_atomic(dir / "status.json", status_json(outcome));
  if (outcome.ok) log().info("run finished in {:.1f}s: {}", outcome.seconds, dir.string());
  return outcome;
}

}  // namespace wm
