// rollout: run episodes in the environment under a policy and report returns, success and, when
// the env reports one, the final distance to the goal. `policy: model` asks the model for each
// action (model-predictive control): the last `context` observations, stacked over time like a
// clip (video [1, C, ...], state [1, C, S]), the C-1 actions executed between them, and the other
// observation keys (e.g. `goal`) go in a batch to predict(), which returns `action` [1, A].
// Each rollout step adds a row to rollout.md / rollout.csv in the run folder.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <fstream>
#include <optional>
#include <random>

#include "../procedure.h"
#include "wm/log.h"
#include "wm/atomic_file.h"
#include "wm/progress.h"
#include "wm/scripted_policy.h"

namespace wm {
namespace {

Schema rollout_schema() {
  return Schema{}
      .integer("episodes", 10, "episodes to run").at_least(1)
      .choice("policy", "random", {"random", "zero", "expert", "babble", "model"},
              "random: uniform in the action range; zero: always the zero action; expert, babble: "
              "the env's own scripted policies (wm::ScriptedPolicy, e.g. metaworld); model: the "
              "model's `action` output for the recent observations (MPC)")
      .integer("context", 2, "policy model: observations (frames) the model sees").at_least(1)
      .text("history_keys", "video,state", "policy model: observation keys stacked over time")
      .integer("max_steps", 0, "cut episodes at this length (0: the env's own limit)").at_least(0);
}

void rollout_check(const Experiment& experiment, const ProcedureSpec& step) {
  if (!experiment.env) throw ConfigError(step.loc, step.key_path, "needs an `env:` section");
  if (step.params.get<std::string>("policy") == "model" && !experiment.model)
    throw step.params.error("policy", "`model` needs a `model:` section");
}

std::vector<std::string> split_keys(const std::string& text) {
  std::vector<std::string> keys;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) keys.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return keys;
}

// the model as a policy: recent observations and actions -> the next action
class ModelPolicy {
 public:
  ModelPolicy(Model& model, const Experiment& experiment, const Params& params)
      : model_(model),
        model_name_(experiment.model->plugin->name()),
        device_(experiment.device),
        context_(params.get<int64_t>("context")),
        history_keys_(split_keys(params.get<std::string>("history_keys"))) {}

  void reset(const TensorMap& observation) {
    observations_.clear(), actions_.clear();
    observations_.push_back(observation);
  }
  void observe(const TensorMap& observation, const at::Tensor& action) {
    observations_.push_back(observation);
    actions_.push_back(action);
    while (static_cast<int64_t>(observations_.size()) > context_) observations_.pop_front();
    while (actions_.size() + 1 > observations_.size()) actions_.pop_front();
  }
  at::Tensor act(int64_t action_size) {
    Sample sample;
    for (const auto& [key, value] : observations_.back()) {
      bool stacked = std::find(history_keys_.begin(), history_keys_.end(), key) != history_keys_.end();
      if (!stacked) {
        sample.tensors[key] = value;
        continue;
      }
      std::vector<at::Tensor> steps;
      for (const auto& observation : observations_) steps.push_back(observation.at(key));
      sample.tensors[key] = at::stack(steps);
    }
    sample.tensors["actions"] = actions_.empty() ? at::zeros({0, action_size}, at::kFloat)
                                                 : at::stack(std::vector<at::Tensor>(actions_.begin(), actions_.end()));
    Batch batch = collate({sample});
    move_to(batch, device_);
    const std::string not_a_policy =
        "rollout: policy `model` needs the model to output `action` for an observation batch; "
        "model '" + model_name_ + "' does not (it is not a policy";
    TensorMap out;
    try {
      out = model_.predict(batch);
    } catch (const Error& e) {
      throw Error(not_a_policy + ": " + e.what() + ")");
    }
    auto found = out.find("action");
    if (found == out.end()) throw Error(not_a_policy + ")");
    return found->second.reshape({-1}).to(at::kCPU).to(at::kFloat);
  }

 private:
  Model& model_;
  std::string model_name_;
  std::string device_;
  int64_t context_;
  std::vector<std::string> history_keys_;
  std::deque<TensorMap> observations_;
  std::deque<at::Tensor> actions_;
};

// one row per rollout step of the run, in rollout.md and rollout.csv
void append_table_row(const std::filesystem::path& dir, const std::string& policy,
                      const std::map<std::string, double>& values) {
  std::vector<std::string> columns = {"episodes", "return_mean", "return_std", "length_mean",
                                      "success_rate"};
  if (values.count("final_distance_mean")) columns.insert(columns.end(), {"final_distance_mean", "final_distance_std"});
  auto cell = [&](const std::string& key) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", values.at(key));
    return std::string(text);
  };
  std::string csv_row = policy, md_row = "| " + policy;
  for (const auto& column : columns) csv_row += "," + cell(column), md_row += " | " + cell(column);
  auto md = dir / "rollout.md", csv = dir / "rollout.csv";
  auto read = [](const std::filesystem::path& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::string md_text = read(md), csv_text = read(csv);
  if (md_text.empty()) {
    md_text = "| policy";
    csv_text = "policy";
    for (const auto& column : columns) md_text += " | " + column, csv_text += "," + column;
    md_text += " |\n|---";
    for (size_t i = 0; i < columns.size(); ++i) md_text += "|---:";
    md_text += "|\n";
    csv_text += "\n";
  }
  write_file_atomic(md, md_text + md_row + " |\n");
  write_file_atomic(csv, csv_text + csv_row + "\n");
}

void rollout_run(RunContext& context, const Params& params) {
  Env& env = *context.env;
  EnvSpec spec = env.spec();
  int64_t episodes = params.get<int64_t>("episodes");
  int64_t max_steps = params.get<int64_t>("max_steps");
  if (max_steps == 0) max_steps = spec.max_episode_steps > 0 ? spec.max_episode_steps : 1000;
  std::string policy = params.get<std::string>("policy");
  bool scripted_policy = policy == "expert" || policy == "babble";
  auto* scripted = dynamic_cast<ScriptedPolicy*>(&env);
  if (scripted_policy && !scripted)
    throw Error("rollout: policy '" + policy + "' needs an env with scripted policies (e.g. metaworld); "
                "this env offers only random, zero and model");
  std::optional<ModelPolicy> planner;
  if (policy == "model") planner.emplace(*context.model, context.experiment, params);
  if (planner) context.model->set_training(false);

  std::mt19937_64 rng(static_cast<uint64_t>(context.experiment.seed));
  std::uniform_real_distribution<float> uniform(static_cast<float>(spec.action_low),
                                                static_cast<float>(spec.action_high));
  double return_sum = 0, return_square_sum = 0, length_sum = 0, successes = 0;
  double distance_sum = 0, distance_square_sum = 0;
  bool has_distance = false;
  Progress progress("rollout " + policy, episodes);
  for (int64_t episode = 0; episode < episodes; ++episode) {
    // the same episodes (starts and goals) for every policy of a run
    TensorMap observation = env.reset(static_cast<uint64_t>(context.experiment.seed) * 1000003u + episode);
    if (planner) planner->reset(observation);
    double episode_return = 0, final_distance = 0;
    bool success = false;
    int64_t steps = 0;
    for (; steps < max_steps; ++steps) {
      at::Tensor action = at::zeros({spec.action_size}, at::kFloat);
      if (scripted_policy) action = scripted->act(policy);
      if (planner) action = planner->act(spec.action_size);
      if (policy == "random") {
        float* values = action.data_ptr<float>();
        for (int64_t i = 0; i < spec.action_size; ++i) values[i] = uniform(rng);
      }
      StepResult result = env.step(action);
      if (planner) planner->observe(result.observation, action);
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
  context.metrics_log.append({{"procedure", "rollout"}, {"policy", policy}}, values);
  append_table_row(context.dir, policy, values);
  log().info("rollout {}: {} episodes, return {:.3f} ± {:.3f}, success {:.0f}%{}", policy, episodes,
             mean, values["return_std"], 100.0 * values["success_rate"],
             has_distance ? fmt::format(", final distance {:.4f} ± {:.4f}", values["final_distance_mean"],
                                        values["final_distance_std"])
                          : std::string());
}

}  // namespace

const Procedure rollout_procedure = {"rollout",
                                     "run environment episodes under a fixed policy",
                                     &rollout_schema, &rollout_check, &rollout_run};

}  // namespace wm
