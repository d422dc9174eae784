// Template environment plugin: copy this folder, rename the class and the registered name,
// implement. line_reach: a point on a line must reach a goal; gymnasium semantics.
#include <torch/torch.h>

#include <cmath>
#include <random>

#include "wm/sdk.h"

namespace {

class LineReach : public wm::Env {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .real("speed", 0.1, "distance moved by a full action (1.0)").range(0.001, 1.0)
        .real("tolerance", 0.05, "the goal is reached within this distance").range(0.0, 1.0)
        .integer("max_steps", 50, "steps before the episode is truncated").at_least(1);
  }

  explicit LineReach(const wm::Params& p)
      : speed_(p.get<double>("speed")),
        tolerance_(p.get<double>("tolerance")),
        max_steps_(p.get<int64_t>("max_steps")) {}

  wm::EnvSpec spec() const override {
    wm::EnvSpec spec;
    spec.action_size = 1;
    spec.max_episode_steps = max_steps_;
    spec.observation = {{"state", "float32", "[2]", "position and goal, both in [-1, 1]"}};
    return spec;
  }

  // the same seed gives the same start and goal
  wm::TensorMap reset(uint64_t seed) override {
    std::mt19937_64 random(seed);
    std::uniform_real_distribution<double> place(-1.0, 1.0);
    position_ = place(random), goal_ = place(random), steps_ = 0;
    return observation();
  }

  wm::StepResult step(const at::Tensor& action) override {
    // a bad action throws and leaves the state untouched
    if (action.numel() != 1)
      throw wm::Error("line_reach: an action has 1 value, got " + std::to_string(action.numel()));
    double a = action.to(torch::kFloat64).item<double>();
    if (!std::isfinite(a)) throw wm::Error("line_reach: the action is not finite");
    position_ = std::clamp(position_ + speed_ * std::clamp(a, -1.0, 1.0), -1.0, 1.0);
    ++steps_;
    wm::StepResult result;
    double distance = std::abs(position_ - goal_);
    result.observation = observation();
    result.reward = -distance;
    result.terminated = distance <= tolerance_;
    result.truncated = !result.terminated && steps_ >= max_steps_;
    result.info["success"] = result.terminated ? 1.0 : 0.0;
    return result;
  }

 private:
  wm::TensorMap observation() const {
    return {{"state", torch::tensor({position_, goal_}, torch::kFloat32)}};
  }

  double speed_, tolerance_;
  int64_t max_steps_;
  double position_ = 0, goal_ = 0;
  int64_t steps_ = 0;
};

}  // namespace

// kind, class, registered name (never reuse a name for new behaviour), version, summary
WM_PLUGIN(wm::Env, LineReach, "line_reach", "1.0.0", "Template: move a point on a line to a goal")
