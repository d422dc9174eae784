// The template dataset's tests: the contract checks, then what this dataset promises.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "wm/sdk.h"
#include "wm/testing.h"

namespace {

TEST(MovingSquare, PassesTheContractChecks) {
  EXPECT_THAT(wm::testing::conformance("moving_square"), ::testing::IsEmpty());
}

TEST(MovingSquare, TheSquareMovesByTheAction) {
  auto data = wm::testing::make<wm::Dataset>("moving_square", "{frames: 4, size: 16}");
  auto sample = data->get(3);
  auto video = sample.tensors.at("video"), actions = sample.tensors.at("actions");
  ASSERT_EQ(actions.size(0), 3);
  // the square's column moves by dx unless it hits the border
  auto column = [&](int64_t t) { return video[t][0].sum(0).nonzero().min().item<int64_t>(); };
  for (int64_t t = 0; t < 3; ++t) {
    int64_t moved = column(t + 1) - column(t);
    int64_t dx = actions[t][0].item<int64_t>();
    if (column(t + 1) > 0 && column(t + 1) < 16 - 6) EXPECT_EQ(moved, dx) << "frame " << t;
  }
}

TEST(MovingSquare, ZeroFramesIsAConfigError) {
  EXPECT_THAT(wm::testing::error_of([] { wm::testing::make<wm::Dataset>("moving_square", "{frames: 1}"); }),
              ::testing::HasSubstr("frames"));
}

}  // namespace
