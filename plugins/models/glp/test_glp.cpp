#include <torch/torch.h>

#include "test_support.h"
#include "wm/dataset.h"
#include "wm/model.h"
#include "engine/adamw.h"
#include "wm/io/checkpoint.h"

namespace wm {
namespace {

constexpr const char* kSizes =
    "image_size: 16, patch: 4, encoder_dim: 16, encoder_depth: 1, encoder_heads: 2, "
    "context_frames: 2, outcome_frames: 2, dim: 32, depth: 1, heads: 2, decoder_dim: 32";

Batch synthetic_batch(int64_t clips) {
  return test::batch_of("synthetic", "{size: 16, frames: 5, objects: 1, push: 0.02}", clips);
}

double train_steps(Model& model, const Batch& batch, int steps) {
  auto loss_now = [&] {
    torch::NoGradGuard no_grad;
    return model.loss(batch).loss.item<double>();
  };
  double before = loss_now();
  train::AdamW optimizer(model.parameters(), {0.9, 0.999, 1e-8, 0.0});
  for (int step = 0; step < steps; ++step) {
    model.loss(batch).loss.backward();
    optimizer.step(3e-3);
    optimizer.zero_grad();
  }
  return loss_now() / before;
}

TEST(Glp, StartsAsCopyLastLatentAndLearnsBothActionKinds) {
  Batch batch = synthetic_batch(8);
  for (const char* action : {"continuous", "label"}) {
    torch::manual_seed(0);
    auto model = test::make<Model>("glp", std::string("{") + kSizes + ", action: " + action + "}");
    auto first = model->predict(batch);
    EXPECT_TRUE(torch::equal(first.at("latent_prediction"), first.at("latent_copy_last"))) << action;
    EXPECT_LT(train_steps(*model, batch, 40), 0.7) << action;
    auto out = model->predict(batch);
    EXPECT_EQ(out.at("prediction").sizes(), (std::vector<int64_t>{8, 2, 3, 16, 16}));
    EXPECT_EQ(out.at("target").sizes(), out.at("prediction").sizes());
    EXPECT_EQ(out.at("latent_prediction").sizes(), (std::vector<int64_t>{8, 2, 16, 16}));
    EXPECT_FALSE(torch::equal(out.at("latent_prediction"), out.at("latent_copy_last")));
  }
}

TEST(Glp, AFrozenDecoderFromAnotherRunIsNotTrained) {
  test::TempDir dir;
  torch::manual_seed(0);
  auto donor = test::make<Model>("glp", std::string("{") + kSizes + "}");
  io::NamedTensors saved;
  for (const auto& [name, tensor] : donor->state()) saved.emplace_back("model/" + name, tensor);
  io::save_tensors(dir.path() / "step.pt", saved);
  auto model = test::make<Model>("glp", std::string("{") + kSizes + ", decoder_checkpoint: " +
                                            (dir.path() / "step.pt").string() + "}");
  for (const auto& [name, tensor] : model->parameters())
    EXPECT_NE(name.rfind("decoder.", 0), 0u) << name << " should be frozen";
  EXPECT_FALSE(model->loss(synthetic_batch(2)).logs.count("decoder_mse"));
}

TEST(Glp, SaysWhenClipsAreTooShort) {
  auto model = test::make<Model>("glp", "{image_size: 16, patch: 4, encoder_dim: 16, encoder_depth: 1, "
                                        "encoder_heads: 2, context_frames: 2, outcome_frames: 4, dim: 32, "
                                        "depth: 1, heads: 2}");
  EXPECT_THAT(test::error_of([&] { model->predict(synthetic_batch(1)); }), ::testing::HasSubstr("need 6"));
}

}  // namespace
}  // namespace wm
