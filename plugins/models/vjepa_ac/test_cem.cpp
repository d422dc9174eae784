#include <torch/torch.h>

#include "test_support.h"
#include "wm/plan/cem.h"

namespace wm {
namespace {

// squared distance of each sequence [S, H, A] to a fixed sequence: its minimum is known
plan::Energy distance_to(const at::Tensor& optimum) {
  return [optimum](const at::Tensor& actions) { return (actions - optimum).pow(2).sum({1, 2}); };
}

TEST(Cem, FindsTheKnownOptimumOfAQuadratic) {
  torch::manual_seed(0);
  auto optimum = torch::tensor({{0.3, -0.5}, {0.7, 0.1}, {-0.8, 0.0}});
  plan::CemOptions options;
  options.horizon = 3, options.samples = 200, options.elites = 20, options.iterations = 8;
  auto result = plan::cem(distance_to(optimum), 2, options);
  EXPECT_EQ(result.mean.sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_LT((result.mean - optimum).abs().max().item<double>(), 0.05) << result.mean;
  EXPECT_LT(result.energy, 0.05);
}

TEST(Cem, StaysInsideTheActionRange) {
  torch::manual_seed(1);
  auto outside = torch::tensor({{1.7, -2.5}});
  plan::CemOptions options;
  options.horizon = 1, options.iterations = 6;
  auto result = plan::cem(distance_to(outside), 2, options);
  // the constrained optimum is the corner (1, -1)
  EXPECT_TRUE(torch::allclose(result.mean, torch::tensor({{1.0, -1.0}}), 0, 0.02)) << result.mean;
}

TEST(Cem, RejectsMoreElitesThanSamples) {
  plan::CemOptions options;
  options.samples = 4, options.elites = 5;
  EXPECT_THAT(test::error_of([&] { plan::cem(distance_to(torch::zeros({3, 1})), 1, options); }),
              ::testing::HasSubstr("elites 5"));
}

TEST(Cem, StartsAtTheInitialMean) {
  // with momentum 1 the Gaussian never moves: the plan is the (clipped) initial mean
  torch::manual_seed(0);
  plan::CemOptions options;
  options.horizon = 2, options.samples = 16, options.elites = 4, options.iterations = 3, options.momentum = 1.0;
  auto initial = torch::tensor({{0.25f, -0.5f}, {1.5f, 0.0f}});
  auto result = plan::cem(distance_to(torch::zeros({2, 2})), 2, options, initial);
  EXPECT_TRUE(torch::equal(result.mean, initial.clamp(-1, 1))) << result.mean;
  EXPECT_THAT(test::error_of([&] { plan::cem(distance_to(torch::zeros({2, 2})), 2, options, torch::zeros({3, 2})); }),
              ::testing::HasSubstr("initial_mean"));
}

}  // namespace
}  // namespace wm
