#include <torch/torch.h>

#include "test_support.h"
#include "wm/dataset.h"

namespace wm {
namespace {

TEST(Synthetic, SamplesHaveTheDeclaredKeysAndShapes) {
  auto dataset = test::make<Dataset>("synthetic", "{samples: 5, frames: 6, size: 32, objects: 2}");
  ASSERT_EQ(dataset->size(), 5);
  Sample sample = dataset->get(3);
  EXPECT_EQ(sample.id, "synthetic-3");
  EXPECT_EQ(sample.tensors.at("video").sizes(), (std::vector<int64_t>{6, 3, 32, 32}));
  EXPECT_EQ(sample.tensors.at("video").scalar_type(), torch::kUInt8);
  EXPECT_EQ(sample.tensors.at("actions").sizes(), (std::vector<int64_t>{5, 2}));
  EXPECT_EQ(sample.tensors.at("state").sizes(), (std::vector<int64_t>{6, 8}));
  for (const auto& key : dataset->keys()) EXPECT_TRUE(sample.tensors.count(key.name)) << key.name;
}

TEST(Synthetic, IsDeterministicBySeedAndIndex) {
  auto a = test::make<Dataset>("synthetic", "{seed: 4}");
  auto b = test::make<Dataset>("synthetic", "{seed: 4}");
  auto c = test::make<Dataset>("synthetic", "{seed: 5}");
  EXPECT_TRUE(torch::equal(a->get(7).tensors.at("video"), b->get(7).tensors.at("video")));
  EXPECT_FALSE(torch::equal(a->get(7).tensors.at("video"), c->get(7).tensors.at("video")));
  EXPECT_FALSE(torch::equal(a->get(7).tensors.at("video"), a->get(8).tensors.at("video")));
}

TEST(Synthetic, TheAgentMovesTheWayItIsPushed) {
  auto dataset = test::make<Dataset>("synthetic", "{samples: 200, frames: 12, objects: 1, action_noise: 0.0}");
  const double expected[4][2] = {{1, 0}, {0, -1}, {-1, 0}, {0, 1}};
  int moving = 0, agreeing = 0;
  for (int64_t i = 0; i < dataset->size(); ++i) {
    Sample sample = dataset->get(i);
    int64_t label = sample.tensors.at("action_label").item<int64_t>();
    auto state = sample.tensors.at("state");
    if (label == 4) {
      EXPECT_TRUE(torch::allclose(state[0], state[-1])) << "a still agent stays put";
      continue;
    }
    // velocity after the first push points along the label's direction, unless the agent
    // started within one step of a wall and bounced (rare)
    double vx = state[1][2].item<double>(), vy = state[1][3].item<double>();
    ++moving;
    agreeing += vx * expected[label][0] + vy * expected[label][1] > 0;
  }
  EXPECT_GT(moving, 100);
  EXPECT_GE(agreeing, moving * 97 / 100);
}

TEST(Synthetic, GravityPullsDiscsDown) {
  auto dataset = test::make<Dataset>("synthetic", "{frames: 10, objects: 3, gravity: 1}");
  auto state = dataset->get(0).tensors.at("state");
  // disc 2 is only moved by gravity or collisions; its vertical velocity grows downward
  EXPECT_GT(state[9][4 * 2 + 3].item<double>(), 0.0);
}

TEST(Synthetic, RejectsOutOfRangeIndex) {
  auto dataset = test::make<Dataset>("synthetic", "{samples: 2}");
  EXPECT_THAT(test::error_of([&] { dataset->get(2); }), ::testing::HasSubstr("index 2 of 2"));
}

}  // namespace
}  // namespace wm
