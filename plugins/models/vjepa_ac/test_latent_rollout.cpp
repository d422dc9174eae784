#include <torch/torch.h>

#include "test_support.h"
#include "latent_rollout.h"

namespace wm {
namespace {

// a predictor whose next latent is latent + action (+ state): easy to follow by hand
at::Tensor add_action(const at::Tensor& z, const at::Tensor& a, const at::Tensor& s) {
  auto next = z + a;
  return s.defined() ? next + s : next;
}

at::Tensor column(std::vector<float> values) {  // [1, T, 1]
  return torch::tensor(values).view({1, -1, 1});
}

TEST(LatentPredictionLoss, MatchesAHandComputedCase) {
  auto latents = column({0, 1, 3, 6});
  auto actions = column({1, 1, 1});
  auto loss = nn::latent_prediction_loss(add_action, latents, actions, {}, 3);
  // teacher forcing: [0,1,3] + 1 = [1,2,4] against [1,3,6]: (0 + 1 + 2) / 3
  EXPECT_NEAR(loss.teacher_forcing.item<double>(), 1.0, 1e-6);
  // rollout: [0, 1] -> 2 -> 3, so [1,2,3] against [1,3,6]: (0 + 1 + 3) / 3
  EXPECT_NEAR(loss.rollout.item<double>(), 4.0 / 3.0, 1e-6);
  EXPECT_NEAR(loss.total().item<double>(), 7.0 / 3.0, 1e-6);
}

TEST(LatentPredictionLoss, OneAutoStepIsTheFirstTeacherForcedStep) {
  auto loss = nn::latent_prediction_loss(add_action, column({0, 2, 3}), column({1, 1}), {}, 1);
  EXPECT_NEAR(loss.rollout.item<double>(), 1.0, 1e-6);          // |0 + 1 - 2|
  EXPECT_NEAR(loss.teacher_forcing.item<double>(), 0.5, 1e-6);  // (1 + 0) / 2
}

TEST(LatentPredictionLoss, LossExponentTwoIsHalfTheSquaredError) {
  auto loss = nn::latent_prediction_loss(add_action, column({0, 1, 3, 6}), column({1, 1, 1}), {}, 3, 2.0);
  EXPECT_NEAR(loss.teacher_forcing.item<double>(), (0 + 1 + 4) / 3.0 / 2, 1e-6);
  EXPECT_NEAR(loss.rollout.item<double>(), (0 + 1 + 9) / 3.0 / 2, 1e-6);
}

TEST(LatentPredictionLoss, RejectsMoreAutoStepsThanTransitions) {
  EXPECT_THAT(test::error_of([] { nn::latent_prediction_loss(add_action, column({0, 1}), column({1}), {}, 2); }),
              ::testing::HasSubstr("auto_steps 2"));
}

TEST(Imagine, FeedsPredictionsBackAndRepeatsTheLastState) {
  // context latent 0, state 5; each step adds action 1 and state 5
  auto imagined = nn::imagine(add_action, column({0}), column({1, 1}), column({5}), 2);
  EXPECT_TRUE(torch::allclose(imagined, column({6, 12})));
  // two context frames: the executed action between them, then the plan
  auto two = nn::imagine(add_action, column({0, 1}), column({1, 2, 3}), {}, 2);
  EXPECT_TRUE(torch::allclose(two, column({3, 6})));
}

}  // namespace
}  // namespace wm
