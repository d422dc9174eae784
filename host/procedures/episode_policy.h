// The action source shared by the rollout and collect procedures: uniform random actions, the
// zero action, the env's own scripted `expert` / `babble` (wm::ScriptedPolicy), or the model
// (`model`: model-predictive control, see EpisodePolicy::act).
#pragma once
#include <ATen/core/Tensor.h>

#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../procedure.h"

namespace wm {

class ScriptedPolicy;

// adds `policy` (default `default_policy`), `context` and `history_keys` to a procedure's schema
Schema& add_policy_params(Schema& schema, const std::string& default_policy);
// `policy: model` needs a `model:` section, `env: NAME` an entry under `envs:`; called from the
// procedure's check
void check_policy_params(const Experiment& experiment, const ProcedureSpec& step);

// the env a step names with `env:` ("": the `env:` section, or the only entry under `envs:`)
Env& episode_env(RunContext& context, const Params& params);

// the reset seed of episode `episode` (0, 1, ...) of a step: seed * 1000003 + first_episode +
// episode. rollout and collect share it, so with the same first_episode they start from the same
// states; give demos and evaluation different first_episode values to keep them apart.
uint64_t episode_seed(const RunContext& context, const Params& params, int64_t episode);

class EpisodePolicy {
 public:
  // `procedure` names the caller in errors; an env without scripted policies refuses expert/babble
  EpisodePolicy(const std::string& procedure, RunContext& context, const Params& params);

  const std::string& name() const { return name_; }
  // a new episode starts at `observation`
  void reset(const TensorMap& observation);
  // the next action [A], float, on the CPU
  at::Tensor act();
  // the env answered `action` with `observation`
  void observe(const TensorMap& observation, const at::Tensor& action);

 private:
  at::Tensor ask_model();

  std::string procedure_, name_;
  Env& env_;
  EnvSpec spec_;
  ScriptedPolicy* scripted_ = nullptr;
  std::mt19937_64 rng_;
  // policy model: the model sees the last `context_` observations, the `history_keys_` of them
  // stacked over time like a clip, and the actions executed between them
  Model* model_ = nullptr;
  Policy* policy_ = nullptr;  // the same model, as a policy
  std::string model_name_, device_;
  int64_t context_ = 0;
  std::vector<std::string> history_keys_;
  std::deque<TensorMap> observations_;
  std::deque<at::Tensor> actions_;
};

}  // namespace wm
