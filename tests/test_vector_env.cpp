#include <ATen/ATen.h>

#include "test_support.h"
#include "wm/sim/vector_env.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

std::vector<std::shared_ptr<Env>> point_masses(int n) {
  std::vector<std::shared_ptr<Env>> envs;
  for (int i = 0; i < n; ++i) envs.push_back(test::make<Env>("point_mass", "{max_episode_steps: 30}"));
  return envs;
}

TEST(VectorEnv, MatchesSteppingTheEnvsOneByOne) {
  const int n = 5;
  sim::VectorEnv vector(point_masses(n), 3);
  auto serial = point_masses(n);
  std::vector<uint64_t> seeds = {4, 8, 15, 16, 23};
  auto stacked = vector.reset(seeds);
  ASSERT_EQ(stacked.at("state").sizes(), (std::vector<int64_t>{n, 6}));
  for (int i = 0; i < n; ++i) EXPECT_TRUE(at::equal(stacked.at("state")[i], serial[i]->reset(seeds[i]).at("state")));
  at::manual_seed(0);
  for (int step = 0; step < 30; ++step) {
    auto actions = at::rand({n, 2}) * 2 - 1;
    auto result = vector.step(actions);
    for (int i = 0; i < n; ++i) {
      auto expected = serial[i]->step(actions[i]);
      EXPECT_TRUE(at::equal(result.observation.at("state")[i], expected.observation.at("state")));
      EXPECT_EQ(result.reward[i], expected.reward);
      EXPECT_EQ(result.truncated[i], expected.truncated);
    }
  }
}

TEST(VectorEnv, ReportsAnEnvsErrorAfterAllHaveStepped) {
  sim::VectorEnv vector(point_masses(3), 2);
  vector.reset({1, 2, 3});
  auto actions = at::zeros({3, 2});
  actions[1][0] = NAN;
  EXPECT_THAT(test::error_of([&] { vector.step(actions); }), HasSubstr("not finite"));
  EXPECT_THAT(test::error_of([&] { vector.step(at::zeros({2, 2})); }), HasSubstr("[3, action_size]"));
  EXPECT_THAT(test::error_of([&] { vector.reset({1}); }), HasSubstr("3 seeds"));
  EXPECT_THAT(test::error_of([&] { vector.act("expert"); }), HasSubstr("no scripted policies"));
}

TEST(VectorEnv, NeverUsesMoreThreadsThanEnvs) {
  sim::VectorEnv vector(point_masses(2), 8);
  EXPECT_EQ(vector.threads(), 2);
}

}  // namespace
}  // namespace wm
