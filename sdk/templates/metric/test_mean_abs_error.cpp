// The template metric's tests: the contract checks, then what this metric promises.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "wm/sdk.h"
#include "wm/testing.h"

namespace {

TEST(MeanAbsError, PassesTheContractChecks) {
  EXPECT_THAT(wm::testing::conformance("mean_abs_error"), ::testing::IsEmpty());
}

TEST(MeanAbsError, IsTheMeanAbsoluteDifferenceTimesScale) {
  auto metric = wm::testing::make<wm::Metric>("mean_abs_error", "{scale: 2}");
  metric->reset();
  metric->update({{"prediction", torch::tensor({1.0, 2.0})}, {"target", torch::tensor({0.0, 4.0})}});
  EXPECT_DOUBLE_EQ(metric->compute().at("mae"), 2 * (1.0 + 2.0) / 2);
}

}  // namespace
