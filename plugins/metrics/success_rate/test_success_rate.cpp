#include <torch/torch.h>

#include "test_support.h"
#include "wm/metric.h"

namespace wm {
namespace {

TEST(SuccessRate, CountsEpisodesAndGivesTheWilsonInterval) {
  auto metric = test::make<Metric>("success_rate");
  metric->reset();
  metric->update({{"success", torch::tensor({true, false, true, true})}});
  metric->update({{"success", torch::tensor({0.0f, 1.0f, 1.0f, 0.0f, 1.0f, 1.0f})}});
  auto values = metric->compute();
  EXPECT_DOUBLE_EQ(values.at("success_rate"), 0.7);
  EXPECT_DOUBLE_EQ(values.at("episodes"), 10);
  // the textbook Wilson 95% interval of 7 successes in 10: [0.3968, 0.8922]
  EXPECT_NEAR(values.at("success_rate_low"), 0.3968, 1e-4);
  EXPECT_NEAR(values.at("success_rate_high"), 0.8922, 1e-4);
}

TEST(SuccessRate, PerStepFlagsCountAnyStepOrTheLastStep) {
  auto flags = torch::tensor({{false, true, false}, {false, false, true}, {false, false, false}});
  auto any = test::make<Metric>("success_rate");
  auto last = test::make<Metric>("success_rate", "{per_step: last}");
  any->reset(), last->reset();
  any->update({{"success", flags}});
  last->update({{"success", flags}});
  EXPECT_DOUBLE_EQ(any->compute().at("success_rate"), 2.0 / 3);
  EXPECT_DOUBLE_EQ(last->compute().at("success_rate"), 1.0 / 3);
}

TEST(SuccessRate, MergedStatesEqualOneInstanceSeeingEverything) {
  auto left = test::make<Metric>("success_rate"), right = test::make<Metric>("success_rate");
  left->reset(), right->reset();
  left->update({{"success", torch::tensor({true, false})}});
  right->update({{"success", torch::tensor({true, true, true})}});
  left->merge(*right);
  EXPECT_DOUBLE_EQ(left->compute().at("success_rate"), 0.8);
}

TEST(SuccessRate, WrongRankIsNamed) {
  auto metric = test::make<Metric>("success_rate", "{success: done}");
  EXPECT_THAT(test::error_of([&] { metric->update({{"done", torch::zeros({2, 3, 4})}}); }),
              ::testing::HasSubstr("'done' must be [B] or [B, T]"));
}

TEST(SuccessRate, PassesTheContractChecks) {
  torch::manual_seed(0);
  auto inputs = [] { return TensorMap{{"success", torch::rand({7, 5}) > 0.7}}; };
  EXPECT_THAT(testing::metric_conformance("success_rate", "{}", inputs(), inputs()), ::testing::IsEmpty());
}

}  // namespace
}  // namespace wm
