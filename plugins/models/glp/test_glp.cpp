#include <torch/torch.h>

#include "action_head.h"
#include "test_support.h"
#include "wm/dataset.h"
#include "wm/model.h"
#include "engine/adamw.h"
#include "wm/io/checkpoint.h"
#include "wm/nn/frozen_frame_encoder.h"
#include "wm/params.h"
#include "config_node.h"
#include "param_binding.h"

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

//---- the action head (spec D1) ----

// configs/glp_synthetic.yaml's encoder and data, labelled pushes in 5 directions
constexpr const char* kStudyEncoder = "{image_size: 32, patch: 8, encoder_dim: 64, encoder_depth: 2, encoder_heads: 4}";
constexpr const char* kStudyData = "{frames: 8, size: 32, objects: 1, push: 0.01}";

struct Latents {
  at::Tensor current, outcome, label;  // [B, 4, N, D], [B, 4, N, D], [B]
};
Latents study_latents(int64_t first, int64_t count) {
  auto data = test::make<Dataset>("synthetic", std::string(kStudyData).insert(1, "samples: 3400, "));
  std::vector<Sample> samples;
  for (int64_t i = first; i < first + count; ++i) samples.push_back(data->get(i));
  Batch batch = collate(samples);
  torch::manual_seed(0);
  ConfigNode node = parse_yaml(kStudyEncoder, "test.yaml");
  nn::FrozenFrameEncoder encoder(bind_params(nn::with_frozen_encoder_params(Schema{}), &node, "model.params", "glp", node.loc));
  auto latents = encoder->forward(batch.at("video"));
  return {latents.slice(1, 0, 4), latents.slice(1, 4, 8), batch.at("action_label")};
}

// trains a head for `steps` on the first 3000 clips; its accuracy on the last 400. `broken`
// reads another clip's outcome, as a head that ignores its own outcome would. (A head fed the
// current clip twice is not broken enough on this data: the push is held through the clip, so
// the current clip alone shows it, measured 0.86.)
std::map<std::string, double> head_accuracy(bool broken, int steps) {
  static const Latents train = study_latents(0, 3000), held = study_latents(3000, 400);
  torch::manual_seed(1);
  torch::nn::Module parent;
  glp::ActionHead head(parent, train.current.size(3), train.outcome.size(1), 192, 5);
  train::AdamW optimizer(named_parameters(parent), {0.9, 0.999, 1e-8, 0.05});
  for (int step = 0; step < steps; ++step) {
    auto rows = torch::randint(3000, {64}, torch::kLong);
    auto current = train.current.index({rows});
    auto outcome = train.outcome.index({broken ? rows.roll(1) : rows});
    glp::ActionHead::loss(head.forward(current, outcome), train.label.index({rows})).backward();
    optimizer.step(2e-3);
    optimizer.zero_grad();
  }
  torch::NoGradGuard no_grad;
  auto copied = held.current.slice(1, 3, 4).expand_as(held.outcome);
  auto accuracy = [&](const at::Tensor& outcome) {
    return head.forward(held.current, outcome).argmax(1).eq(held.label).to(torch::kDouble).mean().item<double>();
  };
  auto outcome = broken ? held.outcome.roll(1, 0) : held.outcome;
  return {{"true", accuracy(outcome)},
          {"copy", accuracy(copied)},
          {"frame_mean", accuracy(outcome.mean(1, true).expand_as(outcome))}};
}

// spec D1: the ceiling at least 0.9, the floor at most 0.35 (5 classes, chance 0.2); measured
// 0.92 and 0.215 (with the outcome's mean instead of its frames: 0.84 and 0.215), and 0.80 on
// outcomes replaced by their frames' mean
TEST(GlpActionHead, ReadsThePushFromTrueLatentsButNotFromACopiedLatent) {
  auto accuracy = head_accuracy(false, 2500);
  EXPECT_GE(accuracy["true"], 0.9) << "the ceiling: the outcome shows the action";
  EXPECT_LE(accuracy["copy"], 0.35) << "the floor: copying the last latent shows none";
  // an outcome whose frames are all their mean, as an L2-trained predictor may give under
  // uncertainty, still reads as its action (a head on the concatenated frames read 0.30)
  EXPECT_GE(accuracy["frame_mean"], 0.7);
}

// measured 0.20
TEST(GlpActionHead, AHeadThatIgnoresItsOutcomeFailsTheCeiling) {
  EXPECT_LT(head_accuracy(true, 1000)["true"], 0.9);
}

TEST(GlpActionHead, TrainsWithTheAdapterAndPredictsThreeReadings) {
  for (const char* action : {"label", "continuous"}) {
    torch::manual_seed(0);
    auto model = test::make<Model>("glp", std::string("{") + kSizes + ", action_head: true, action: " + action + "}");
    Batch batch = synthetic_batch(8);
    EXPECT_TRUE(model->loss(batch).logs.count("action_head_loss")) << action;
    EXPECT_LT(train_steps(*model, batch, 40), 0.7) << action;
    auto out = model->predict(batch);
    int64_t width = std::string(action) == "label" ? 5 : 2;
    for (const char* key : {"action_logits_pred", "action_logits_true", "action_logits_copy", "action_logits"})
      EXPECT_EQ(out.at(key).sizes(), (std::vector<int64_t>{8, width})) << key;
    EXPECT_TRUE(torch::equal(out.at("action_label"), batch.at("action_label")));
    EXPECT_FALSE(torch::equal(out.at("action_logits_pred"), out.at("action_logits_copy")));
  }
}

}  // namespace
}  // namespace wm
