#include <torch/torch.h>

#include "test_support.h"
#include "wm/env.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

TEST(PointMass, ResetIsDeterministicBySeed) {
  auto env = test::make<Env>("point_mass");
  auto first = env->reset(3).at("state").clone();
  EXPECT_TRUE(torch::equal(first, env->reset(3).at("state")));
  EXPECT_FALSE(torch::equal(first, env->reset(4).at("state")));
}

TEST(PointMass, SteeringToTheGoalSucceeds) {
  auto env = test::make<Env>("point_mass");
  auto state = env->reset(11).at("state");
  StepResult result;
  for (int step = 0; step < 200; ++step) {
    // a proportional-derivative controller toward the goal
    auto error = state.slice(0, 4, 6) - state.slice(0, 0, 2);
    auto action = (error * 4.0 - state.slice(0, 2, 4) * 1.0).clamp(-1, 1);
    result = env->step(action);
    state = result.observation.at("state");
    if (result.terminated || result.truncated) break;
  }
  EXPECT_TRUE(result.terminated);
  EXPECT_EQ(result.info.at("success"), 1.0);
}

TEST(PointMass, BadActionsAreRejectedAndLeaveTheStateUntouched) {
  auto env = test::make<Env>("point_mass");
  auto before = env->reset(1).at("state").clone();
  EXPECT_THAT(test::error_of([&] { env->step(torch::tensor({NAN, 0.f})); }),
              HasSubstr("not finite"));
  EXPECT_THAT(test::error_of([&] { env->step(torch::zeros({3})); }),
              HasSubstr("action must have 2 values"));
  auto after = env->step(torch::zeros({2})).observation.at("state");
  EXPECT_TRUE(torch::allclose(before, after)) << "a zero action from rest keeps the mass still";
}

TEST(PointMass, StepAfterTheEpisodeEndedIsAnError) {
  auto env = test::make<Env>("point_mass", "{max_episode_steps: 2}");
  env->reset(0);
  env->step(torch::zeros({2}));
  EXPECT_TRUE(env->step(torch::zeros({2})).truncated);
  EXPECT_THAT(test::error_of([&] { env->step(torch::zeros({2})); }), HasSubstr("call reset()"));
}

}  // namespace
}  // namespace wm
