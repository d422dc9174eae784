#include "episode_policy.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "wm/env.h"

namespace wm {

Schema& add_policy_params(Schema& schema, const std::string& default_policy) {
  return schema
      .choice("policy", default_policy, {"random", "zero", "expert", "babble", "model"},
              "random: uniform in the action range; zero: always the zero action; expert, babble: "
              "the env's own scripted policies (wm::ScriptedPolicy, e.g. metaworld); model: the "
              "model's `action` output for the recent observations (MPC)")
      .integer("context", 2, "policy model: observations (frames) the model sees").at_least(1)
      .strings("history_keys", {"video", "state"},
               "policy model: observation keys stacked over time")
      .text("env", "", "the env: a name under `envs:` (empty: the `env:` section, or the only "
                       "entry under `envs:`)")
      .integer("first_episode", 0,
               "episode i resets with seed * 1000003 + first_episode + i; rollout and collect "
               "with equal values start from the same states").at_least(0);
}

namespace {

// the key under `envs:` a step's `env:` stands for ("" for the `env:` section)
std::string env_key(const Experiment& experiment, const Params& params) {
  std::string name = params.get<std::string>("env");
  std::vector<std::string> names;
  for (const auto& [key, spec] : experiment.envs) names.push_back(key);
  if (name.empty()) {
    if (experiment.env || experiment.envs.empty()) return "";
    if (names.size() == 1) return names.front();
    throw params.error("env", "there is no `env:` section; name one of `envs:`: " + join(names));
  }
  if (!experiment.envs.count(name))
    throw params.error("env", "no env '" + name + "' under `envs:`" + did_you_mean(name, names) +
                                  (names.empty() ? std::string(" (there is no `envs:` section)")
                                                 : " (envs: " + join(names) + ")"));
  return name;
}

}  // namespace

void check_policy_params(const Experiment& experiment, const ProcedureSpec& step) {
  if (step.params.get<std::string>("policy") == "model" && !experiment.model)
    throw step.params.error("policy", "`model` needs a `model:` section");
  env_key(experiment, step.params);
}

Env& episode_env(RunContext& context, const Params& params) {
  return context.env(env_key(context.experiment, params));
}

uint64_t episode_seed(const RunContext& context, const Params& params, int64_t episode) {
  return static_cast<uint64_t>(context.experiment.seed) * 1000003u +
         static_cast<uint64_t>(params.get<int64_t>("first_episode") + episode);
}

EpisodePolicy::EpisodePolicy(const std::string& procedure, RunContext& context, const Params& params)
    : procedure_(procedure),
      name_(params.get<std::string>("policy")),
      env_(episode_env(context, params)),
      spec_(env_.spec()),
      rng_(static_cast<uint64_t>(context.experiment.seed)) {
  if (name_ == "expert" || name_ == "babble") {
    scripted_ = dynamic_cast<ScriptedPolicy*>(&env_);
    if (!scripted_)
      throw Error(procedure_ + ": policy '" + name_ + "' needs an env with scripted policies (e.g. "
                  "metaworld); this env offers random, zero and model");
  }
  if (name_ == "model") {
    model_name_ = context.experiment.model->plugin->name();
    policy_ = dynamic_cast<Policy*>(&context.model());
    if (!policy_)
      throw Error(procedure_ + ": policy `model` needs a model that acts (a wm::Policy, such as "
                  "vjepa_ac); model '" + model_name_ + "' does not (it is not a policy)");
    model_ = &context.model();
    device_ = context.experiment.device;
    context_ = params.get<int64_t>("context");
    history_keys_ = params.get<StringList>("history_keys");
    model_->set_training(false);
    policy_->attach(env_);
  }
}

void EpisodePolicy::reset(const TensorMap& observation) {
  observations_.clear(), actions_.clear();
  if (model_) observations_.push_back(observation);
}

void EpisodePolicy::observe(const TensorMap& observation, const at::Tensor& action) {
  if (!model_) return;
  observations_.push_back(observation);
  actions_.push_back(action);
  while (static_cast<int64_t>(observations_.size()) > context_) observations_.pop_front();
  while (actions_.size() + 1 > observations_.size()) actions_.pop_front();
}

at::Tensor EpisodePolicy::act() {
  if (scripted_) return scripted_->act(name_);
  if (model_) return ask_model();
  at::Tensor action = at::zeros({spec_.action_size}, at::kFloat);
  if (name_ == "random") {
    std::uniform_real_distribution<float> uniform(static_cast<float>(spec_.action_low),
                                                  static_cast<float>(spec_.action_high));
    float* values = action.data_ptr<float>();
    for (int64_t i = 0; i < spec_.action_size; ++i) values[i] = uniform(rng_);
  }
  return action;
}

// a batch of one: the last observations (history keys stacked over time, e.g. video [1, C, ...],
// state [1, C, S]), the C-1 actions between them, the other keys (e.g. `goal`) as they are;
// Policy::act() returns `action` [1, A]
at::Tensor EpisodePolicy::ask_model() {
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
  sample.tensors["actions"] =
      actions_.empty() ? at::zeros({0, spec_.action_size}, at::kFloat)
                       : at::stack(std::vector<at::Tensor>(actions_.begin(), actions_.end()));
  Batch batch = collate({sample});
  move_to(batch, device_);
  TensorMap out = policy_->act(batch);
  auto found = out.find("action");
  if (found == out.end())
    throw Error(procedure_ + ": model '" + model_name_ + "' acted without an `action` output");
  return found->second.reshape({-1}).to(at::kCPU).to(at::kFloat);
}

}  // namespace wm
