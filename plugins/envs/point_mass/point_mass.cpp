// point_mass: a 2-D point mass pushed by a force toward a goal in the unit square. Small enough to
// test environment procedures without a simulator, real enough to be solved or failed.
#include <torch/torch.h>

#include <cmath>
#include <random>

#include "wm/sdk.h"

namespace {

class PointMass : public wm::Env {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .integer("max_episode_steps", 200, "steps before the episode is truncated").at_least(1)
        .real("dt", 0.05, "integration step in seconds").range(1e-4, 1.0)
        .real("force", 4.0, "force of a full action in newtons (mass is 1 kg)").at_least(0)
        .real("damping", 1.0, "velocity damping per second").at_least(0)
        .real("success_radius", 0.05, "distance to the goal that counts as success").at_least(0);
  }

  explicit PointMass(const wm::Params& params)
      : max_steps_(params.get<int64_t>("max_episode_steps")),
        dt_(params.get<double>("dt")),
        force_(params.get<double>("force")),
        damping_(params.get<double>("damping")),
        success_radius_(params.get<double>("success_radius")) {}

  wm::EnvSpec spec() const override {
    return {2, -1.0, 1.0, max_steps_,
            {{"state", "float32", "[6]", "position (2), velocity (2), goal (2)"}}};
  }

  wm::TensorMap reset(uint64_t seed) override {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> coordinate(-0.9, 0.9);
    position_ = {coordinate(rng), coordinate(rng)};
    goal_ = {coordinate(rng), coordinate(rng)};
    velocity_ = {0, 0};
    steps_ = 0;
    done_ = false;
    started_ = true;
    return observation();
  }

  wm::StepResult step(const at::Tensor& action) override {
    if (!started_) throw wm::Error("point_mass: step() before reset()");
    if (done_) throw wm::Error("point_mass: step() after the episode ended; call reset()");
    if (action.numel() != 2)
      throw wm::Error("point_mass: action must have 2 values, got " + wm::describe_tensor(action));
    auto values = action.to(torch::kFloat64).contiguous();
    const double* raw = values.data_ptr<double>();
    if (!std::isfinite(raw[0]) || !std::isfinite(raw[1]))
      throw wm::Error("point_mass: action is not finite (NaN or infinity); state unchanged");

    // semi-implicit Euler with walls that stop the mass
    for (int axis = 0; axis < 2; ++axis) {
      double push = std::clamp(raw[axis], -1.0, 1.0) * force_;
      velocity_[axis] += (push - damping_ * velocity_[axis]) * dt_;
      position_[axis] += velocity_[axis] * dt_;
      if (std::abs(position_[axis]) > 1.0) {
        position_[axis] = std::copysign(1.0, position_[axis]);
        velocity_[axis] = 0;
      }
    }
    ++steps_;
    double distance = std::hypot(position_[0] - goal_[0], position_[1] - goal_[1]);
    wm::StepResult result;
    result.observation = observation();
    result.reward = -distance;
    result.terminated = distance < success_radius_;
    result.truncated = !result.terminated && steps_ >= max_steps_;
    result.info = {{"success", result.terminated ? 1.0 : 0.0}, {"distance", distance}};
    done_ = result.terminated || result.truncated;
    return result;
  }

 private:
  wm::TensorMap observation() const {
    auto state = torch::tensor({position_[0], position_[1], velocity_[0], velocity_[1], goal_[0],
                                goal_[1]},
                               torch::kFloat32);
    return {{"state", state}};
  }

  int64_t max_steps_;
  double dt_, force_, damping_, success_radius_;
  std::array<double, 2> position_{}, velocity_{}, goal_{};
  int64_t steps_ = 0;
  bool done_ = false, started_ = false;
};

}  // namespace

WM_PLUGIN(wm::Env, PointMass, "point_mass", "1.0.0",
          "2-D point mass pushed toward a random goal (state observations)")
