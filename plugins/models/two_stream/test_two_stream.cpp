#include <torch/torch.h>

#include "test_support.h"
#include "wm/dataset.h"
#include "wm/model.h"
#include "engine/adamw.h"

namespace wm {
namespace {

const char* kTiny = "{image_size: 16, patch: 4, dim: 32, depth: 2, heads: 2, change_dim: 8, "
                    "decoder_dim: 32, decoder_depth: 1, max_gap: 3";

Batch clips(int64_t count, int64_t frames = 6) {
  auto dataset = test::make<Dataset>("synthetic", "{size: 16, frames: " + std::to_string(frames) + "}");
  std::vector<Sample> samples;
  for (int64_t i = 0; i < count; ++i) samples.push_back(dataset->get(i));
  return collate(samples);
}

// the loss on fixed frame pairs (same random draws each time)
double fixed_loss(Model& model, const Batch& batch) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(7);
  return model.loss(batch).loss.item<double>();
}

// trains on one fixed batch; returns the loss before and after
std::pair<double, double> fit(Model& model, const Batch& batch, int steps) {
  double before = fixed_loss(model, batch);
  torch::manual_seed(0);
  train::AdamW optimizer(model.parameters(), {0.9, 0.999, 1e-8, 0.0});
  model.set_training(true);
  for (int step = 0; step < steps; ++step) {
    model.loss(batch).loss.backward();
    optimizer.step(2e-3);
    optimizer.zero_grad();
  }
  return {before, fixed_loss(model, batch)};
}

TEST(TwoStream, LossFallsForEveryVariant) {
  Batch batch = clips(8);
  for (const char* variant : {"two_stream", "m_only", "p_only", "no_exchange", "early_fusion"}) {
    // from a random output layer, so every variant has something to learn quickly
    auto model = test::make<Model>("two_stream", std::string(kTiny) + ", start_from_copy: false, variant: " + variant + "}");
    auto [before, after] = fit(*model, batch, 60);
    EXPECT_LT(after, 0.8 * before) << variant;
  }
}

TEST(TwoStream, StartsExactlyAtTheCopyLastBaseline) {
  auto model = test::make<Model>("two_stream", std::string(kTiny) + "}");
  Batch batch = clips(2);
  torch::NoGradGuard no_grad;
  auto out = model->predict(batch);
  EXPECT_TRUE(torch::equal(out.at("prediction"), batch.at("video").slice(1, 0, 5)));
}

TEST(TwoStream, PredictsEveryPairAtTheRequestedGap) {
  auto model = test::make<Model>("two_stream", std::string(kTiny) + "}");
  Batch batch = clips(2);
  batch.tensors["gap"] = torch::tensor(2);
  torch::NoGradGuard no_grad;
  auto out = model->predict(batch);
  EXPECT_EQ(out.at("prediction").sizes(), (std::vector<int64_t>{2, 4, 3, 16, 16}));
  EXPECT_TRUE(torch::equal(out.at("target"), batch.at("video").slice(1, 2)));
  EXPECT_EQ(out.at("change_embedding").sizes(), (std::vector<int64_t>{2, 4, 8}));
  EXPECT_EQ(model->encode(batch).at("features").sizes(), (std::vector<int64_t>{2, 8}));
}

TEST(TwoStream, ClipsShorterThanMaxGapAreAClearError) {
  auto model = test::make<Model>("two_stream", std::string(kTiny) + "}");
  EXPECT_THAT(test::error_of([&] { model->loss(clips(2, 3)); }),
              ::testing::HasSubstr("clips have 3 frames; max_gap 3 needs at least 4"));
}

TEST(TwoStream, InconsistentShapesPointAtTheParameter) {
  EXPECT_THAT(test::error_of([] { test::make<Model>("two_stream", "{dim: 30, heads: 4}"); }),
              ::testing::HasSubstr("params.heads: must divide dim (30)"));
}

}  // namespace
}  // namespace wm
