// Procedures are the steps of an experiment (`procedure: [{evaluate: {...}}, ...]`). They are
// part of the host and drive plugins only through the SDK interfaces.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
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

// the live objects of one run
struct RunContext {
  const Experiment& experiment;
  std::filesystem::path dir;
  MetricsLog& metrics_log;
  std::map<std::string, std::shared_ptr<Dataset>> data;
  std::shared_ptr<Model> model;
  std::shared_ptr<Env> env;
  using Metrics = std::vector<std::pair<std::string, std::shared_ptr<Metric>>>;
  Metrics metrics;
  std::function<Metrics()> make_metrics;  // fresh instances of the same metrics
  std::map<std::string, std::shared_ptr<Model>> baselines;  // by their name under `baselines:`
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
};

// the loader settings of data.<name>: its transforms, `workers` and `prefetch`, the run's seed
LoaderOptions loader_options(const RunContext& context, const std::string& data,
                             int64_t batch_size, bool training);
// a loader with those settings; a training loader starts at `start`
std::unique_ptr<Loader> open_loader(const RunContext& context, const std::string& data,
                                    int64_t batch_size, bool training, LoaderPosition start = {});

// the procedures themselves, one file each
extern const Procedure evaluate_procedure;
extern const Procedure train_procedure;
extern const Procedure rollout_procedure;
extern const Procedure probe_procedure;
extern const Procedure collect_procedure;
extern const Procedure fit_action_scaler_procedure;
extern const Procedure tiers_procedure;

}  // namespace wm
