// probe: how much of the action, the arrow of time and the motion a model's frozen features hold.
// Features are the model's encode() of each clip. Every probe is linear, fitted on `data` and
// scored on `eval_data` (procedures/linear_probe.h): classification probes are multinomial
// logistic regressions fitted by L-BFGS, regression probes ridge regressions solved exactly, both
// on features standardised with the fitting rows' statistics, as scikit-learn fits them. The
// regularisation (C from `cs`, alpha from `alphas`) is chosen on a validation split of `data`
// (`val_fraction` of its clips, drawn with the run's seed), then the probe is refitted on all of
// `data`.
//   action      discrete action_label: accuracy and top-5 (baseline: the most frequent class)
//   regression  the clip's mean continuous action: R² and MSE (baseline: the mean action, R² 0)
//   order       is the clip played forward or reversed: accuracy (baseline 0.5); a clip and its
//               reversal are on the same side of the validation split
//   flow        the optical flow from the first to the last frame, average-pooled to a coarse
//               grid, against the classical Lucas-Kanade flow (wm/lucas_kanade_flow.h): EPE in
//               pixels (baseline: the mean flow of the fitting split)
// Writes probe.md and probe.csv (probe, metric, value, baseline, hyperparameter, chosen) and one
// metrics.jsonl line.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <set>

#include "../procedure.h"
#include "procedures/linear_probe.h"
#include "wm/log.h"
#include "procedures/lucas_kanade_flow.h"
#include "report/progress.h"
#include "report/table_writer.h"
#include "wm/error.h"

namespace wm {
namespace {

const std::vector<std::string> kProbes = {"action", "regression", "order", "flow"};

Schema probe_schema() {
  return Schema{}
      .data_ref("data", "train", "entry under `data:` the probes are fitted on")
      .data_ref("eval_data", "val", "entry under `data:` the probes are scored on")
      .strings("probes", kProbes, "which probes: action, regression, order, flow")
      .integer("batch_size", 16, "clips per encode() call").at_least(1)
      .reals("cs", {1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100},
             "logistic probes (action, order): the grid of inverse regularisation C; one value: no choice")
      .reals("alphas", {1e-2, 0.1, 1, 10, 100, 1e3, 1e4},
             "ridge probes (regression, flow): the grid of penalties alpha; one value: no choice")
      .real("val_fraction", 0.2, "share of `data`'s clips held out to choose C and alpha").range(0.01, 0.9)
      .integer("max_iter", 1000, "L-BFGS iterations of each logistic fit").at_least(1)
      .integer("flow_grid", 4, "flow probe: the flow is pooled to flow_grid x flow_grid cells").at_least(1);
}

void probe_check(const Experiment&, const ProcedureSpec& step) {
  const Params& p = step.params;
  auto names = p.get<StringList>("probes");
  if (names.empty()) throw p.error("probes", "name at least one of: " + join(kProbes));
  for (const auto& name : names)
    if (std::find(kProbes.begin(), kProbes.end(), name) == kProbes.end())
      throw p.error("probes", "unknown probe '" + name + "'" + did_you_mean(name, kProbes) +
                                  " (probes: " + join(kProbes) + ")");
  for (const char* grid : {"cs", "alphas"}) {
    auto values = p.get<RealList>(grid);
    if (values.empty()) throw p.error(grid, "give at least one value");
    for (double value : values)
      if (!(value > 0)) throw p.error(grid, "values must be > 0, got " + format_value(value));
  }
}

// everything the probes need from one split, on the CPU
struct ProbeData {
  at::Tensor features, reversed_features;  // [N, D]
  at::Tensor labels, actions, flow;        // [N], [N, A], [N, 2*g*g] (undefined when not needed)
};

at::Tensor features_of(Model& model, const Batch& batch) {
  TensorMap out = model.encode(batch);
  auto found = out.find("features");
  if (found == out.end()) throw Error("probe: the model's encode() returned no `features`");
  return found->second.reshape({batch.size(), -1}).to(at::kCPU).to(at::kFloat);
}

ProbeData collect(RunContext& context, Dataset& dataset, const std::string& name,
                  const std::vector<std::string>& probes, const Params& params) {
  auto wants = [&](const char* probe) { return std::find(probes.begin(), probes.end(), probe) != probes.end(); };
  int64_t batch_size = params.get<int64_t>("batch_size"), grid = params.get<int64_t>("flow_grid");
  int64_t batches = (dataset.size() + batch_size - 1) / batch_size;
  eval::LucasKanadeFlow flow_estimator;
  std::vector<at::Tensor> features, reversed, labels, actions, flows;
  Model& model = context.model();
  Progress progress("probe: features of data." + name, batches);
  for (int64_t b = 0; b < batches; ++b) {
    std::vector<Sample> samples;
    for (int64_t i = b * batch_size; i < std::min(dataset.size(), (b + 1) * batch_size); ++i)
      samples.push_back(dataset.get(i));
    Batch batch = collate(samples);
    static const std::pair<const char*, const char*> kNeeds[] = {{"action", "action_label"},
                                                                 {"regression", "actions"}};
    for (const auto& [probe, key] : kNeeds)
      if (wants(probe) && !batch.tensors.count(key))
        throw Error("probe: data." + name + " has no `" + key + "` for the " + probe +
                    " probe; drop it from `probes`");
    if (wants("action")) labels.push_back(batch.at("action_label").reshape({-1}));
    if (wants("regression")) actions.push_back(batch.at("actions").to(at::kFloat).mean(1));
    const auto& video = batch.at("video");
    if (wants("flow")) {
      auto flow = flow_estimator.estimate(video.select(1, 0), video.select(1, video.size(1) - 1));
      flows.push_back(at::adaptive_avg_pool2d(flow, {grid, grid}).flatten(1));
    }
    move_to(batch, context.experiment.device);
    features.push_back(features_of(model, batch));
    if (wants("order")) {
      Batch backwards = batch;
      backwards.tensors["video"] = batch.at("video").flip({1});
      reversed.push_back(features_of(model, backwards));
    }
    progress.advance();
  }
  auto cat = [](const std::vector<at::Tensor>& parts) { return parts.empty() ? at::Tensor() : at::cat(parts); };
  return {cat(features), cat(reversed), cat(labels), cat(actions), cat(flows)};
}

double epe(const at::Tensor& prediction, const at::Tensor& target) {
  auto difference = (prediction - target).view({prediction.size(0), 2, -1});
  return difference.pow(2).sum(1).sqrt().mean().item<double>();
}

struct Row {
  std::string probe, metric;
  double value, baseline;
  std::string hyperparameter;  // "C" or "alpha"
  double chosen;
};

void write_table(const std::filesystem::path& dir, const std::vector<Row>& rows) {
  report::Table csv{{"probe", "metric", "value", "baseline", "hyperparameter", "chosen"}, {}, 2};
  report::Table md = csv;
  for (const auto& row : rows) {
    csv.rows.push_back({row.probe, row.metric, report::number(row.value), report::number(row.baseline),
                        row.hyperparameter, report::number(row.chosen)});
    md.rows.push_back({row.probe, row.metric, report::fixed(row.value, 4), report::fixed(row.baseline, 4),
                       row.hyperparameter, report::number(row.chosen)});
  }
  report::write_csv(dir / "probe.csv", csv);
  report::write_markdown(dir / "probe.md", md);
}

// one log line per fitted probe: the grid, its validation scores and the choice
void log_selection(const std::string& probe, const std::string& hyperparameter, const std::string& score,
                   const std::vector<double>& grid, const eval::Selection& selection) {
  if (grid.size() < 2) return;
  std::string scores;
  for (size_t i = 0; i < grid.size(); ++i)
    scores += fmt::format("{}{} {:.4g}", i ? ", " : "", report::number(grid[i]), selection.scores[i]);
  log().info("probe {}: validation {} by {}: {}; chose {} = {}", probe, score, hyperparameter, scores,
             hyperparameter, report::number(selection.chosen));
  if (selection.at_edge)
    log().warn("probe {}: the chosen {} = {} is at the edge of the grid; widen `{}`", probe, hyperparameter,
               report::number(selection.chosen), hyperparameter == "C" ? "cs" : "alphas");
}

void probe_run(RunContext& context, const Params& params) {
  auto probes = params.get<StringList>("probes");
  auto wants = [&](const char* probe) { return std::find(probes.begin(), probes.end(), probe) != probes.end(); };
  context.model().set_training(false);
  at::NoGradGuard no_grad;
  std::string fit_name = params.get<std::string>("data"), eval_name = params.get<std::string>("eval_data");
  ProbeData fitted = collect(context, context.dataset(fit_name), fit_name, probes, params);
  ProbeData scored = collect(context, context.dataset(eval_name), eval_name, probes, params);

  // the regularisation is chosen on a validation split of the fitting clips
  auto cs = params.get<RealList>("cs"), alphas = params.get<RealList>("alphas");
  eval::LogisticOptions logistic{params.get<int64_t>("max_iter")};
  int64_t clips = fitted.features.size(0);
  auto held_out = eval::validation_rows(clips, params.get<double>("val_fraction"),
                                        static_cast<uint64_t>(context.experiment.seed));
  std::vector<Row> rows;

  if (wants("action")) {
    int64_t classes = std::max(fitted.labels.max().item<int64_t>(), scored.labels.max().item<int64_t>()) + 1;
    auto fit = eval::select_logistic(fitted.features, fitted.labels, classes, cs, held_out, logistic);
    log_selection("action", "C", "accuracy", cs, fit);
    auto logits = fit.probe(scored.features);
    auto counts = at::bincount(fitted.labels, {}, classes);
    auto majority = at::full_like(scored.labels, counts.argmax().item<int64_t>());
    rows.push_back({"action", "accuracy", eval::top_k_accuracy(logits, scored.labels, 1),
                    majority.eq(scored.labels).to(at::kDouble).mean().item<double>(), "C", fit.chosen});
    auto by_frequency = std::get<1>(counts.to(at::kDouble).topk(std::min<int64_t>(5, classes)));
    rows.push_back({"action", "top5", eval::top_k_accuracy(logits, scored.labels, 5),
                    at::isin(scored.labels, by_frequency).to(at::kDouble).mean().item<double>(), "C", fit.chosen});
  }
  if (wants("regression")) {
    auto target_mean = fitted.actions.to(at::kDouble).mean(0);
    auto truth = scored.actions.to(at::kDouble);
    auto fit = eval::select_ridge(fitted.features, fitted.actions, alphas, held_out);
    log_selection("regression", "alpha", "R²", alphas, fit);
    auto predicted = fit.probe(scored.features);
    auto constant = target_mean.unsqueeze(0).expand_as(truth);
    rows.push_back({"regression", "r2", eval::r2_score(predicted, truth), eval::r2_score(constant, truth),
                    "alpha", fit.chosen});
    rows.push_back({"regression", "mse", (predicted - truth).pow(2).mean().item<double>(),
                    (truth - target_mean).pow(2).mean().item<double>(), "alpha", fit.chosen});
  }
  if (wants("order")) {
    // forward clips labelled 1, their reversals 0; a clip and its reversal share a side of the split
    auto both = [](const ProbeData& d) { return at::cat({d.features, d.reversed_features}); };
    auto labels_of = [](const ProbeData& d) {
      int64_t n = d.features.size(0);
      return at::cat({at::ones({n}, at::kLong), at::zeros({n}, at::kLong)});
    };
    auto fit = eval::select_logistic(both(fitted), labels_of(fitted), 2, cs, at::cat({held_out, held_out}), logistic);
    log_selection("order", "C", "accuracy", cs, fit);
    rows.push_back({"order", "accuracy", eval::top_k_accuracy(fit.probe(both(scored)), labels_of(scored), 1), 0.5,
                    "C", fit.chosen});
  }
  if (wants("flow")) {
    auto fit = eval::select_ridge(fitted.features, fitted.flow, alphas, held_out);
    log_selection("flow", "alpha", "R²", alphas, fit);
    auto truth = scored.flow.to(at::kDouble);
    auto constant = fitted.flow.to(at::kDouble).mean(0, true).expand_as(truth);
    rows.push_back({"flow", "epe_px", epe(fit.probe(scored.features), truth), epe(constant, truth), "alpha", fit.chosen});
  }

  write_table(context.dir, rows);
  std::map<std::string, double> values{{"samples", static_cast<double>(scored.features.size(0))},
                                       {"feature_dim", static_cast<double>(scored.features.size(1))}};
  std::string headline;
  for (const auto& row : rows) {
    values[row.probe + "_" + row.metric] = row.value;
    values[row.probe + "_" + row.metric + "_baseline"] = row.baseline;
    values[row.probe + "_" + row.hyperparameter] = row.chosen;
    headline += fmt::format("{}{} {} {:.4f} (baseline {:.4f})", headline.empty() ? "" : ", ", row.probe, row.metric,
                          row.value, row.baseline);
  }
  context.metrics_log.append({{"procedure", "probe"}, {"data", eval_name}}, values);
  log().info("probe on data.{}: {}; table in {}", eval_name, headline, (context.dir / "probe.md").string());
}

}  // namespace

const Procedure probe_procedure = {"probe",
                                   "linear probes on the model's frozen features: action class, "
                                   "continuous action, temporal order, optical flow",
                                   &probe_schema, {/*model=*/true}, &probe_check, &probe_run};

}  // namespace wm
