// evaluate: run the model over a dataset and score its outputs with every metric.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "../procedure.h"
#include "wm/log.h"
#include "wm/progress.h"
#include "wm/suggest.h"

namespace wm {
namespace {

Schema evaluate_schema() {
  return Schema{}
      .text("data", "val", "which entry under `data:` to evaluate on")
      .integer("batch_size", 8, "samples per batch").at_least(1)
      .integer("max_batches", 0, "stop after this many batches (0: the whole dataset)")
      .at_least(0);
}

void evaluate_check(const Experiment& experiment, const ProcedureSpec& step) {
  if (!experiment.model)
    throw ConfigError(step.loc, step.key_path, "needs a `model:` section");
  if (experiment.metrics.empty())
    throw ConfigError(step.loc, step.key_path, "needs at least one entry under `metrics:`");
  std::string data = step.params.get<std::string>("data");
  if (!experiment.data.count(data)) {
    std::vector<std::string> known;
    for (const auto& entry : experiment.data) known.push_back(entry.first);
    throw step.params.error("data", "no `data." + data + "` in this experiment" +
                                        did_you_mean(data, known) + " (have: " +
                                        (known.empty() ? "none" : join(known)) + ")");
  }
}

void evaluate_run(RunContext& context, const Params& params) {
  std::string data_name = params.get<std::string>("data");
  Dataset& dataset = *context.data.at(data_name);
  int64_t batch_size = params.get<int64_t>("batch_size");
  int64_t batches = (dataset.size() + batch_size - 1) / batch_size;
  if (int64_t limit = params.get<int64_t>("max_batches"); limit > 0)
    batches = std::min(batches, limit);
  if (batches == 0) throw Error("evaluate: data." + data_name + " is empty");

  for (auto& [name, metric] : context.metrics) metric->reset();
  at::NoGradGuard no_grad;
  Progress progress("evaluate " + data_name, batches);
  int64_t samples = 0;
  for (int64_t b = 0; b < batches; ++b) {
    std::vector<Sample> items;
    for (int64_t i = b * batch_size; i < std::min(dataset.size(), (b + 1) * batch_size); ++i)
      items.push_back(dataset.get(i));
    Batch batch = collate(items);
    TensorMap outputs = context.model->predict(batch);
    for (auto& [name, metric] : context.metrics) {
      for (const auto& key : metric->required_keys())
        if (!outputs.count(key))
          throw Error("metric '" + name + "' needs model output '" + key +
                      "', which the model does not produce");
      metric->update(outputs);
    }
    samples += batch.size();
    progress.advance();
  }

  std::map<std::string, double> values{{"samples", static_cast<double>(samples)}};
  std::string report;
  for (auto& [name, metric] : context.metrics)
    for (const auto& [key, value] : metric->compute()) {
      std::string label = key == name ? key : (key.rfind(name, 0) == 0 ? key : name + "/" + key);
      values[label] = value;
      report += (report.empty() ? "" : ", ") + label + " " + std::to_string(value);
    }
  context.metrics_log.append({{"procedure", "evaluate"}, {"data", data_name}}, values);
  log().info("evaluate {}: {} samples | {}", data_name, samples, report);
}

}  // namespace

const Procedure evaluate_procedure = {"evaluate",
                                      "score the model's outputs on a dataset with every metric",
                                      &evaluate_schema, &evaluate_check, &evaluate_run};

}  // namespace wm
