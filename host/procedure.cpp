#include "procedure.h"

#include <algorithm>
#include <fstream>

#include "engine/random.h"
#include "report/tensorboard.h"
#include "wm/error.h"
#include "wm/io/action_scaler.h"
#include "wm/log.h"

namespace wm {

//---- loaders ----

LoaderOptions loader_options(const RunContext& context, const std::string& data,
                             int64_t batch_size, bool training) {
  const DataSpec& spec = context.experiment.data.at(data);
  LoaderOptions options;
  options.batch_size = batch_size;
  options.training = training;
  options.seed = static_cast<uint64_t>(context.experiment.seed);
  options.workers = spec.workers;
  options.prefetch = spec.prefetch;
  options.transforms = spec.transforms;
  if (!spec.batch_transforms->empty()) options.batch_transforms = spec.batch_transforms;
  options.name = "data." + data;
  return options;
}

std::unique_ptr<Loader> open_loader(RunContext& context, const std::string& data,
                                    int64_t batch_size, bool training, LoaderPosition start) {
  return std::make_unique<Loader>(context.dataset(data),
                                  loader_options(context, data, batch_size, training), start);
}

//---- the run's objects, built on first use ----

RunContext::RunContext(const Experiment& experiment, PluginRegistry& registry,
                       std::filesystem::path dir, MetricsLog& metrics_log)
    : experiment(experiment), dir(std::move(dir)), metrics_log(metrics_log), registry_(registry) {}

Dataset& RunContext::dataset(const std::string& name) {
  if (auto found = data_.find(name); found != data_.end()) return *found->second;
  auto entry = experiment.data.find(name);
  if (entry == experiment.data.end()) throw Error("no data entry '" + name + "'");
  const DataSpec& spec = entry->second;
  // files named by the entry are read now: an earlier step may have written them
  std::shared_ptr<Dataset> base = registry_.create<Dataset>(*spec.plugin, spec.params, spec.where());
  try {
    if (!spec.action_scaler.empty())
      base = std::make_shared<io::ScaledActionsDataset>(
          base, io::ActionScaler::load(spec.action_scaler), spec.action_scaler);
    if (!spec.ids.empty()) {
      std::vector<std::string> ids = spec.listed_ids.empty() ? read_id_list(spec.ids) : spec.listed_ids;
      if (ids.empty()) throw Error(spec.ids + ": the id list is empty");
      auto listed = std::make_shared<ListedDataset>(base, ids, spec.ids);
      log().info("data.{}: {} samples listed in {}{}", name, listed->size(), spec.ids,
                 listed->missing() ? fmt::format(" ({} listed ids not in the data)", listed->missing())
                                   : std::string());
      base = listed;
    }
  } catch (const Error& e) {
    throw Error(spec.where() + ": " + e.what());
  }
  std::shared_ptr<Dataset> dataset = base;
  if (spec.split.split != "all" || spec.split.subset != 1.0) {
    std::shared_ptr<SplitDataset> split;
    try {
      split = std::make_shared<SplitDataset>(base, spec.split, "data." + name);
    } catch (const Error& e) {
      // a subset larger than the split, or a split_by regex that misses an id: at its YAML line
      std::string what = e.what();
      for (const char* key : {"subset", "split_by"})
        if (what.rfind(std::string(key) + " ", 0) == 0) throw spec.keys.error(key, what);
      throw Error(spec.where() + ": " + what);
    }
    log().info("data.{}: {} samples in {} groups (split by {})", name, split->size(),
               split->groups(), spec.split.split_by == "group" || spec.split.split_by == "sample"
                                    ? spec.split.split_by
                                    : "'" + spec.split.split_by + "'");
    dataset = split;
  }
  log().info("data.{}: {} ({} of {} samples)", name, spec.plugin->name(), dataset->size(),
             base->size());
  spec.transforms->check_keys(dataset->keys());  // e.g. a flip that would leave actions unmirrored
  if (model_) check_keys(name, *dataset);
  return *data_.emplace(name, dataset).first->second;
}

Model& RunContext::model() {
  if (model_) return *model_;
  if (!experiment.model) throw Error("this step needs a `model:` section");
  // the initial weights follow the run's seed alone, whatever steps ran before; the baselines
  // come right after the model, as they always have
  train::seed_everything(static_cast<uint64_t>(experiment.seed));
  model_ = registry_.create<Model>(*experiment.model->plugin, experiment.model->params,
                                   experiment.model->where());
  model_->to_device(experiment.device);
  for (const auto& spec : experiment.baselines) {
    auto baseline = registry_.create<Model>(*spec.plugin, spec.params, spec.where());
    baseline->to_device(experiment.device);
    baselines_[spec.name] = baseline;
  }
  for (const auto& [name, dataset] : data_) check_keys(name, *dataset);
  return *model_;
}

Model& RunContext::baseline(const std::string& name) {
  model();
  auto found = baselines_.find(name);
  if (found == baselines_.end()) throw Error("no baseline named '" + name + "'");
  return *found->second;
}

Env& RunContext::env(const std::string& name) {
  if (auto found = envs_.find(name); found != envs_.end()) return *found->second;
  const ComponentSpec* spec = nullptr;
  if (name.empty() && experiment.env) spec = &*experiment.env;
  if (!name.empty())
    if (auto found = experiment.envs.find(name); found != experiment.envs.end()) spec = &found->second;
  if (!spec)
    throw Error(name.empty() ? std::string("this step needs an `env:` section")
                             : "no env '" + name + "' under `envs:`");
  auto env = registry_.create<Env>(*spec->plugin, spec->params, spec->where());
  return *envs_.emplace(name, env).first->second;
}

RunContext::Metrics& RunContext::metrics() {
  if (!metrics_) metrics_ = make_metrics();
  return *metrics_;
}

RunContext::Metrics RunContext::make_metrics() {
  Metrics metrics;
  for (const auto& spec : experiment.metrics)
    metrics.emplace_back(spec.name, registry_.create<Metric>(*spec.plugin, spec.params, spec.where()));
  return metrics;
}

// a section that names the run folder may read what an earlier step writes there
bool RunContext::waits_for_run(const ConfigNode* section) const {
  if (!section || experiment.run_dir.empty()) return false;
  return to_yaml(*section).find(experiment.run_dir.lexically_normal().string()) != std::string::npos;
}

void RunContext::build_ready() {
  const ConfigNode* data = experiment.resolved.find("data");
  for (const auto& [name, spec] : experiment.data)
    if (!waits_for_run(data ? data->find(name) : nullptr)) dataset(name);
  const ConfigNode* baselines = experiment.resolved.find("baselines");
  if (experiment.model && !waits_for_run(experiment.resolved.find("model")) && !waits_for_run(baselines))
    model();
  if (experiment.env && !waits_for_run(experiment.resolved.find("env"))) env();
  const ConfigNode* envs = experiment.resolved.find("envs");
  for (const auto& [name, spec] : experiment.envs)
    if (!waits_for_run(envs ? envs->find(name) : nullptr)) env(name);
  if (!waits_for_run(experiment.resolved.find("metrics"))) metrics();
}

std::filesystem::path RunContext::next_checkpoint_dir() {
  ++train_steps_;
  return dir / (train_steps_ == 1 ? "checkpoints" : "checkpoints-" + std::to_string(train_steps_));
}

TensorBoardWriter& RunContext::tensorboard() {
  if (!tensorboard_) {
    tensorboard_ = std::make_shared<TensorBoardWriter>(dir / "tb");
    // the resolved config, as the text plugin shows it (indented: a markdown code block)
    std::ifstream config(dir / "config.yaml");
    std::string text, line;
    while (std::getline(config, line)) text += "    " + line + "\n";
    if (!text.empty()) tensorboard_->text("config", text, 0);
    log().info("TensorBoard events in {} (tensorboard --logdir {})", tensorboard_->file().string(),
               dir.parent_path().string());
  }
  return *tensorboard_;
}

// the model's required keys against one data entry
void RunContext::check_keys(const std::string& name, const Dataset& dataset) const {
  std::vector<std::string> have;
  for (const auto& key : dataset.keys()) have.push_back(key.name);
  for (const auto& key : model_->required_keys())
    if (std::find(have.begin(), have.end(), key) == have.end())
      throw Error("model '" + experiment.model->plugin->name() + "' needs key '" + key +
                  "', which data." + name + " ('" + experiment.data.at(name).plugin->name() +
                  "') does not provide (it has: " + join(have) + ")");
}

}  // namespace wm
