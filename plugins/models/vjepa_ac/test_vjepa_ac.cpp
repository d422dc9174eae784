#include <torch/torch.h>

#include "test_support.h"
#include "wm/io/action_scaler.h"
#include "wm/dataset.h"
#include "wm/model.h"
#include "engine/adamw.h"
#include "wm/io/checkpoint.h"

namespace wm {
namespace {

constexpr const char* kSmall =
    "{image_size: 16, patch: 4, encoder_dim: 16, encoder_depth: 1, encoder_heads: 2, "
    "dim: 32, depth: 2, heads: 2, auto_steps: 2, state_size: 4, "
    "plan_horizon: 2, plan_samples: 16, plan_elites: 4, plan_iterations: 2}";

Batch synthetic_batch(int64_t clips) {
  return test::batch_of("synthetic", "{size: 16, frames: 5, objects: 1, push: 0.02}", clips);
}

TEST(VJepaAc, ResidualPredictorStartsAtCopyLastLatent) {
  torch::manual_seed(0);
  auto model = test::make<Model>("vjepa_ac", kSmall);
  auto out = model->predict(synthetic_batch(2));
  EXPECT_TRUE(torch::allclose(out.at("prediction"), out.at("copy_last"), 1e-4, 1e-4));
}

TEST(VJepaAc, TrainingLowersTheLatentLossAndOnlyThePredictorLearns) {
  torch::manual_seed(0);
  Batch batch = synthetic_batch(8);
  std::string params = kSmall;
  params.insert(params.size() - 1, ", residual: false");
  auto model = test::make<Model>("vjepa_ac", params);
  auto loss_now = [&] {
    torch::NoGradGuard no_grad;
    return model->loss(batch).loss.item<double>();
  };
  double before = loss_now();
  for (const auto& [name, tensor] : model->parameters()) EXPECT_EQ(name.rfind("encoder", 0), std::string::npos) << name;
  auto encoder_weights = [&] {
    std::vector<at::Tensor> weights;
    for (const auto& [name, tensor] : model->state())
      if (name.rfind("encoder.", 0) == 0) weights.push_back(tensor.flatten().clone());
    return torch::cat(weights);
  };
  auto encoder_before = encoder_weights();
  train::AdamW optimizer(model->parameters(), {0.9, 0.999, 1e-8, 0.0});
  model->set_training(true);
  for (int step = 0; step < 40; ++step) {
    auto out = model->loss(batch);
    EXPECT_TRUE(out.logs.count("teacher_forcing") && out.logs.count("rollout"));
    out.loss.backward();
    optimizer.step(2e-3);
    optimizer.zero_grad();
  }
  EXPECT_LT(loss_now(), 0.8 * before);
  EXPECT_TRUE(torch::equal(encoder_weights(), encoder_before)) << "the encoder is frozen";

  auto out = model->predict(batch);
  EXPECT_EQ(out.at("prediction").sizes(), (std::vector<int64_t>{8, 4, 16, 16}));  // [B, T-1, N, D]
  EXPECT_EQ(out.at("target").sizes(), out.at("prediction").sizes());
  EXPECT_EQ(out.at("copy_last").sizes(), out.at("prediction").sizes());
}

TEST(VJepaAc, PlansAnActionInsideTheRangeForAGoal) {
  torch::manual_seed(0);
  Batch batch = synthetic_batch(2);
  auto model = test::make<Model>("vjepa_ac", kSmall);
  Batch observation;
  observation.tensors = {{"video", batch.at("video").slice(1, 0, 2)},
                         {"actions", batch.at("actions").slice(1, 0, 1)},
                         {"state", batch.at("state").slice(1, 0, 2)},
                         {"goal", (batch.at("video").select(1, 4) * 255).to(torch::kUInt8)}};
  auto* policy = dynamic_cast<Policy*>(model.get());
  ASSERT_NE(policy, nullptr) << "vjepa_ac acts as a wm::Policy";
  auto out = policy->act(observation);
  EXPECT_EQ(out.at("action").sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_LE(out.at("action").abs().max().item<double>(), 1.0);
  EXPECT_EQ(out.at("plan_energy").sizes(), (std::vector<int64_t>{2}));
}

TEST(VJepaAc, LoadsItsFrozenEncoderFromASingleStreamCheckpoint) {
  test::TempDir dir;
  auto donor = test::make<Model>("single_stream", "{image_size: 16, patch: 4, dim: 16, depth: 1, heads: 2}");
  io::NamedTensors saved;
  for (const auto& [name, tensor] : donor->state()) saved.emplace_back("model/" + name, tensor);
  io::save_tensors(dir.path() / "step.pt", saved);
  std::string params = std::string(kSmall);
  params.insert(params.size() - 1, ", encoder_checkpoint: " + (dir.path() / "step.pt").string());
  auto model = test::make<Model>("vjepa_ac", params);
  at::Tensor donor_norm, loaded_norm;
  for (const auto& [name, tensor] : donor->state()) if (name == "encoder.norm.weight") donor_norm = tensor;
  for (const auto& [name, tensor] : model->state()) if (name == "encoder.vit.norm.weight") loaded_norm = tensor;
  ASSERT_TRUE(donor_norm.defined() && loaded_norm.defined());
  EXPECT_TRUE(torch::equal(donor_norm, loaded_norm));
}

TEST(VJepaAc, NamesTheParameterWhenActionsHaveTheWrongWidth) {
  Batch batch = synthetic_batch(2);
  auto model = test::make<Model>("vjepa_ac", "{image_size: 16, patch: 4, encoder_dim: 16, encoder_depth: 1, "
                                             "encoder_heads: 2, dim: 32, depth: 1, heads: 2, action_size: 3}");
  EXPECT_THAT(test::error_of([&] { model->loss(batch); }), ::testing::HasSubstr("model.params.action_size"));
}

TEST(VJepaAc, StandardisesActionsWithAFittedScalerFile) {
  test::TempDir dir;
  io::ActionScaler scaler{{"dx", "dy"}, {0.5, -2.0}, {4.0, 0.0}, 1000, true};  // dy is constant
  scaler.save(dir.path() / "action_scaler.yaml");
  // a direct (not residual) predictor: its output depends on the actions from the first step
  std::string params = kSmall;
  params.insert(params.size() - 1, ", residual: false");
  std::string scaled_params = params;
  scaled_params.insert(scaled_params.size() - 1,
                       ", action_scaler: " + (dir.path() / "action_scaler.yaml").string());
  Batch batch = synthetic_batch(2);
  Batch standardised = batch;
  standardised.tensors["actions"] = scaler.apply(batch.at("actions"));

  torch::manual_seed(0);
  auto with_scaler = test::make<Model>("vjepa_ac", scaled_params);
  torch::manual_seed(0);
  auto without = test::make<Model>("vjepa_ac", params);
  torch::NoGradGuard no_grad;
  EXPECT_FALSE(torch::allclose(without->loss(batch).loss, without->loss(standardised).loss, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(with_scaler->loss(batch).loss, without->loss(standardised).loss, 1e-5, 1e-6));
}

TEST(VJepaAc, RejectsAScalerOfAnotherActionWidth) {
  test::TempDir dir;
  io::ActionScaler{{"a", "b", "c"}, {0, 0, 0}, {1, 1, 1}, 10, true}.save(dir.path() / "three.json");
  std::string params = kSmall;
  params.insert(params.size() - 1, ", action_scaler: " + (dir.path() / "three.json").string());
  std::string error = test::error_of([&] { test::make<Model>("vjepa_ac", params); });
  EXPECT_THAT(error, ::testing::HasSubstr("action_scaler"));
  EXPECT_THAT(error, ::testing::HasSubstr("scales 3 action dimensions"));
}

// buttons beside the scaled actions (extra_action_keys): they change the prediction and the loss
// gradient reaches their columns of the action embedding
TEST(VJepaAc, ButtonsAfterTheContinuousActionsConditionThePrediction) {
  Batch batch = synthetic_batch(2);
  auto steps = batch.at("actions").size(1);
  batch.tensors["buttons"] = torch::zeros({2, steps, 3});
  Batch pressed = batch;
  pressed.tensors["buttons"] = torch::zeros({2, steps, 3});
  pressed.tensors["buttons"].select(2, 1).fill_(1.0f);  // only button 1, held throughout
  std::string params = kSmall;
  params.insert(params.size() - 1, ", residual: false, extra_action_keys: [buttons], extra_action_size: 3");
  torch::manual_seed(0);
  auto model = test::make<Model>("vjepa_ac", params);
  auto required = model->required_keys();
  EXPECT_NE(std::find(required.begin(), required.end(), "buttons"), required.end());
  auto a = model->predict(batch).at("prediction"), b = model->predict(pressed).at("prediction");
  EXPECT_GT((a - b).abs().max().item<double>(), 1e-4) << "changing only buttons changes the latents";

  auto out = model->loss(pressed);
  out.loss.backward();
  at::Tensor weight;
  for (const auto& [name, tensor] : model->parameters())
    if (name == "action_embed.weight") weight = tensor;
  ASSERT_TRUE(weight.defined());
  EXPECT_EQ(weight.size(1), 2 + 3) << "action_size continuous + 3 button columns";
  EXPECT_GT(weight.grad().slice(1, 2, 5).norm().item<double>(), 0.0);

  // the declared width must match the batch; planning needs no buttons
  Batch wide = batch;
  wide.tensors["buttons"] = torch::zeros({2, steps, 4});
  EXPECT_THAT(test::error_of([&] { model->loss(wide); }), ::testing::HasSubstr("extra_action_size is 3"));
  Batch observation;
  observation.tensors = {{"video", batch.at("video").slice(1, 0, 2)},
                         {"actions", batch.at("actions").slice(1, 0, 1)},
                         {"state", batch.at("state").slice(1, 0, 2)},
                         {"goal", (batch.at("video").select(1, 4) * 255).to(torch::kUInt8)}};
  EXPECT_EQ(dynamic_cast<Policy*>(model.get())->act(observation).at("action").sizes(),
            (std::vector<int64_t>{2, 2}));
  params = kSmall;
  params.insert(params.size() - 1, ", extra_action_keys: [buttons]");
  EXPECT_THAT(test::error_of([&] { test::make<Model>("vjepa_ac", params); }),
              ::testing::HasSubstr("go together"));
}

}  // namespace
}  // namespace wm
