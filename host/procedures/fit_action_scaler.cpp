// fit_action_scaler: per-dimension mean and std of continuous actions over webdataset shards,
// written as a scaler file that experiments apply with data.<name>.action_scaler. Reads only the
// .jsonl frame records; the statistics and the convergence rule live in action_scaler_fit.h.
// The report is the seed's "SCALER FITTING COMPLETE" block, in the log and in action_scaler.md,
// with plausibility warnings (std ~0, > 1000, outside an expected range, too few rows).
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

#include "../procedure.h"
#include "procedures/action_scaler_fit.h"
#include "procedures/scaler_report.h"
#include "wm/io/atomic_file.h"
#include "wm/io/webdataset.h"
#include "wm/log.h"

namespace wm {
namespace {

Schema fit_action_scaler_schema() {
  return Schema{}
      .path("shards", "tar shards: a glob (shards/*.tar) or a brace range "
                      "(shard-{000000..000499}.tar)").required()
      .strings("action_fields", {"mouse.dx", "mouse.dy", "yaw_diff", "pitch_diff"},
               "per-frame record fields (see the webdataset plugin); [action] for environment "
               "shards")
      .integer("stride", 1, "sum the per-frame rows of each stride, as webdataset's `stride` does: "
                            "fit the actions the model sees").at_least(1)
      .integer("frames", 0, "cut clips of this many sampled frames (frames - 1 actions each), as "
                            "webdataset's `frames`; 0: each whole sample (whole strides)").at_least(0)
      .choice("clips", "all", {"first", "all"}, "with frames > 0: webdataset's `clips` (first: one "
                                                "clip per sample; all: every whole clip)")
      .integer("max_samples", 100000, "action rows to fit on (the sample budget)").at_least(1)
      .integer("max_shards", 0, "read a uniform random subset of this many shards (0: all)")
      .at_least(0)
      .boolean("convergence", true, "stop early when mean and std have settled")
      .real("tolerance", 0.01, "convergence: largest change of mean and std, in stds").range(0, 1)
      .integer("check_every", 10000, "convergence: rows between checks").at_least(1)
      .integer("patience", 3, "convergence: stable checks in a row").at_least(1)
      .integer("min_samples", 10000, "convergence: never stop before this many rows").at_least(0)
      .real("holdout", 0.1, "fraction of samples kept out of the fit to verify it").range(0, 0.9)
      .integer("threads", 1, "shard reader threads (statistics identical for any count)")
      .range(1, 64)
      .strings("expected_std", {"mouse.dx 5..50", "mouse.dy 5..50", "yaw_diff 0.01..0.5",
                                "pitch_diff 0.01..0.5"},
               "plausible std per dimension, \"<name> <low>..<high>\" (the seed's good signs); "
               "a fitted std outside warns; [] for none")
      .integer("warn_below_samples", 10000, "warn when the fit saw fewer rows (0: never)")
      .at_least(0)
      .choice("format", "yaml", {"yaml", "json", "pkl"},
              "file format of <run>/action_scaler.<format>; pkl: also the .yaml, and a "
              "scikit-learn StandardScaler pickle (scripts/scaler_to_sklearn.py; needs python3 "
              "with scikit-learn)")
      .path("output", "also write the scaler here (the extension picks the format: .yaml, .yml, "
                      ".json, .pkl)")
      .boolean("overwrite", false, "output may replace a different file; false: an existing "
                                   "output is refused unless it holds the same scaler");
}

//---- validation ----

// true when an earlier step of the same experiment writes files under a folder the pattern is
// in (write_fixture's `out`): those shards do not exist before the run
bool written_by_earlier_step(const Experiment& experiment, const ProcedureSpec& step,
                             const std::string& pattern) {
  for (const ProcedureSpec& earlier : experiment.procedures) {
    if (&earlier == &step || earlier.key_path == step.key_path) break;
    if (!earlier.procedure || std::string(earlier.procedure->name) != "write_fixture") continue;
    auto out = std::filesystem::path(earlier.params.get<std::string>("out")).lexically_normal();
    auto target = std::filesystem::path(pattern).lexically_normal();
    auto [end, _] = std::mismatch(out.begin(), out.end(), target.begin(), target.end());
    if (end == out.end()) return true;
  }
  return false;
}

void fit_action_scaler_check(const Experiment& experiment, const ProcedureSpec& step) {
  std::string pattern = step.params.get<std::string>("shards");
  if (!written_by_earlier_step(experiment, step, pattern) && !written_by_run(experiment, pattern)) {
    try {
      io::expand_shard_pattern(pattern);
    } catch (const ConfigError&) {
      throw;
    } catch (const Error& e) {
      throw step.params.error("shards", e.what());
    }
  }
  std::string output = step.params.get<std::string>("output");
  std::string extension = std::filesystem::path(output).extension().string();
  if (!output.empty() && extension != ".yaml" && extension != ".yml" && extension != ".json" &&
      extension != ".pkl")
    throw step.params.error("output", "name a .yaml, .yml, .json or .pkl file, got '" + output + "'");
  if (step.params.get<int64_t>("frames") == 1)
    throw step.params.error("frames", "a clip of 1 frame has no actions; use 0 (whole samples) "
                                      "or >= 2");
  try {
    parse_expected_std(step.params.get<StringList>("expected_std"));
  } catch (const Error& e) {
    throw step.params.error("expected_std", e.what());
  }
  if (extension == ".pkl" || step.params.get<std::string>("format") == "pkl") {
    if (std::string missing = sklearn_missing(); !missing.empty())
      throw step.params.error(extension == ".pkl" ? "output" : "format", missing);
  }
}

//---- the run ----

std::string file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// moves `draft` to `target`; a different file already there stays unless `overwrite` (the same
// bytes, e.g. from the run a resume continues, are not a change)
void write_output(const std::filesystem::path& draft, const std::filesystem::path& target, bool overwrite) {
  std::string bytes = file_bytes(draft);
  std::filesystem::remove(draft);
  if (std::filesystem::exists(target) && !overwrite && file_bytes(target) != bytes)
    throw Error("fit_action_scaler: output " + target.string() + " exists and holds another "
                "scaler; set overwrite: true to replace it, or choose another output");
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  io::write_file_atomic(target, bytes);
}

void fit_action_scaler_run(RunContext& context, const Params& params) {
  ActionScalerFitOptions options;
  options.shards = io::expand_shard_pattern(params.get<std::string>("shards"));
  options.fields = params.get<StringList>("action_fields");
  options.stride = params.get<int64_t>("stride");
  options.frames = params.get<int64_t>("frames");
  options.every_clip = params.get<std::string>("clips") == "all";
  options.max_samples = params.get<int64_t>("max_samples");
  options.max_shards = params.get<int64_t>("max_shards");
  options.convergence = params.get<bool>("convergence");
  options.tolerance = params.get<double>("tolerance");
  options.check_every = params.get<int64_t>("check_every");
  options.patience = params.get<int64_t>("patience");
  options.min_samples = params.get<int64_t>("min_samples");
  options.holdout = params.get<double>("holdout");
  options.threads = params.get<int64_t>("threads");
  options.seed = static_cast<uint64_t>(context.experiment.seed);
  log().info("fit_action_scaler: {} shard(s) found, reading {}; budget {} rows{}{}",
             options.shards.size(),
             options.max_shards > 0 ? std::min<int64_t>(options.max_shards, options.shards.size())
                                    : static_cast<int64_t>(options.shards.size()),
             options.max_samples,
             options.stride > 1 ? "; each row sums a stride of " + std::to_string(options.stride) +
                                      " frames"
                                : std::string(),
             options.frames > 0 ? "; clips of " + std::to_string(options.frames) + " frames"
                                : std::string());

  ActionScalerFit fit = fit_action_scaler(options);
  const io::ActionScaler& scaler = fit.scaler;
  std::string format = params.get<std::string>("format");
  auto file = context.dir / ("action_scaler." + std::string(format == "pkl" ? "yaml" : format));
  scaler.save(file);
  std::vector<std::filesystem::path> saved = {file};
  if (format == "pkl") {
    auto pickle = context.dir / "action_scaler.pkl";
    write_sklearn_pickle(file, pickle);
    saved.push_back(pickle);
  }
  if (std::string output = params.get<std::string>("output"); !output.empty()) {
    std::filesystem::path target(output);
    // written in the run folder first, so an existing file is replaced only when asked
    auto draft = context.dir / ("output" + target.extension().string());
    if (target.extension() == ".pkl")
      write_sklearn_pickle(file, draft);
    else
      scaler.save(draft);
    write_output(draft, target, params.get<bool>("overwrite"));
    saved.push_back(target);
  }

  // the report, the warnings and the metrics
  ScalerReport report = scaler_report(fit, options, parse_expected_std(params.get<StringList>("expected_std")),
                                      params.get<int64_t>("warn_below_samples"), saved);
  for (const auto& line : report.block) log().info("{}", line);
  for (const auto& warning : report.warnings) log().warn("fit_action_scaler: {}", warning);
  io::write_file_atomic(context.dir / "action_scaler.md", report.markdown);

  std::map<std::string, double> values = {{"count", static_cast<double>(scaler.count)},
                                          {"converged", scaler.converged ? 1.0 : 0.0},
                                          {"skipped", static_cast<double>(fit.skipped)},
                                          {"seconds", fit.seconds}};
  for (int64_t d = 0; d < scaler.size(); ++d) {
    const std::string& name = scaler.names[d];
    values["mean/" + name] = scaler.mean[d];
    values["std/" + name] = scaler.std[d];
    if (fit.holdout_rows > 0) {
      values["holdout_mean/" + name] = fit.holdout_mean[d];
      values["holdout_std/" + name] = fit.holdout_std[d];
    }
  }
  if (fit.holdout_rows > 0) values["holdout_rows"] = static_cast<double>(fit.holdout_rows);
  context.metrics_log.append({{"procedure", "fit_action_scaler"}}, values);
  log().info("fit_action_scaler: wrote {} and {}", file.string(),
             (context.dir / "action_scaler.md").string());
}

}  // namespace

const Procedure fit_action_scaler_procedure = {
    "fit_action_scaler", "fit an action scaler (mean, std per dimension) over webdataset shards",
    &fit_action_scaler_schema, {}, &fit_action_scaler_check, &fit_action_scaler_run};

}  // namespace wm
