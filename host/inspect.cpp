#include "inspect.h"

#include <ATen/ATen.h>
#include <spdlog/fmt/fmt.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "engine/transforms.h"
#include "procedure.h"
#include "run_loop.h"
#include "wm/error.h"
#include "wm/io/action_scaler.h"
#include "wm/log.h"

namespace wm {

//---- the statistics ----

KeyStats key_stats(const std::string& key, const at::Tensor& values,
                   const std::vector<std::string>& names) {
  KeyStats stats;
  stats.key = key;
  switch (values.scalar_type()) {
    case at::kFloat: stats.dtype = "float32"; break;
    case at::kDouble: stats.dtype = "float64"; break;
    case at::kHalf: stats.dtype = "float16"; break;
    case at::kBFloat16: stats.dtype = "bfloat16"; break;
    case at::kLong: stats.dtype = "int64"; break;
    case at::kInt: stats.dtype = "int32"; break;
    case at::kShort: stats.dtype = "int16"; break;
    case at::kByte: stats.dtype = "uint8"; break;
    case at::kChar: stats.dtype = "int8"; break;
    case at::kBool: stats.dtype = "bool"; break;
    default: stats.dtype = std::string(c10::toString(values.scalar_type()));
  }
  stats.shape = values.sizes().vec();
  at::Tensor x = values.to(at::kDouble);
  at::Tensor rows;  // [N, D]: D statistics rows
  int64_t dims = x.dim();
  if (dims >= 4 && (x.size(-3) == 1 || x.size(-3) == 3)) {
    stats.over = "per channel";
    rows = x.movedim(-3, -1).reshape({-1, x.size(-3)});
    for (int64_t c = 0; c < x.size(-3); ++c) stats.labels.push_back("channel " + std::to_string(c));
  } else if (dims >= 2 && x.size(-1) <= 64) {
    stats.over = "per last dimension";
    rows = x.reshape({-1, x.size(-1)});
    for (int64_t d = 0; d < x.size(-1); ++d)
      stats.labels.push_back(static_cast<size_t>(x.size(-1)) == names.size() ? names[d]
                                                                             : std::to_string(d));
  } else {
    stats.over = "over all values";
    rows = x.reshape({-1, 1});
    stats.labels.push_back("all");
  }
  if (rows.size(0) == 0) return stats;
  auto copy = [](const at::Tensor& t) {
    auto c = t.contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  };
  stats.min = copy(std::get<0>(rows.min(0)));
  stats.max = copy(std::get<0>(rows.max(0)));
  stats.mean = copy(rows.mean(0));
  stats.std = copy(rows.std(0, /*unbiased=*/false));
  return stats;
}

std::string format_stats(const std::vector<KeyStats>& all) {
  std::string out;
  for (const auto& stats : all) {
    std::string shape;
    for (int64_t size : stats.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(size);
    out += fmt::format("{}  {}  [{}]  ({})\n", stats.key, stats.dtype, shape, stats.over);
    if (stats.mean.empty()) {
      out += "  (no values)\n";
      continue;
    }
    out += fmt::format("  {:<14} {:>13} {:>13} {:>13} {:>13}\n", "", "min", "max", "mean", "std");
    for (size_t d = 0; d < stats.mean.size(); ++d)
      out += fmt::format("  {:<14} {:>13.6g} {:>13.6g} {:>13.6g} {:>13.6g}\n", stats.labels[d],
                         stats.min[d], stats.max[d], stats.mean[d], stats.std[d]);
  }
  return out;
}

//---- the command ----

namespace {

int64_t count_option(const std::string& text, const std::string& name, int64_t fallback) {
  if (text.empty()) return fallback;
  try {
    size_t used = 0;
    int64_t value = std::stoll(text, &used);
    if (used == text.size() && value >= 1) return value;
  } catch (const std::exception&) {
  }
  throw UsageError("--" + name + " needs a whole number >= 1, got '" + text + "'");
}

}  // namespace

int command_inspect(const Options& options, PluginRegistry& registry) {
  if (options.args.size() < 2 || options.args[1].rfind("data.", 0) != 0)
    throw UsageError("inspect needs an experiment and a data entry: wmhost inspect EXP.yaml "
                     "data.<name> [--batches N] [--batch-size B] [key.path=value ...]");
  std::string name = options.args[1].substr(5);
  int64_t batches = count_option(options.batches, "batches", 1);
  int64_t batch_size = count_option(options.batch_size, "batch-size", 8);

  // the experiment as `run` would see it (the first point of a sweep)
  Options plan_options = options;
  plan_options.args = {options.args[0]};
  plan_options.args.insert(plan_options.args.end(), options.args.begin() + 2, options.args.end());
  Plan plan = plan_experiment(plan_options, registry);
  const Experiment& experiment = plan.experiments.front();
  if (!experiment.data.count(name)) {
    std::string names;
    for (const auto& [key, spec] : experiment.data) names += (names.empty() ? "" : ", ") + key;
    throw Error("no data entry '" + name + "' in " + options.args[0] + "; its data entries: " +
                (names.empty() ? "(none)" : names));
  }

  // a scratch run folder: building the entry may log, nothing else is written
  auto scratch = std::filesystem::temp_directory_path() /
                 ("wmhost-inspect-" + std::to_string(::getpid()));
  std::filesystem::create_directories(scratch);
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{scratch};
  MetricsLog metrics_log(scratch / "metrics.jsonl");
  RunContext context(experiment, registry, scratch, metrics_log);
  const DataSpec& spec = experiment.data.at(name);
  auto loader = open_loader(context, name, batch_size, /*training=*/false);

  std::map<std::string, std::vector<at::Tensor>> parts;
  int64_t read = 0, samples = 0;
  while (read < batches) {
    auto batch = loader->next();
    if (!batch) break;
    ++read;
    samples += batch->size();
    for (const auto& [key, tensor] : batch->tensors)
      // the dataset's own keys (the loader's sample_seed is not data)
      if (key != kSampleSeedKey && (tensor.is_floating_point() || c10::isIntegralType(tensor.scalar_type(), true)))
        parts[key].push_back(tensor.cpu());
  }
  if (read == 0) throw Error("data." + name + " gave no batch (" + std::to_string(loader->skipped()) +
                             " unreadable samples)");

  // the scaler's names label the action columns
  std::vector<std::string> action_names;
  if (!spec.action_scaler.empty()) action_names = io::ActionScaler::load(spec.action_scaler).names;
  std::vector<KeyStats> stats;
  for (const auto& [key, tensors] : parts)
    stats.push_back(key_stats(key, at::cat(tensors), key == "actions" ? action_names : std::vector<std::string>{}));

  std::cout << "data." << name << ": " << read << (read == 1 ? " batch" : " batches") << " of "
            << batch_size << " (" << samples << " samples, dataset order) after "
            << (spec.transforms && !spec.transforms->empty() ? "its transforms" : "no transforms")
            << (spec.action_scaler.empty() ? "" : " and the action scaler " + spec.action_scaler)
            << "\n"
            << format_stats(stats);
  return 0;
}

}  // namespace wm
