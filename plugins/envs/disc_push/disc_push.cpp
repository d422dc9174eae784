// disc_push: push the agent disc of the synthetic dataset's world (wm/sim/disc_world.h) to a goal
// shown as an image. The goal is where a random steady push from the start leads in `goal_steps`
// steps, so it is reachable; the observation carries the current frame, the state and the goal
// frame, the reward is minus the agent's distance to its goal position.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "wm/sdk.h"
#include "wm/sim/disc_world.h"

namespace {

class DiscPush : public wm::Env {
 public:
  static wm::Schema schema() {
    wm::Schema schema;
    schema.integer("size", 32, "frame height and width in pixels").range(8, 1024);
    return wm::sim::add_disc_world_params(schema, 1)
        .integer("goal_steps", 10, "steps of a random steady push that lead from the start to the goal")
        .at_least(1)
        .integer("max_episode_steps", 20, "steps before the episode is truncated").at_least(1)
        .real("success_radius", 0.05, "agent-to-goal distance that counts as success").at_least(0);
  }

  explicit DiscPush(const wm::Params& p)
      : size_(p.get<int64_t>("size")),
        goal_steps_(p.get<int64_t>("goal_steps")),
        max_steps_(p.get<int64_t>("max_episode_steps")),
        success_radius_(p.get<double>("success_radius")),
        world_(wm::sim::disc_world_options(p)) {}

  wm::EnvSpec spec() const override {
    std::string frame = "[3, " + std::to_string(size_) + ", " + std::to_string(size_) + "]";
    return {2, -1.0, 1.0, max_steps_,
            {{"video", "uint8", frame, "the current frame"},
             {"state", "float32", "[4*objects]", "x, y, vx, vy of every disc"},
             {"goal", "uint8", frame, "the frame to reach"}}};
  }

  wm::TensorMap reset(uint64_t seed) override {
    std::mt19937_64 rng(seed);
    world_.place(rng);
    auto start = world_.discs();
    // the goal: a steady push in a random direction, then back to the start
    double angle = std::uniform_real_distribution<double>(0.0, 2 * M_PI)(rng);
    for (int64_t t = 0; t < goal_steps_; ++t) world_.step({std::cos(angle), std::sin(angle)});
    goal_ = torch::empty({3, size_, size_}, torch::kUInt8);
    world_.render(goal_);
    goal_position_ = {world_.discs()[0].x, world_.discs()[0].y};
    world_.discs() = start;
    steps_ = 0;
    started_ = true;
    return observation();
  }

  wm::StepResult step(const at::Tensor& action) override {
    if (!started_) throw wm::Error("disc_push: step() before reset()");
    if (steps_ >= max_steps_) throw wm::Error("disc_push: step() after the episode ended; call reset()");
    if (action.numel() != 2)
      throw wm::Error("disc_push: action must have 2 values, got " + wm::describe_tensor(action));
    auto values = action.to(torch::kFloat64).contiguous();
    const double* raw = values.data_ptr<double>();
    if (!std::isfinite(raw[0]) || !std::isfinite(raw[1]))
      throw wm::Error("disc_push: action is not finite (NaN or infinity); state unchanged");
    world_.step({std::clamp(raw[0], -1.0, 1.0), std::clamp(raw[1], -1.0, 1.0)});
    ++steps_;
    const auto& agent = world_.discs()[0];
    double distance = std::hypot(agent.x - goal_position_[0], agent.y - goal_position_[1]);
    wm::StepResult result;
    result.observation = observation();
    result.reward = -distance;
    result.truncated = steps_ >= max_steps_;
    result.info = {{"distance", distance}, {"success", distance < success_radius_ ? 1.0 : 0.0}};
    return result;
  }

 private:
  wm::TensorMap observation() const {
    auto frame = torch::empty({3, size_, size_}, torch::kUInt8);
    world_.render(frame);
    return {{"video", frame}, {"state", world_.state()}, {"goal", goal_}};
  }

  int64_t size_, goal_steps_, max_steps_;
  double success_radius_;
  wm::sim::DiscWorld world_;
  at::Tensor goal_;
  std::array<double, 2> goal_position_{};
  int64_t steps_ = 0;
  bool started_ = false;
};

}  // namespace

WM_PLUGIN(wm::Env, DiscPush, "disc_push", "1.0.0",
          "Push the synthetic dataset's agent disc to a goal shown as an image")
