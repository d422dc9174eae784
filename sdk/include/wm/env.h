// Env: gymnasium semantics. reset(seed) -> observation; step(action) -> observation, reward,
// terminated, truncated, info.
#pragma once
#include <cstdint>
#include <map>
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

}  // namespace wm
