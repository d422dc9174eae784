#include <torch/torch.h>

#include <cmath>

#include "test_support.h"
#include "wm/env.h"

namespace wm {
namespace {

TEST(DiscPush, ObservationsHaveTheDeclaredKeysAndAreDeterministic) {
  auto env = test::make<Env>("disc_push", "{size: 24, objects: 2}");
  auto a = env->reset(3), b = env->reset(3), c = env->reset(4);
  for (const auto& key : env->spec().observation) EXPECT_TRUE(a.count(key.name)) << key.name;
  EXPECT_EQ(a.at("video").sizes(), (std::vector<int64_t>{3, 24, 24}));
  EXPECT_EQ(a.at("state").sizes(), (std::vector<int64_t>{8}));
  EXPECT_TRUE(torch::equal(a.at("goal"), b.at("goal")));
  EXPECT_FALSE(torch::equal(a.at("goal"), c.at("goal")));
  EXPECT_FALSE(torch::equal(a.at("video"), a.at("goal"))) << "the goal is somewhere else";
}

TEST(DiscPush, TheGoalIsReachedByTheSteadyPushThatMadeIt) {
  // with one disc, no walls in the way, the direction from start to goal is the push direction
  auto env = test::make<Env>("disc_push", "{objects: 1, goal_steps: 6, push: 0.004, max_episode_steps: 6}");
  int reached = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto start = env->reset(seed).at("state");
    // find the goal direction from the first step's distance change along 16 directions
    double best = 1e9;
    for (int k = 0; k < 16; ++k) {
      double angle = 2 * M_PI * k / 16;
      env->reset(seed);
      StepResult result;
      for (int t = 0; t < 6; ++t) result = env->step(torch::tensor({std::cos(angle), std::sin(angle)}));
      best = std::min(best, result.info.at("distance"));
      EXPECT_TRUE(result.truncated);
    }
    reached += best < 0.02;
    (void)start;
  }
  EXPECT_GE(reached, 15);
}

TEST(DiscPush, RejectsBadActionsAndStepsAfterTheEnd) {
  auto env = test::make<Env>("disc_push", "{max_episode_steps: 1}");
  EXPECT_THAT(test::error_of([&] { env->step(torch::zeros({2})); }), ::testing::HasSubstr("before reset"));
  env->reset(0);
  EXPECT_THAT(test::error_of([&] { env->step(torch::zeros({3})); }), ::testing::HasSubstr("2 values"));
  EXPECT_THAT(test::error_of([&] { env->step(torch::tensor({NAN, 0.0f})); }), ::testing::HasSubstr("not finite"));
  env->step(torch::zeros({2}));
  EXPECT_THAT(test::error_of([&] { env->step(torch::zeros({2})); }), ::testing::HasSubstr("call reset"));
}

}  // namespace
}  // namespace wm
