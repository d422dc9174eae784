#include <torch/torch.h>

#include "test_support.h"
#include "wm/model.h"
#include "engine/adamw.h"

namespace wm {
namespace {

const char* kTiny = "size: custom, frames: 4, image_size: 8, patch: 4, tubelet: 2, dim: 16, depth: 1, "
                    "heads: 2, decoder_dim: 8, decoder_heads: 2, decoder_depth: 1";

Batch random_clips(int64_t count) {
  torch::manual_seed(1);
  Batch batch;
  // smooth clips: a random colour per clip plus a gradient, so masked tubelets are predictable
  auto ramp = torch::linspace(0, 1, 8).view({1, 1, 1, 1, 8});
  batch.tensors["video"] = (torch::rand({count, 1, 3, 1, 1}) * 0.5 + ramp * 0.5).expand({count, 4, 3, 8, 8}).contiguous();
  for (int64_t i = 0; i < count; ++i) batch.ids.push_back(std::to_string(i));
  return batch;
}

TEST(VideoMae, LossFallsWithMaskedReconstruction) {
  auto model = test::make<Model>("videomae", std::string("{") + kTiny + ", mask_ratio: 0.5, normalize_target: false}");
  Batch batch = random_clips(8);
  train::AdamW optimizer(model->parameters(), {0.9, 0.95, 1e-8, 0.0});
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    auto out = model->loss(batch);
    out.loss.backward();
    optimizer.step(3e-3);
    optimizer.zero_grad();
    (step == 0 ? first : last) = out.loss.item<double>();
  }
  EXPECT_LT(last, 0.5 * first);
}

TEST(VideoMae, ReconstructionKeepsVisibleTubeletsAndHasClipShape) {
  auto model = test::make<Model>("videomae", std::string("{") + kTiny + "}");
  Batch batch = random_clips(2);
  torch::NoGradGuard no_grad;
  auto out = model->predict(batch);
  ASSERT_EQ(out.at("prediction").sizes(), (std::vector<int64_t>{2, 4, 3, 8, 8}));
  // with 4 patches per frame and ratio 0.9, 3 are masked: at least one patch per frame is exact
  auto same = (out.at("prediction") == out.at("target")).all(2);  // [B, T, H, W]
  EXPECT_GT(same.sum().item<int64_t>(), 0);
  EXPECT_EQ(model->encode(batch).at("features").sizes(), (std::vector<int64_t>{2, 16}));
}

TEST(VideoMae, LoadsAStateDictInTheOfficialLayout) {
  test::TempDir dir;
  auto weights = dir.path() / "checkpoint.pth";
  // the official module tree (modeling_pretrain.py) spelled out independently of the C++ names
  std::string script = R"PY(
import sys, torch
def block(prefix, d):
    return {prefix + 'norm1.weight': [d], prefix + 'norm1.bias': [d],
            prefix + 'attn.q_bias': [d], prefix + 'attn.v_bias': [d], prefix + 'attn.qkv.weight': [3 * d, d],
            prefix + 'attn.proj.weight': [d, d], prefix + 'attn.proj.bias': [d],
            prefix + 'norm2.weight': [d], prefix + 'norm2.bias': [d],
            prefix + 'mlp.fc1.weight': [4 * d, d], prefix + 'mlp.fc1.bias': [4 * d],
            prefix + 'mlp.fc2.weight': [d, 4 * d], prefix + 'mlp.fc2.bias': [d]}
shapes = {'encoder.patch_embed.proj.weight': [16, 3, 2, 4, 4], 'encoder.patch_embed.proj.bias': [16],
          'encoder.norm.weight': [16], 'encoder.norm.bias': [16], 'encoder_to_decoder.weight': [8, 16],
          'mask_token': [1, 1, 8], 'decoder.norm.weight': [8], 'decoder.norm.bias': [8],
          'decoder.head.weight': [96, 8], 'decoder.head.bias': [96]}
shapes.update(block('encoder.blocks.0.', 16))
shapes.update(block('decoder.blocks.0.', 8))
torch.manual_seed(0)
state = {name: torch.randn(shape) for name, shape in shapes.items()}
state['encoder.blocks.0.attn.q_bias'] = torch.arange(16.0)
torch.save({'model': state, 'epoch': 799}, sys.argv[1])
)PY";
  dir.write("make_checkpoint.py", script);
  std::string command = std::string(WM_TEST_PYTHON) + " " + (dir.path() / "make_checkpoint.py").string() + " " +
                        weights.string();
  ASSERT_EQ(std::system(command.c_str()), 0);

  auto model = test::make<Model>("videomae", std::string("{") + kTiny + ", weights: " + weights.string() + "}");
  bool found = false;
  for (const auto& [name, tensor] : model->parameters())
    if (name == "encoder.blocks.0.attn.q_bias") {
      found = true;
      EXPECT_TRUE(torch::equal(tensor, torch::arange(16.0)));
    }
  EXPECT_TRUE(found);

  std::string wider = std::string("{") + kTiny + ", weights: " + weights.string() + "}";
  wider.replace(wider.find("dim: 16"), 7, "dim: 32");
  EXPECT_THAT(test::error_of([&] { test::make<Model>("videomae", wider); }),
              ::testing::HasSubstr("does not fit the model: "));
}

TEST(VideoMae, TubeMaskingHidesTheSamePatchesInEveryFrame) {
  auto model = test::make<Model>("videomae", std::string("{") + kTiny + ", mask_ratio: 0.5}");
  Batch batch = random_clips(3);
  torch::NoGradGuard no_grad;
  auto out = model->predict(batch);
  // a patch is exactly reproduced (visible) in frame pair 0 iff it is in frame pair 1
  auto exact = (out.at("prediction") == out.at("target")).all(2);  // [B, T, 8, 8]
  EXPECT_TRUE(torch::equal(exact.select(1, 0), exact.select(1, 2)));
}

}  // namespace
}  // namespace wm
