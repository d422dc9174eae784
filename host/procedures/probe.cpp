// probe: how much of the action, the arrow of time and the motion a model's frozen features hold.
// Features are the model's encode() of each clip (standardised with the fitting split's mean and
// std); every probe is linear and fitted with AdamW on `data`, then scored on `eval_data`:
//   action      discrete action_label: accuracy and top-5 (baseline: the most frequent class)
//   regression  the clip's mean continuous action: R² and MSE (baseline: the mean action, R² 0)
//   order       is the clip played forward or reversed: accuracy (baseline 0.5)
//   flow        the optical flow from the first to the last frame, average-pooled to a coarse
//               grid, against the classical Lucas-Kanade flow (wm/lucas_kanade_flow.h): EPE in
//               pixels (baseline: the mean flow of the fitting split)
// Writes probe.md and probe.csv (probe, metric, value, baseline) and one metrics.jsonl line.
#include <ATen/ATen.h>

#include <algorithm>
#include <set>

#include "../procedure.h"
#include "wm/io/atomic_file.h"
#include "procedures/linear_probe.h"
#include "wm/log.h"
#include "procedures/lucas_kanade_flow.h"
#include "report/progress.h"
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
      .integer("steps", 300, "AdamW steps of each probe (full batch)").at_least(1)
      .real("lr", 0.01, "probe learning rate").at_least(0)
      .real("weight_decay", 1e-4, "probe weight decay").at_least(0)
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
};

void write_table(const std::filesystem::path& dir, const std::vector<Row>& rows) {
  std::string md = "| probe | metric | value | baseline |\n|---|---|---:|---:|\n", csv = "probe,metric,value,baseline\n";
  for (const auto& row : rows) {
    char cells[96];
    std::snprintf(cells, sizeof cells, "%.4f | %.4f", row.value, row.baseline);
    md += "| " + row.probe + " | " + row.metric + " | " + cells + " |\n";
    std::snprintf(cells, sizeof cells, "%.6g,%.6g", row.value, row.baseline);
    csv += row.probe + "," + row.metric + "," + cells + "\n";
  }
  io::write_file_atomic(dir / "probe.md", md);
  io::write_file_atomic(dir / "probe.csv", csv);
}

void probe_run(RunContext& context, const Params& params) {
  auto probes = params.get<StringList>("probes");
  auto wants = [&](const char* probe) { return std::find(probes.begin(), probes.end(), probe) != probes.end(); };
  context.model().set_training(false);
  at::NoGradGuard no_grad;
  std::string fit_name = params.get<std::string>("data"), eval_name = params.get<std::string>("eval_data");
  ProbeData fitted = collect(context, context.dataset(fit_name), fit_name, probes, params);
  ProbeData scored = collect(context, context.dataset(eval_name), eval_name, probes, params);

  // standardise features with the fitting split's statistics
  auto mean = fitted.features.mean(0), std = fitted.features.std(0).clamp_min(1e-6);
  auto standard = [&](const at::Tensor& x) { return (x - mean) / std; };
  std::vector<Row> rows;
  eval::LinearProbeOptions options{params.get<int64_t>("steps"), params.get<double>("lr"),
                                   params.get<double>("weight_decay")};

  if (wants("action")) {
    int64_t classes = std::max(fitted.labels.max().item<int64_t>(), scored.labels.max().item<int64_t>()) + 1;
    auto probe = eval::fit_classifier(standard(fitted.features), fitted.labels, classes, options);
    auto logits = probe(standard(scored.features));
    auto counts = at::bincount(fitted.labels, {}, classes);
    auto majority = at::full_like(scored.labels, counts.argmax().item<int64_t>());
    rows.push_back({"action", "accuracy", eval::top_k_accuracy(logits, scored.labels, 1),
                    majority.eq(scored.labels).to(at::kDouble).mean().item<double>()});
    auto by_frequency = std::get<1>(counts.to(at::kDouble).topk(std::min<int64_t>(5, classes)));
    rows.push_back({"action", "top5", eval::top_k_accuracy(logits, scored.labels, 5),
                    at::isin(scored.labels, by_frequency).to(at::kDouble).mean().item<double>()});
  }
  if (wants("regression")) {
    auto target_mean = fitted.actions.mean(0);
    auto probe = eval::fit_regressor(standard(fitted.features), fitted.actions, options);
    auto predicted = probe(standard(scored.features));
    auto constant = target_mean.unsqueeze(0).expand_as(scored.actions);
    rows.push_back({"regression", "r2", eval::r2_score(predicted, scored.actions),
                    eval::r2_score(constant, scored.actions)});
    rows.push_back({"regression", "mse", (predicted - scored.actions).pow(2).mean().item<double>(),
                    (scored.actions - target_mean).pow(2).mean().item<double>()});
  }
  if (wants("order")) {
    auto both = [&](const ProbeData& d) { return standard(at::cat({d.features, d.reversed_features})); };
    auto labels_of = [](const ProbeData& d) {
      int64_t n = d.features.size(0);
      return at::cat({at::ones({n}, at::kLong), at::zeros({n}, at::kLong)});
    };
    auto labels = labels_of(fitted);
    auto probe = eval::fit_classifier(both(fitted), labels, 2, options);
    rows.push_back({"order", "accuracy", eval::top_k_accuracy(probe(both(scored)), labels_of(scored), 1), 0.5});
  }
  if (wants("flow")) {
    auto probe = eval::fit_regressor(standard(fitted.features), fitted.flow, options);
    auto constant = fitted.flow.mean(0, true).expand_as(scored.flow);
    rows.push_back({"flow", "epe_px", epe(probe(standard(scored.features)), scored.flow), epe(constant, scored.flow)});
  }

  write_table(context.dir, rows);
  std::map<std::string, double> values{{"samples", static_cast<double>(scored.features.size(0))},
                                       {"feature_dim", static_cast<double>(scored.features.size(1))}};
  std::string report;
  for (const auto& row : rows) {
    values[row.probe + "_" + row.metric] = row.value;
    values[row.probe + "_" + row.metric + "_baseline"] = row.baseline;
    char text[96];
    std::snprintf(text, sizeof text, "%s%s %s %.4f (baseline %.4f)", report.empty() ? "" : ", ",
                  row.probe.c_str(), row.metric.c_str(), row.value, row.baseline);
    report += text;
  }
  context.metrics_log.append({{"procedure", "probe"}, {"data", eval_name}}, values);
  log().info("probe on data.{}: {}; table in {}", eval_name, report, (context.dir / "probe.md").string());
}

}  // namespace

const Procedure probe_procedure = {"probe",
                                   "linear probes on the model's frozen features: action class, "
                                   "continuous action, temporal order, optical flow",
                                   &probe_schema, {/*model=*/true}, &probe_check, &probe_run};

}  // namespace wm
