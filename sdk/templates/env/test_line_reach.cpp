// The template environment's tests: the contract checks, then what this environment promises.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "wm/sdk.h"
#include "wm/testing.h"

namespace {

TEST(LineReach, PassesTheContractChecks) {
  EXPECT_THAT(wm::testing::conformance("line_reach"), ::testing::IsEmpty());
}

TEST(LineReach, MovingTowardsTheGoalSucceeds) {
  auto env = wm::testing::make<wm::Env>("line_reach");
  auto state = env->reset(7).at("state");
  double success = 0;
  for (int step = 0; step < 50 && success == 0; ++step) {
    double toward = state[1].item<double>() > state[0].item<double>() ? 1.0 : -1.0;
    auto result = env->step(torch::tensor({toward}));
    state = result.observation.at("state");
    success = result.info.at("success");
  }
  EXPECT_EQ(success, 1.0);
}

TEST(LineReach, AWrongActionSizeIsAnError) {
  auto env = wm::testing::make<wm::Env>("line_reach");
  env->reset(0);
  EXPECT_THAT(wm::testing::error_of([&] { env->step(torch::zeros({3})); }),
              ::testing::HasSubstr("an action has 1 value, got 3"));
}

}  // namespace
