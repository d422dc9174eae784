// rollout: run episodes in the environment under a policy (episode_policy.h) and report returns,
// success and, when the env reports one, the final distance to the goal. Each rollout step adds
// a row to rollout.md / rollout.csv in the run folder.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "../procedure.h"
#include "episode_policy.h"
#include "wm/log.h"
#include "report/progress.h"
#include "report/table_writer.h"

namespace wm {
namespace {

Schema rollout_schema() {
  Schema schema;
  schema.integer("episodes", 10, "episodes to run").at_least(1);
  return add_policy_params(schema, "random")
      .integer("max_steps", 0, "cut episodes at this length (0: the env's own limit)").at_least(0);
}

// one row per rollout step of the run, in rollout.md and rollout.csv: rollout.csv is read back,
// the row appended (a column the earlier rows lack is added, blank for them) and both rewritten
void append_table_row(const std::filesystem::path& dir, const std::string& policy,
                      const std::map<std::string, double>& values) {
  std::vector<std::string> columns = {"episodes", "return_mean", "return_std", "length_mean",
                                      "success_rate"};
  if (values.count("final_distance_mean")) columns.insert(columns.end(), {"final_distance_mean", "final_distance_std"});
  auto csv = dir / "rollout.csv";
  report::Table table;
  if (std::filesystem::exists(csv)) table = report::read_csv(csv);
  if (table.header.empty()) table.header = {"policy"};
  std::vector<std::string> row(table.header.size());
  row[0] = policy;
  for (const auto& column : columns) {
    auto found = std::find(table.header.begin(), table.header.end(), column);
    if (found == table.header.end()) {
      table.header.push_back(column);
      for (auto& earlier : table.rows) earlier.emplace_back();
      row.emplace_back();
      found = table.header.end() - 1;
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", values.at(column));
    row[static_cast<size_t>(found - table.header.begin())] = text;
  }
  table.rows.push_back(std::move(row));
  report::write_csv(csv, table);
  report::write_markdown(dir / "rollout.md", table);
}

void rollout_run(RunContext& context, const Params& params) {
  Env& env = episode_env(context, params);
  EnvSpec spec = env.spec();
  int64_t episodes = params.get<int64_t>("episodes");
  int64_t max_steps = params.get<int64_t>("max_steps");
  if (max_steps == 0) max_steps = spec.max_episode_steps > 0 ? spec.max_episode_steps : 1000;
  EpisodePolicy policy("rollout", context, params);

  double return_sum = 0, return_square_sum = 0, length_sum = 0, successes = 0;
  double distance_sum = 0, distance_square_sum = 0;
  bool has_distance = false;
  Progress progress("rollout " + policy.name(), episodes);
  for (int64_t episode = 0; episode < episodes; ++episode) {
    // the same episodes (starts and goals) for every policy of a run with the same first_episode
    TensorMap observation = env.reset(episode_seed(context, params, episode));
    policy.reset(observation);
    double episode_return = 0, final_distance = 0;
    bool success = false;
    int64_t steps = 0;
    for (; steps < max_steps; ++steps) {
      at::Tensor action = policy.act();
      StepResult result = env.step(action);
      policy.observe(result.observation, action);
      episode_return += result.reward;
      if (auto distance = result.info.find("distance"); distance != result.info.end())
        final_distance = distance->second, has_distance = true;
      auto flag = result.info.find("success");
      success = success || (flag != result.info.end() && flag->second > 0.5);
      if (result.terminated || result.truncated) {
        ++steps;
        break;
      }
    }
    return_sum += episode_return;
    return_square_sum += episode_return * episode_return;
    length_sum += static_cast<double>(steps);
    successes += success ? 1 : 0;
    distance_sum += final_distance, distance_square_sum += final_distance * final_distance;
    progress.advance();
  }
  double mean = return_sum / episodes;
  std::map<std::string, double> values = {
      {"episodes", static_cast<double>(episodes)},
      {"return_mean", mean},
      {"return_std", std::sqrt(std::max(0.0, return_square_sum / episodes - mean * mean))},
      {"length_mean", length_sum / episodes},
      {"success_rate", successes / episodes}};
  if (has_distance) {
    double distance_mean = distance_sum / episodes;
    values["final_distance_mean"] = distance_mean;
    values["final_distance_std"] =
        std::sqrt(std::max(0.0, distance_square_sum / episodes - distance_mean * distance_mean));
  }
  context.metrics_log.append({{"procedure", "rollout"}, {"policy", policy.name()}}, values);
  // one row per step: its `name:`, else its policy
  const std::string& label = context.metrics_log.step_label();
  append_table_row(context.dir, label.empty() ? policy.name() : label, values);
  log().info("rollout {}: {} episodes, return {:.3f} ± {:.3f}, success {:.0f}%{}", policy.name(), episodes,
             mean, values["return_std"], 100.0 * values["success_rate"],
             has_distance ? fmt::format(", final distance {:.4f} ± {:.4f}", values["final_distance_mean"],
                                        values["final_distance_std"])
                          : std::string());
}

}  // namespace

const Procedure rollout_procedure = {"rollout",
                                     "run environment episodes under a policy",
                                     &rollout_schema, {/*model=*/false, /*env=*/true},
                                     &check_policy_params, &rollout_run};

}  // namespace wm
