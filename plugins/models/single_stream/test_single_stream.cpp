#include <torch/torch.h>

#include "test_support.h"
#include "wm/dataset.h"
#include "wm/model.h"
#include "engine/adamw.h"

namespace wm {
namespace {

TEST(SingleStream, LossFallsAndPredictionsHaveClipShape) {
  auto dataset = test::make<Dataset>("synthetic", "{size: 16, frames: 6}");
  std::vector<Sample> samples;
  for (int64_t i = 0; i < 8; ++i) samples.push_back(dataset->get(i));
  Batch batch = collate(samples);
  auto model = test::make<Model>("single_stream", "{image_size: 16, patch: 4, dim: 32, depth: 2, heads: 2, "
                                                  "change_dim: 8, decoder_dim: 32, decoder_depth: 1, max_gap: 3, start_from_copy: false}");
  auto fixed_loss = [&] {
    torch::NoGradGuard no_grad;
    torch::manual_seed(7);
    return model->loss(batch).loss.item<double>();
  };
  double before = fixed_loss();
  torch::manual_seed(0);
  train::AdamW optimizer(model->parameters(), {0.9, 0.999, 1e-8, 0.0});
  for (int step = 0; step < 80; ++step) {
    model->loss(batch).loss.backward();
    optimizer.step(2e-3);
    optimizer.zero_grad();
  }
  EXPECT_LT(fixed_loss(), 0.8 * before);
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->predict(batch).at("prediction").sizes(), (std::vector<int64_t>{8, 5, 3, 16, 16}));
}

}  // namespace
}  // namespace wm
