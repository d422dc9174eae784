// fit_action_scaler: per-dimension mean and std of continuous actions over webdataset shards,
// written as a scaler file that experiments apply with data.<name>.action_scaler. Reads only the
// .jsonl frame records; the statistics and the convergence rule live in wm/action_scaler_fit.h.
#include <cmath>

#include "../procedure.h"
#include "procedures/action_scaler_fit.h"
#include "wm/log.h"
#include "wm/io/webdataset.h"

namespace wm {
namespace {

Schema fit_action_scaler_schema() {
  return Schema{}
      .path("shards", "tar shards: a glob (shards/*.tar) or a brace range "
                      "(shard-{000000..000499}.tar)").required()
      .strings("action_fields", {"mouse.dx", "mouse.dy", "yaw_diff", "pitch_diff"},
               "per-frame record fields (see the webdataset plugin); [action] for environment "
               "shards")
      .integer("max_samples", 100000, "action rows to fit on (the sample budget)").at_least(1)
      .integer("max_shards", 0, "read a uniform random subset of this many shards (0: all)")
      .at_least(0)
      .boolean("convergence", true, "stop early when mean and std have settled")
      .real("tolerance", 0.01, "convergence: largest change of mean and std, in stds").range(0, 1)
      .integer("check_every", 10000, "convergence: rows between checks").at_least(1)
      .integer("patience", 3, "convergence: stable checks in a row").at_least(1)
      .integer("min_samples", 10000, "convergence: never stop before this many rows").at_least(0)
      .real("holdout", 0.1, "fraction of samples kept out of the fit to verify it").range(0, 0.9)
      .choice("format", "yaml", {"yaml", "json"}, "file format of <run>/action_scaler.<format>")
      .path("output", "also write the scaler here (the extension picks the format)");
}

void fit_action_scaler_check(const Experiment&, const ProcedureSpec& step) {
  try {
    io::expand_shard_pattern(step.params.get<std::string>("shards"));
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& e) {
    throw step.params.error("shards", e.what());
  }
  std::string output = step.params.get<std::string>("output");
  std::string extension = std::filesystem::path(output).extension().string();
  if (!output.empty() && extension != ".yaml" && extension != ".yml" && extension != ".json")
    throw step.params.error("output", "name a .yaml, .yml or .json file, got '" + output + "'");
}

void fit_action_scaler_run(RunContext& context, const Params& params) {
  ActionScalerFitOptions options;
  options.shards = io::expand_shard_pattern(params.get<std::string>("shards"));
  options.fields = params.get<StringList>("action_fields");
  options.max_samples = params.get<int64_t>("max_samples");
  options.max_shards = params.get<int64_t>("max_shards");
  options.convergence = params.get<bool>("convergence");
  options.tolerance = params.get<double>("tolerance");
  options.check_every = params.get<int64_t>("check_every");
  options.patience = params.get<int64_t>("patience");
  options.min_samples = params.get<int64_t>("min_samples");
  options.holdout = params.get<double>("holdout");
  options.seed = static_cast<uint64_t>(context.experiment.seed);
  log().info("fit_action_scaler: {} shard(s) found, reading {}; budget {} rows", options.shards.size(),
             options.max_shards > 0 ? std::min<int64_t>(options.max_shards, options.shards.size())
                                    : static_cast<int64_t>(options.shards.size()),
             options.max_samples);

  ActionScalerFit fit = fit_action_scaler(options);
  const io::ActionScaler& scaler = fit.scaler;
  auto file = context.dir / ("action_scaler." + params.get<std::string>("format"));
  scaler.save(file);
  if (std::string output = params.get<std::string>("output"); !output.empty()) {
    std::filesystem::create_directories(std::filesystem::path(output).parent_path());
    scaler.save(output);
  }

  // the report: one line per dimension, then the held-out check
  log().info("fit_action_scaler: {} rows from {} samples in {} shard(s), {:.2f}s, converged: {}",
             scaler.count, fit.samples_read, fit.shards_used, fit.seconds,
             scaler.converged ? "yes" : "no (raise max_samples if the budget was the limit)");
  std::map<std::string, double> values = {{"count", static_cast<double>(scaler.count)},
                                          {"converged", scaler.converged ? 1.0 : 0.0},
                                          {"skipped", static_cast<double>(fit.skipped)},
                                          {"seconds", fit.seconds}};
  for (int64_t d = 0; d < scaler.size(); ++d) {
    const std::string& name = scaler.names[d];
    double mean = scaler.mean[d], spread = scaler.std[d];
    log().info("  {:<14} mean {:>12.6g}  std {:>12.6g}", name, mean, spread);
    if (spread < 1e-8)
      log().warn("fit_action_scaler: '{}' has std ~0: no variation (constant or corrupt data?); "
                 "it will be divided by 1", name);
    else if (spread > 1000)
      log().warn("fit_action_scaler: '{}' has std {:.4g} > 1000: outliers or wrong units?", name, spread);
    values["mean/" + name] = mean;
    values["std/" + name] = spread;
    if (fit.holdout_rows > 0) {
      values["holdout_mean/" + name] = fit.holdout_mean[d];
      values["holdout_std/" + name] = fit.holdout_std[d];
    }
  }
  if (fit.holdout_rows > 0) {
    double worst_mean = 0, worst_std = 0;
    for (int64_t d = 0; d < scaler.size(); ++d) {
      worst_mean = std::max(worst_mean, std::abs(fit.holdout_mean[d]));
      worst_std = std::max(worst_std, std::abs(fit.holdout_std[d] - 1));
    }
    log().info("fit_action_scaler: held-out check on {} rows: |mean| <= {:.3f}, |std - 1| <= {:.3f} "
               "(ideal 0 and 0)", fit.holdout_rows, worst_mean, worst_std);
    values["holdout_rows"] = static_cast<double>(fit.holdout_rows);
  } else if (options.holdout > 0) {
    log().warn("fit_action_scaler: no held-out samples (too few samples for holdout {})",
               options.holdout);
  }
  if (fit.skipped > 0)
    log().warn("fit_action_scaler: skipped {} unreadable sample(s), first: {}", fit.skipped,
               fit.skipped_sources.front());
  context.metrics_log.append({{"procedure", "fit_action_scaler"}}, values);
  log().info("fit_action_scaler: wrote {}", file.string());
}

}  // namespace

const Procedure fit_action_scaler_procedure = {
    "fit_action_scaler", "fit an action scaler (mean, std per dimension) over webdataset shards",
    &fit_action_scaler_schema, {}, &fit_action_scaler_check, &fit_action_scaler_run};

}  // namespace wm
