// Env: gymnasium semantics. reset(seed) -> observation; step(action) -> observation, reward,
// terminated, truncated, info.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "wm/component.h"
#include "wm/sample.h"

namespace wm {

struct EnvSpec {
  int64_t action_size = 0;
  double action_low = -1.0, action_high = 1.0;  // actions outside are clipped
  int64_t max_episode_steps = 0;                 // truncation horizon
  std::vector<KeySpec> observation;              // e.g. {"state", "float32", "[S]"}
};

struct StepResult {
  TensorMap observation;
  double reward = 0.0;
  bool terminated = false;  // the task ended (success or failure)
  bool truncated = false;   // the time limit ended the episode
  std::map<std::string, double> info;  // e.g. {"success", 1.0}
};

class Env : public Component {
 public:
  static constexpr Kind kind = Kind::Env;
  ~Env() override;

  virtual EnvSpec spec() const = 0;
  virtual TensorMap reset(uint64_t seed) = 0;
  // a bad action (wrong size, NaN) throws and leaves the state untouched
  virtual StepResult step(const at::Tensor& action) = 0;
};

//---- optional capability: choosing babbling primitives ----

// Picks the next short controller (e.g. "grasp", "push") for babbling. The default is uniform;
// a competence-driven chooser learns from outcome().
class PrimitiveChooser {
 public:
  virtual ~PrimitiveChooser();
  virtual size_t choose(const std::vector<std::string>& primitives, const TensorMap& observation) = 0;
  // a primitive ended; competence in [0, 1] (e.g. the share of its steps with contact)
  virtual void outcome(size_t primitive, double competence) {}
};

//---- optional capability: policies the environment knows ----

// An env that can act in itself (scripted experts, babbling) also derives ScriptedPolicy;
// procedures (collect, rollout) find it with dynamic_cast<wm::ScriptedPolicy*>(&env).
class ScriptedPolicy {
 public:
  virtual ~ScriptedPolicy();
  virtual std::vector<std::string> policies() const = 0;  // e.g. {"expert", "babble"}
  // the action `policy` takes in the current state (after reset() or step())
  virtual at::Tensor act(const std::string& policy) = 0;
  // used by babbling from the next primitive on; nullptr restores uniform choice
  virtual void set_chooser(std::shared_ptr<PrimitiveChooser> chooser) = 0;
};

//---- optional capability: the task's reward from states alone ----

// An env whose reward is a function of the observation's `state` vector (positions, not contacts
// or simulator internals) also derives StateReward, so a model can plan on states it predicts
// (e.g. nsca's CEM planner); found with dynamic_cast<const wm::StateReward*>(&env).
class StateReward {
 public:
  virtual ~StateReward();
  // width of the `state` vector the reward reads
  virtual int64_t state_size() const = 0;
  // the reward of reaching each state: [..., S] float -> [...] float, same device; the task (and
  // its goal, when the goal is part of the state) is the one of the last reset()
  virtual at::Tensor reward_from_state(const at::Tensor& state) const = 0;
};

}  // namespace wm
