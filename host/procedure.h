// Procedures are the steps of an experiment (`procedure: [{evaluate: {...}}, ...]`). They are
// part of the host and drive plugins only through the SDK interfaces.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "experiment.h"
#include "wm/dataset.h"
#include "wm/env.h"
#include "engine/loader.h"
#include "wm/metric.h"
#include "report/metrics_log.h"
#include "wm/model.h"

namespace wm {

class TensorBoardWriter;  // report/tensorboard.h

// the live objects of one run. Datasets, the model, baselines, envs and metrics are built when a
// procedure first asks for them, so a step may read what an earlier step wrote (`${run.dir}`).
class RunContext {
 public:
  using Metrics = std::vector<std::pair<std::string, std::shared_ptr<Metric>>>;

  RunContext(const Experiment& experiment, PluginRegistry& registry, std::filesystem::path dir,
             MetricsLog& metrics_log);

  const Experiment& experiment;
  std::filesystem::path dir;
  MetricsLog& metrics_log;

  // data.<name>, built (split, listed, scaled) on first use; the model's keys are checked then
  Dataset& dataset(const std::string& name);
  // the model, built on first use from the run's seed alone (with the baselines after it)
  Model& model();
  bool model_built() const { return model_ != nullptr; }
  // a model under `baselines:` by its name
  Model& baseline(const std::string& name);
  // `env:` (name "") or envs.<name>
  Env& env(const std::string& name = "");
  // the run's metrics, and fresh instances of the same metrics
  Metrics& metrics();
  Metrics make_metrics();
  // builds, before the first step, every data entry, the model (and baselines), env and the
  // metrics whose section names nothing under ${run.dir}, in that order: a broken entry fails
  // before a long step runs. The others wait for the first step that needs them.
  void build_ready();
  // the checkpoint folder of the next `train` step: checkpoints, checkpoints-2, ...
  std::filesystem::path next_checkpoint_dir();
  // the run's TensorBoard events under <dir>/tb/, opened by the first step that asks (with
  // `tensorboard: true`), which also writes config.yaml into it as text
  TensorBoardWriter& tensorboard();

 private:
  void check_keys(const std::string& name, const Dataset& dataset) const;
  bool waits_for_run(const ConfigNode* section) const;

  PluginRegistry& registry_;
  std::map<std::string, std::shared_ptr<Dataset>> data_;
  std::shared_ptr<Model> model_;
  std::map<std::string, std::shared_ptr<Model>> baselines_;  // by their name under `baselines:`
  std::map<std::string, std::shared_ptr<Env>> envs_;
  std::optional<Metrics> metrics_;
  std::shared_ptr<TensorBoardWriter> tensorboard_;
  int train_steps_ = 0;
};

// a procedure is registered in the catalog (catalog.cpp) and defined in procedures/<name>.cpp
struct Procedure {
  // the sections a procedure cannot run without; a missing one fails validation with
  // "needs a `model:` section", "needs an `env:` section" or "needs at least one entry under
  // `metrics:`"
  struct Needs {
    bool model = false, env = false, metrics = false;
  };

  const char* name;
  const char* summary;
  Schema (*schema)();  // data entries it reads are data_ref parameters, checked when bound
  Needs needs;
  // further validation that needs the whole experiment; throws ConfigError; may be null
  void (*check)(const Experiment& experiment, const ProcedureSpec& step);
  void (*run)(RunContext& context, const Params& params);
  // with several ranks, every rank runs it (train); otherwise rank 0 runs it and the others wait
  bool all_ranks = false;
};

// the loader settings of data.<name>: its transforms, `workers` and `prefetch`, the run's seed
LoaderOptions loader_options(const RunContext& context, const std::string& data,
                             int64_t batch_size, bool training);
// a loader with those settings; a training loader starts at `start`
std::unique_ptr<Loader> open_loader(RunContext& context, const std::string& data,
                                    int64_t batch_size, bool training, LoaderPosition start = {});

// the procedures themselves, one file each
extern const Procedure evaluate_procedure;
extern const Procedure train_procedure;
extern const Procedure rollout_procedure;
extern const Procedure probe_procedure;
extern const Procedure collect_procedure;
extern const Procedure fit_action_scaler_procedure;
extern const Procedure write_fixture_procedure;
extern const Procedure tiers_procedure;
extern const Procedure load_procedure;
extern const Procedure score_procedure;

// weights from a checkpoint or a run folder (procedures/load.cpp, used by train.init_from too):
// `key` of `params` must name an existing one unless an earlier step writes it
void check_checkpoint_path(const Experiment& experiment, const Params& params, const std::string& key);
void load_weights(RunContext& context, const std::string& path, const std::string& prefix,
                  bool strict, const std::string& step);

}  // namespace wm
