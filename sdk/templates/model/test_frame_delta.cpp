// The template model's tests: the contract checks, then what this model promises.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "wm/sdk.h"
#include "wm/testing.h"

namespace {

// the built-in synthetic dataset gives video and 2-D actions
const char* kData = "{samples: 8, frames: 4, size: 16, push: 0.05}";

TEST(FrameDelta, PassesTheContractChecks) {
  wm::testing::CheckOptions options;
  options.data_params = kData;
  EXPECT_THAT(wm::testing::conformance("frame_delta", options), ::testing::IsEmpty());
}

TEST(FrameDelta, StartsAsCopyLastAndLearns) {
  auto model = wm::testing::make<wm::Model>("frame_delta");
  auto batch = wm::testing::batch_of("synthetic", kData, 4);
  auto outputs = model->predict(batch);
  // untrained, the prediction is frame t
  auto video = batch.at("video");
  EXPECT_TRUE(torch::allclose(outputs.at("prediction"), video.slice(1, 0, video.size(1) - 1)));
  // optimiser steps on one batch lower its loss below copying the last frame's
  std::vector<torch::Tensor> parameters;
  for (auto& [name, tensor] : model->parameters()) parameters.push_back(tensor);
  torch::optim::Adam adam(parameters, 1e-3);
  double copy_last = model->loss(batch).loss.item<double>();
  for (int step = 0; step < 100; ++step) {
    adam.zero_grad();
    model->loss(batch).loss.backward();
    adam.step();
  }
  EXPECT_LT(model->loss(batch).loss.item<double>(), 0.9 * copy_last);
}

}  // namespace
