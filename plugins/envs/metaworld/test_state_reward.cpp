// wm::StateReward of metaworld against the env's own step reward on real rollouts, and the
// buoyancy parameter (the balloon world of seed protocol P7).
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>

#include "test_support.h"
#include "wm/env.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kAllTasks = {
    "reach",  "push",       "pick-place", "door-open",   "drawer-open", "drawer-close",
    "button-press-topdown", "peg-insert-side", "window-open", "window-close", "sweep",
    "basketball", "door-close", "shelf-place", "sweep-into", "lever-pull"};

std::shared_ptr<Env> make_env(const std::string& task, const std::string& extra = "") {
  return test::make<Env>("metaworld", "{task: " + task + (extra.empty() ? "" : ", " + extra) + "}");
}

const StateReward& state_reward_of(const Env& env) {
  auto* reward = dynamic_cast<const StateReward*>(&env);
  if (!reward) throw std::runtime_error("metaworld does not expose wm::StateReward");
  return *reward;
}

// one episode's states after each step, the env's rewards, and reward_from_state of those states
struct Rollout {
  at::Tensor states, env_rewards, state_rewards;
};

Rollout roll(Env& env, const std::string& policy, uint64_t seed, int steps) {
  env.reset(seed);
  auto& scripted = dynamic_cast<ScriptedPolicy&>(env);
  std::vector<at::Tensor> states;
  std::vector<double> rewards;
  for (int t = 0; t < steps; ++t) {
    StepResult result = env.step(scripted.act(policy));
    if (result.info.at("unstable") > 0.5) continue;  // a restored blow-up pays 0 by rule
    states.push_back(result.observation.at("state"));
    rewards.push_back(result.reward);
    if (result.truncated || result.terminated) break;
  }
  Rollout rollout;
  rollout.states = torch::stack(states);
  rollout.env_rewards = torch::tensor(rewards, torch::kFloat64);
  rollout.state_rewards = state_reward_of(env).reward_from_state(rollout.states).to(torch::kFloat64);
  return rollout;
}

//---- reward from states ----

TEST(MetaWorldStateReward, TakesBatchesOfAnyShape) {
  auto env = make_env("pick-place");
  const StateReward& reward = state_reward_of(*env);
  EXPECT_EQ(reward.state_size(), 39);
  EXPECT_THAT(test::error_of([&] { reward.reward_from_state(torch::zeros({39})); }), HasSubstr("before reset"));
  env->reset(3);
  Rollout rollout = roll(*env, "expert", 3, 120);
  // the planner's shape: [samples, horizon, S]; every cell equals the single-state answer
  auto batch = rollout.states.slice(0, 0, 100).reshape({10, 10, 39});
  auto big = reward.reward_from_state(batch.repeat({26, 1, 1}).slice(0, 0, 256));
  ASSERT_EQ(big.sizes(), (std::vector<int64_t>{256, 10}));
  EXPECT_EQ(big.scalar_type(), torch::kFloat32);
  for (int i = 0; i < 100; i += 7)
    EXPECT_EQ(big[i / 10][i % 10].item<float>(), reward.reward_from_state(rollout.states[i]).item<float>());
  EXPECT_EQ(reward.reward_from_state(rollout.states.to(torch::kFloat64)).scalar_type(), torch::kFloat64);
  EXPECT_THAT(test::error_of([&] { reward.reward_from_state(torch::zeros({4, 38})); }), HasSubstr("[..., 39]"));
  EXPECT_THAT(test::error_of([&] { reward.reward_from_state(torch::zeros({39}, torch::kInt64)); }),
              HasSubstr("float"));
}

// with the goal slots zeroed, the goal of the last reset() stands in: the same rewards
TEST(MetaWorldStateReward, PartiallyObservableUsesTheResetGoal) {
  auto full = make_env("push"), hidden = make_env("push", "partially_observable: true");
  Rollout seen = roll(*full, "expert", 4, 80), unseen = roll(*hidden, "expert", 4, 80);
  EXPECT_TRUE(torch::equal(unseen.states.select(1, 36), torch::zeros({unseen.states.size(0)})));
  EXPECT_TRUE(torch::allclose(seen.state_rewards, unseen.state_rewards, 0, 1e-6));
  EXPECT_GT(seen.state_rewards.max().item<double>(), 9.99) << "the expert reaches the goal";
}

// The env's reward reads two things the state lacks: the fingertip centre between the finger
// pads (the state has the hand body; a tilted hand or unequal fingers move the pads) and a
// two-finger contact (the state has the opening). Every other term is the same function of the
// same slots. Measured per task over expert, random and babble rollouts (README: "Reward from
// states"); the bounds below sit just above those measurements.
struct Agreement {
  double exact = 0;   // share of steps within 1e-4 (float32 slots)
  double close = 0;   // share within 0.5 (of 0..10)
  double mean = 0;    // mean |difference|
};

Agreement agreement(const std::string& task, const std::string& policy) {
  auto env = make_env(task, policy == "babble" ? "spawn: drop" : "");
  std::vector<at::Tensor> differences;
  for (uint64_t seed = 0; seed < 2; ++seed) {
    Rollout rollout = roll(*env, policy, 700 + seed, 200);
    differences.push_back((rollout.state_rewards - rollout.env_rewards).abs());
  }
  auto all = torch::cat(differences);
  return {(all <= 1e-4).to(torch::kFloat64).mean().item<double>(),
          (all <= 0.5).to(torch::kFloat64).mean().item<double>(), all.mean().item<double>()};
}

TEST(MetaWorldStateReward, AgreesWithTheStepReward) {
  std::printf("[ measured ] %-22s %-7s %8s %8s %8s\n", "task", "policy", "<=1e-4", "<=0.5", "mean");
  for (const auto& task : kAllTasks) {
    for (const std::string policy : {"expert", "random", "babble"}) {
      Agreement a = agreement(task, policy);
      std::printf("[ measured ] %-22s %-7s %8.3f %8.3f %8.4f\n", task.c_str(), policy.c_str(), a.exact, a.close,
                  a.mean);
      // random actions hardly grasp: only the fingertip estimate differs (measured: every step
      // within 0.5, mean <= 0.0011)
      if (policy == "random") {
        EXPECT_EQ(a.close, 1.0) << task;
        EXPECT_LE(a.mean, 0.002) << task;
      }
      // the expert grasps: a missed or phantom grasp costs 3 (measured: >= 0.877 within 0.5,
      // lever-pull; mean <= 0.37)
      if (policy == "expert") {
        EXPECT_GE(a.close, 0.85) << task;
        EXPECT_LE(a.mean, 0.4) << task;
      }
      // babbling half-closes the hand around handles often (measured: >= 0.797, mean <= 0.52)
      if (policy == "babble") {
        EXPECT_GE(a.close, 0.77) << task;
        EXPECT_LE(a.mean, 0.55) << task;
      }
    }
  }
  // reach pays for the fingertips alone: with the hand upright (the expert's smooth path) the
  // state's estimate is the env's to float32 rounding (measured 91 % of steps within 1e-4)
  Agreement reach = agreement("reach", "expert");
  EXPECT_GE(reach.exact, 0.88);
  EXPECT_LE(reach.mean, 1e-3);
  // a carried ball never touches anything but the fingers (measured: every step within 1e-4)
  EXPECT_GE(agreement("basketball", "expert").exact, 0.99);
}

//---- buoyancy ----

// the object's height (slot 6) after `steps` of opening the hand and moving it away in +x
std::pair<double, double> released_height(const std::string& task, double buoyancy, const std::string& spawn,
                                          int steps = 40) {
  auto env = make_env(task, "spawn: " + spawn + ", buoyancy: " + std::to_string(buoyancy));
  double start = env->reset(3).at("state")[6].item<double>();
  at::Tensor state;
  for (int t = 0; t < steps; ++t) state = env->step(torch::tensor({1.f, 0.f, 0.f, -1.f})).observation.at("state");
  return {start, state[6].item<double>()};
}

// P7 acceptance 1: a released object rises under buoyancy 2 and comes to rest on the table under 0
TEST(MetaWorldBuoyancy, AReleasedObjectRisesOrRestsOnTheTable) {
  for (const std::string task : {"pick-place", "basketball", "peg-insert-side"}) {
    auto [held, balloon] = released_height(task, 2.0, "drop");
    EXPECT_GE(balloon - held, 0.05) << task << ": released at " << held << ", at " << balloon << " 40 steps later";
    auto [resting, table] = released_height(task, 0.0, "task");
    auto [dropped, fallen] = released_height(task, 0.0, "drop");
    EXPECT_GT(dropped - resting, 0.15) << task << ": drop starts in the air";
    EXPECT_NEAR(fallen, resting, 1e-3) << task << ": the dropped object lies on the table";
    EXPECT_NEAR(table, resting, 1e-4) << task << ": an object on the table stays there";
  }
}

// from rest on the table, buoyancy 2 is a net upward g: 0.5 g t^2 = 1.226 m after 0.5 s
TEST(MetaWorldBuoyancy, TwoWeightsRiseWithNetAccelerationG) {
  auto [start, end] = released_height("pick-place", 2.0, "task");
  EXPECT_NEAR(end - start, 0.5 * 9.81 * 0.25, 0.03);
  auto [floating_start, floating_end] = released_height("pick-place", 1.0, "task");
  EXPECT_NEAR(floating_end, floating_start, 2e-3) << "buoyancy 1 cancels the weight";
}

// jointed objects (drawers, doors, levers) are not free: buoyancy leaves them alone
TEST(MetaWorldBuoyancy, JointedObjectsAreUnaffected) {
  auto plain = make_env("drawer-open"), buoyant = make_env("drawer-open", "buoyancy: 2");
  plain->reset(5), buoyant->reset(5);
  for (int t = 0; t < 60; ++t) {
    auto action = dynamic_cast<ScriptedPolicy&>(*plain).act("expert");
    ASSERT_TRUE(torch::equal(plain->step(action).observation.at("state"),
                             buoyant->step(action).observation.at("state"))) << "step " << t;
  }
  EXPECT_THAT(test::error_of([] { make_env("reach", "buoyancy: 11"); }), HasSubstr("buoyancy"));
}

}  // namespace
}  // namespace wm
