// rollout: run episodes in the environment under a simple policy and report returns and success.
#include <ATen/ATen.h>

#include <cmath>
#include <random>

#include "../procedure.h"
#include "wm/log.h"
#include "wm/progress.h"
#include "wm/scripted_policy.h"

namespace wm {
namespace {

Schema rollout_schema() {
  return Schema{}
      .integer("episodes", 10, "episodes to run").at_least(1)
      .choice("policy", "random", {"random", "zero", "expert", "babble"},
              "random: uniform in the action range; zero: always the zero action; expert, babble: "
              "the env's own scripted policies (wm::ScriptedPolicy, e.g. metaworld)")
      .integer("max_steps", 0, "cut episodes at this length (0: the env's own limit)").at_least(0);
}

void rollout_check(const Experiment& experiment, const ProcedureSpec& step) {
  if (!experiment.env) throw ConfigError(step.loc, step.key_path, "needs an `env:` section");
}

void rollout_run(RunContext& context, const Params& params) {
  Env& env = *context.env;
  EnvSpec spec = env.spec();
  int64_t episodes = params.get<int64_t>("episodes");
  int64_t max_steps = params.get<int64_t>("max_steps");
  if (max_steps == 0) max_steps = spec.max_episode_steps > 0 ? spec.max_episode_steps : 1000;
  std::string policy = params.get<std::string>("policy");
  bool random_policy = policy == "random";
  bool scripted_policy = policy == "expert" || policy == "babble";
  auto* scripted = dynamic_cast<ScriptedPolicy*>(&env);
  if (scripted_policy && !scripted)
    throw Error("rollout: policy '" + policy + "' needs an env with scripted policies (e.g. metaworld); "
                "this env offers only random and zero");

  std::mt19937_64 rng(static_cast<uint64_t>(context.experiment.seed));
  std::uniform_real_distribution<float> uniform(static_cast<float>(spec.action_low),
                                                static_cast<float>(spec.action_high));
  double return_sum = 0, return_square_sum = 0, length_sum = 0, successes = 0;
  Progress progress("rollout", episodes);
  for (int64_t episode = 0; episode < episodes; ++episode) {
    env.reset(static_cast<uint64_t>(context.experiment.seed) * 1000003u + episode);
    double episode_return = 0;
    bool success = false;
    int64_t steps = 0;
    for (; steps < max_steps; ++steps) {
      at::Tensor action =
          scripted_policy ? scripted->act(policy) : at::zeros({spec.action_size}, at::kFloat);
      if (random_policy) {
        float* values = action.data_ptr<float>();
        for (int64_t i = 0; i < spec.action_size; ++i) values[i] = uniform(rng);
      }
      StepResult result = env.step(action);
      episode_return += result.reward;
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
    progress.advance();
  }
  double mean = return_sum / episodes;
  std::map<std::string, double> values = {
      {"episodes", static_cast<double>(episodes)},
      {"return_mean", mean},
      {"return_std", std::sqrt(std::max(0.0, return_square_sum / episodes - mean * mean))},
      {"length_mean", length_sum / episodes},
      {"success_rate", successes / episodes}};
  context.metrics_log.append({{"procedure", "rollout"}, {"policy", params.get<std::string>("policy")}},
                             values);
  log().info("rollout: {} episodes, return {:.3f} ± {:.3f}, success {:.0f}%", episodes, mean,
             values["return_std"], 100.0 * values["success_rate"]);
}

}  // namespace

const Procedure rollout_procedure = {"rollout",
                                     "run environment episodes under a fixed policy",
                                     &rollout_schema, &rollout_check, &rollout_run};

}  // namespace wm
