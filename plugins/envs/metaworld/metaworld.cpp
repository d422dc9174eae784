// metaworld: Meta-World-style table-top manipulation in MuJoCo (Yu et al. 2019; facts from
// Farama-Foundation/Metaworld v2/v3, scenes and code of our own). A mocap-driven two-finger hand,
// 4-D actions, the 39-D observation, shaped rewards and success per task, optional pixels, and
// the tasks' scripted experts and babbling as wm::ScriptedPolicy, the reward from states as
// wm::StateReward, and an optional buoyancy on free objects.
#include <torch/torch.h>

#include <cmath>
#include <memory>
#include <random>

#include "babbling.h"
#include "expert.h"
#include "offscreen_renderer.h"
#include "simulation.h"
#include "state_reward.h"
#include "wm/env.h"
#include "wm/sdk.h"

namespace {

using namespace wm::metaworld;

const std::vector<std::string> kCameras = {"none",    "topview",        "corner",     "corner2",
                                           "corner3", "behind_gripper", "gripper_pov"};

class MetaWorld : public wm::Env, public wm::ScriptedPolicy, public wm::StateReward {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .choice("task", "reach", task_names(), "the task: the first 10 are MT10, then the ML10 additions (README)")
        .integer("max_episode_steps", 500, "steps before `truncated` (Meta-World v2/v3: 500)").at_least(1)
        .boolean("partially_observable", false, "zero the goal slots 36-38 of `state` (ML benchmarks)")
        .boolean("terminate_on_success", false, "end the episode (terminated) at the first success")
        .choice("camera", "none", kCameras, "render `pixels` uint8 [3, H, W] from this camera; none: state only")
        .integer("width", 64, "image width in pixels").range(1, 2048)
        .integer("height", 64, "image height in pixels").range(1, 2048)
        .choice("gl", "auto", gl_backends(),
                "pixels' GL: auto (EGL on a GPU, else OSMesa), egl (also Mesa's software device) or osmesa")
        .integer("egl_device", -1, "EGL device index, e.g. one GPU per env; -1: the first GPU").at_least(-1)
        .choice("spawn", "task", {"task", "drop", "strike", "push"},
                "reset: the task's start; babbling starts: drop (object held), strike (hand a few cm "
                "away), push (hand touching it)")
        .real("buoyancy", 0.0,
              "upward force on a free object, in units of its weight (mass * 9.81), every physics substep "
              "of step(): 0 none, 1 floats, 2 rises with net acceleration g (the balloon world)")
            .range(-10.0, 10.0);
  }

  explicit MetaWorld(const wm::Params& params)
      : sim_(find_task(params.get<std::string>("task")),
             static_cast<int>(params.get<int64_t>("width")), static_cast<int>(params.get<int64_t>("height"))),
        max_steps_(params.get<int64_t>("max_episode_steps")),
        partially_observable_(params.get<bool>("partially_observable")),
        terminate_on_success_(params.get<bool>("terminate_on_success")),
        spawn_(parse_spawn(params.get<std::string>("spawn"))) {
    sim_.set_buoyancy(params.get<double>("buoyancy"));
    std::string camera = params.get<std::string>("camera");
    if (camera != "none") {
      renderer_ = std::make_unique<OffscreenRenderer>(sim_.model(), camera,
                                                      static_cast<int>(params.get<int64_t>("width")),
                                                      static_cast<int>(params.get<int64_t>("height")),
                                                      params.get<std::string>("gl"),
                                                      static_cast<int>(params.get<int64_t>("egl_device")));
    }
  }

  wm::EnvSpec spec() const override {
    wm::EnvSpec spec{4, -1.0, 1.0, max_steps_, {}};
    spec.observation.push_back({"state", "float32", "[39]",
                                "hand xyz, gripper opening, object 1 pos+quat (wxyz), object 2 "
                                "pos+quat, the previous step's 18, goal xyz"});
    if (renderer_) spec.observation.push_back({"pixels", "uint8", "[3, H, W]", "RGB camera image"});
    return spec;
  }

  wm::TensorMap reset(uint64_t seed) override {
    sim_.reset(seed, spawn_);
    reward_episode_ = reward_episode(sim_, !partially_observable_);
    babbler_.reset(seed, sim_.free_object());
    random_.seed(seed + 0x51ed27);
    steps_ = 0;
    done_ = false;
    started_ = true;
    return observation();
  }

  wm::StepResult step(const at::Tensor& action) override {
    if (!started_) throw wm::Error("metaworld: step() before reset()");
    if (done_) throw wm::Error("metaworld: step() after the episode ended; call reset()");
    if (action.numel() != 4)
      throw wm::Error("metaworld: action must have 4 values (dx, dy, dz, grip), got " +
                      wm::describe_tensor(action));
    auto values = action.to(torch::kFloat64).contiguous();
    const double* raw = values.data_ptr<double>();
    Action clipped;
    for (int i = 0; i < 4; ++i) {
      if (!std::isfinite(raw[i]))
        throw wm::Error("metaworld: action is not finite (NaN or infinity) at index " + std::to_string(i) +
                        "; state unchanged");
      clipped[i] = raw[i];
    }
    StepInfo info = sim_.step(clipped);
    ++steps_;
    unstable_steps_ += info.unstable ? 1 : 0;
    wm::StepResult result;
    result.observation = observation();
    result.reward = info.reward;
    result.terminated = terminate_on_success_ && info.success;
    result.truncated = !result.terminated && steps_ >= max_steps_;
    result.info = {{"success", info.success ? 1.0 : 0.0},
                   {"near_object", info.near_object},
                   {"grasp_success", info.grasped ? 1.0 : 0.0},
                   {"in_place_reward", info.in_place},
                   {"obj_to_target", info.metric},
                   {"contact", info.contact ? 1.0 : 0.0},
                   {"unstable", info.unstable ? 1.0 : 0.0},
                   {"unstable_steps", static_cast<double>(unstable_steps_)}};
    done_ = result.terminated || result.truncated;
    return result;
  }

  //---- wm::ScriptedPolicy ----

  std::vector<std::string> policies() const override { return {"expert", "babble", "random"}; }

  at::Tensor act(const std::string& policy) override {
    if (!started_) throw wm::Error("metaworld: act() before reset()");
    Action action{};
    if (policy == "expert") {
      action = expert_action(sim_.task(), sim_.observation());
    } else if (policy == "babble") {
      action = babbler_.act(
          sim_.observation(), sim_.last().contact,
          [&] {
            if (!chooser_) return std::uniform_int_distribution<size_t>(0, Babbler::primitives().size() - 1)(random_);
            return chooser_->choose(Babbler::primitives(), observation());
          },
          [&](size_t primitive, double competence) {
            if (chooser_) chooser_->outcome(primitive, competence);
          });
    } else if (policy == "random") {
      std::uniform_real_distribution<double> uniform(-1.0, 1.0);
      for (double& value : action) value = uniform(random_);
    } else {
      throw wm::Error("metaworld: unknown policy '" + policy + "' (expert, babble, random)");
    }
    return torch::tensor(std::vector<float>(action.begin(), action.end()));
  }

  void set_chooser(std::shared_ptr<wm::PrimitiveChooser> chooser) override { chooser_ = std::move(chooser); }

  //---- wm::StateReward ----

  int64_t state_size() const override { return kObservationSize; }

  at::Tensor reward_from_state(const at::Tensor& state) const override {
    if (!started_) throw wm::Error("metaworld: reward_from_state() before reset()");
    return reward_from_states(sim_.task(), reward_episode_, state);
  }

 private:
  wm::TensorMap observation() {
    const Observation& obs = sim_.observation();
    auto state = torch::empty({kObservationSize}, torch::kFloat32);
    float* out = state.data_ptr<float>();
    for (int i = 0; i < kObservationSize; ++i) out[i] = static_cast<float>(obs[i]);
    if (partially_observable_) out[36] = out[37] = out[38] = 0;
    wm::TensorMap map{{"state", state}};
    if (renderer_) {
      auto pixels = torch::empty({3, renderer_->height(), renderer_->width()}, torch::kUInt8);
      renderer_->render(sim_.data(), pixels.data_ptr<uint8_t>());
      map["pixels"] = pixels;
    }
    return map;
  }

  Simulation sim_;
  std::unique_ptr<OffscreenRenderer> renderer_;
  int64_t max_steps_;
  bool partially_observable_, terminate_on_success_;
  Spawn spawn_;
  RewardEpisode reward_episode_;
  Babbler babbler_;
  std::mt19937_64 random_;
  std::shared_ptr<wm::PrimitiveChooser> chooser_;
  int64_t steps_ = 0, unstable_steps_ = 0;
  bool done_ = false, started_ = false;
};

}  // namespace

WM_PLUGIN(wm::Env, MetaWorld, "metaworld", "1.0.0",
          "Meta-World-style MuJoCo table-top manipulation: MT10 + ML10 tasks, experts, babbling, pixels")
