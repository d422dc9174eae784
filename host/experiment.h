// A validated experiment: every plugin found, every parameter typed and checked, every procedure
// known. Nothing runs until a whole experiment (every sweep point) has passed this step.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/step.h"
#include "distributed_settings.h"
#include "config_node.h"
#include "param_binding.h"
#include "plugin_registry.h"
#include "engine/dataset_split.h"
#include "engine/batch_transforms.h"
#include "engine/transforms.h"

namespace wm {

struct Procedure;

struct ComponentSpec {
  std::string key_path;  // "model", "data.train", "metrics.0"
  std::string name;      // what outputs are labelled with (the plugin name unless `name:` is set)
  const LoadedPlugin* plugin = nullptr;
  Params params;
  SourceLoc loc;
  std::string where() const;  // "model at exp.yaml:7:3"
};

struct DataSpec : ComponentSpec {
  SplitSpec split;
  Params keys;  // the entry's own keys (split, subset, ...): errors found when it is built point at them
  std::string action_scaler;  // a scaler file applied to `actions` ("" for none)
  std::string ids;            // a file listing the sample ids to keep ("" for all)
  std::vector<std::string> listed_ids;  // its ids, read once when the YAML is bound
  int64_t workers = 2;   // loader threads; 0: in the procedure's thread
  int64_t prefetch = 2;  // batches each loader thread prepares ahead
  std::shared_ptr<const TransformPipeline> transforms;  // never null; maybe empty
  std::shared_ptr<const BatchTransforms> batch_transforms;  // never null; maybe empty (MixUp, CutMix)
};

struct ProcedureSpec {
  std::string key_path;  // "procedure.1"
  const Procedure* procedure = nullptr;
  // what its summary values are labelled with (`evaluate[LABEL]/psnr`): the step's `name:`,
  // else its `data` or `policy` parameter; "" for none
  std::string label;
  Params params;
  SourceLoc loc;
};

struct Experiment {
  std::string name;
  int64_t seed = 0;
  int threads = 0;  // 0: every core
  std::string device = "cpu";
  std::map<std::string, DataSpec> data;  // by their key under `data:`
  std::optional<ComponentSpec> model;
  std::optional<ComponentSpec> env;
  std::map<std::string, ComponentSpec> envs;  // by their key under `envs:`
  std::vector<ComponentSpec> metrics;
  std::vector<ComponentSpec> baselines;  // models `evaluate` scores beside the model, by name
  std::vector<ProcedureSpec> procedures;
  std::vector<analysis::Step> analysis;  // `analysis:`, run on the summary once every point is done
  dist::Settings distributed;            // `distributed:`, used when a launcher starts several ranks
  ConfigNode resolved;  // the fully resolved config, written to the run as config.yaml
  std::filesystem::path run_dir;  // the run folder once ${run.dir} is bound; empty while planning
};

// checks a resolved (interpolated) config; throws ConfigError or Error on the first problem.
// `run_dir` is the run's folder when ${run.dir} has been replaced by it (execute_run).
Experiment validate_experiment(const ConfigNode& resolved, PluginRegistry& registry,
                               const std::filesystem::path& run_dir = {});

// a file an earlier step of the run may write: under ${run.dir} (still unresolved while
// planning, or under experiment.run_dir). Such files are checked when their consumer is built.
bool written_by_run(const Experiment& experiment, const std::string& path);

//---- the host's own keys, declared like plugin parameters (`wmhost describe experiment`) ----

const SectionSchema& experiment_schema();  // the top level: experiment, seed, threads, device, ...
const SectionSchema& data_entry_schema();  // data.<name>: plugin, params, split, subset, ...
const SectionSchema& distributed_schema();  // distributed: backend, timeout_s, bucket_mb, ...

}  // namespace wm
