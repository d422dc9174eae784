#include "score_command.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "config_node.h"
#include "procedures/score.h"
#include "run.h"
#include "run_loop.h"
#include "wm/io/json.h"

namespace wm {

//---- the experiment ----

std::string score_experiment_yaml(const std::string& prediction, const std::string& target,
                                  const std::vector<std::string>& metrics, int64_t batch_size) {
  // paths are made absolute: the experiment has no file for relative ones to resolve against
  auto absolute = [](const std::string& path) {
    return io::json::quote(std::filesystem::absolute(path).lexically_normal().string());
  };
  std::ostringstream yaml;
  yaml << "experiment: score\nseed: 0\nthreads: 0\nmetrics:\n";
  // a name, or a whole entry as a YAML map: {plugin: lpips, params: {net: vgg}}
  for (const auto& metric : metrics.empty() ? std::vector<std::string>{"psnr", "ssim"} : metrics)
    yaml << "  - " << (metric.rfind('{', 0) == 0 ? metric : "{plugin: " + io::json::quote(metric) + "}")
         << "\n";
  yaml << "procedure:\n  - score: {prediction: " << absolute(prediction)
       << ", target: " << absolute(target) << ", batch_size: " << batch_size << "}\n";
  return yaml.str();
}

//---- the command ----

int command_score(const Options& options, PluginRegistry& registry) {
  if (options.prediction.empty() || options.target.empty())
    throw UsageError("score needs both sides: wmhost score --prediction DIR_OR_GLOB --target "
                     "DIR_OR_GLOB [--metric NAME ...] [key.path=value ...]");
  int64_t batch_size = 8;
  if (!options.batch_size.empty()) {
    try {
      size_t used = 0;
      batch_size = std::stoll(options.batch_size, &used);
      if (used != options.batch_size.size() || batch_size < 1) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw UsageError("--batch-size needs a whole number of at least 1, got '" +
                       options.batch_size + "'");
    }
  }
  // the pairs are checked here too, so a missing name is an error about the files, not about
  // the generated experiment
  try {
    pair_videos(options.prediction, options.target);
  } catch (const Error& e) {
    throw Error(std::string("score: ") + e.what());
  }
  ConfigNode root = parse_yaml(
      score_experiment_yaml(options.prediction, options.target, options.metrics, batch_size),
      "wmhost score");
  // the overrides follow the command on the command line: position 2 onwards
  Plan plan = plan_config(std::move(root), options.args, 2, registry);

  Options run = options;
  if (!options.dry_run && run.out.empty())
    run.out = make_unique_dir(std::filesystem::path("runs") / "score", utc_timestamp()).string();
  int status = run_plan(plan, run, registry);
  auto table = std::filesystem::path(run.out) / "score.md";
  if (status == 0 && !options.dry_run && std::filesystem::exists(table)) {
    std::ifstream in(table);
    std::cout << in.rdbuf();
    std::cout << "table: " << table.string() << " and score.csv\n";
  }
  return status;
}

}  // namespace wm
