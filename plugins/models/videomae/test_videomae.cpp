#include <torch/torch.h>

#include "test_support.h"
#include "wm/model.h"
#include "engine/adamw.h"
#include "wm/io/checkpoint.h"

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

// a VideoMAE trained by wmhost, read with torch.load(weights_only=True) into the official module
// tree (modeling_pretrain.py, written out below in torch.nn.functional): the same features and the
// same reconstruction of the masked tubelets
TEST(VideoMae, AWmhostCheckpointRunsInTheOfficialPythonLayout) {
  test::TempDir dir;
  dir.write("exp.yaml", std::string(R"(experiment: videomae_export
seed: 2
threads: 1
data:
  train: {plugin: synthetic, params: {samples: 32, frames: 4, size: 8}}
model:
  plugin: videomae
  params: {)") + kTiny + R"(, mask_ratio: 0.5}
procedure:
  - train: {steps: 6, batch_size: 4, lr: 3.0e-3, warmup: 1, checkpoint_every: 6}
)");
  test::CliResult result = test::wmhost("run exp.yaml --out run", dir.path());
  ASSERT_EQ(result.code, 0) << result.err;

  auto model = test::make<Model>("videomae", std::string("{") + kTiny + ", mask_ratio: 0.5}");
  auto state = model->state();
  auto saved = io::with_prefix(io::load_tensors(dir.path() / "run/checkpoints/step-00000006.pt"), "model/");
  ASSERT_EQ(saved.size(), state.size());
  io::copy_by_name(saved, state, "checkpoint");
  model->set_training(false);
  Batch batch = random_clips(2);
  torch::NoGradGuard no_grad;
  torch::manual_seed(11);
  test::write_raw(dir.path() / "video", batch.at("video"));
  test::write_raw(dir.path() / "features", model->encode(batch).at("features"));
  test::write_raw(dir.path() / "prediction", model->predict(batch).at("prediction"));

  std::string out = test::run_python(dir, R"PY(
import sys, numpy as np, torch, torch.nn.functional as F
root = sys.argv[1]
checkpoint = torch.load(root + '/run/checkpoints/step-00000006.pt', weights_only=True)
sd = {name: value.double() for name, value in checkpoint['model'].items()}
raw = lambda name, shape: torch.from_numpy(np.fromfile(root + '/' + name, dtype=np.float64).reshape(shape))
video, features, prediction = raw('video', (2, 4, 3, 8, 8)), raw('features', (2, 16)), raw('prediction', (2, 4, 3, 8, 8))

def sinusoid(n, d):  # get_sinusoid_encoding_table
    table = np.array([[p / np.power(10000, 2 * (j // 2) / d) for j in range(d)] for p in range(n)])
    table[:, 0::2], table[:, 1::2] = np.sin(table[:, 0::2]), np.cos(table[:, 1::2])
    return torch.tensor(table).unsqueeze(0)

def block(x, p, heads):  # Block: pre-norm attention with q_bias/v_bias, then the MLP
    h = F.layer_norm(x, x.shape[-1:], sd[p + 'norm1.weight'], sd[p + 'norm1.bias'], 1e-6)
    B, N, C = h.shape
    bias = torch.cat([sd[p + 'attn.q_bias'], torch.zeros_like(sd[p + 'attn.v_bias']), sd[p + 'attn.v_bias']])
    q, k, v = F.linear(h, sd[p + 'attn.qkv.weight'], bias).reshape(B, N, 3, heads, -1).permute(2, 0, 3, 1, 4)
    attn = ((q * (C // heads) ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
    x = x + F.linear((attn @ v).transpose(1, 2).reshape(B, N, C), sd[p + 'attn.proj.weight'], sd[p + 'attn.proj.bias'])
    h = F.layer_norm(x, x.shape[-1:], sd[p + 'norm2.weight'], sd[p + 'norm2.bias'], 1e-6)
    h = F.linear(F.gelu(F.linear(h, sd[p + 'mlp.fc1.weight'], sd[p + 'mlp.fc1.bias'])), sd[p + 'mlp.fc2.weight'], sd[p + 'mlp.fc2.bias'])
    return x + h

def layer_norm(x, p):
    return F.layer_norm(x, x.shape[-1:], sd[p + 'weight'], sd[p + 'bias'], 1e-6)

clip = video.permute(0, 2, 1, 3, 4)  # [B, 3, T, H, W]
mean = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64).view(1, 3, 1, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64).view(1, 3, 1, 1, 1)
x = F.conv3d((clip - mean) / std, sd['encoder.patch_embed.proj.weight'], sd['encoder.patch_embed.proj.bias'], stride=(2, 4, 4))
x = x.flatten(2).transpose(1, 2) + sinusoid(8, 16)
encoded = layer_norm(block(x, 'encoder.blocks.0.', 2), 'encoder.norm.')
feature_error = (encoded.mean(1) - features).abs().max().item()

# the mask is where wmhost's reconstruction differs from the input; tube masking: 2 of 4 patches
tubelets = lambda c: c.reshape(2, 3, 2, 2, 2, 4, 2, 4).permute(0, 2, 4, 6, 3, 5, 7, 1).reshape(2, 8, 32, 3)
given, reconstructed = tubelets(clip), tubelets(prediction.permute(0, 2, 1, 3, 4))
mask = ~(given == reconstructed).flatten(2).all(2)
assert mask.sum(1).tolist() == [4, 4] and torch.equal(mask[:, :4], mask[:, 4:]), mask

visible = layer_norm(block(x[~mask].reshape(2, -1, 16), 'encoder.blocks.0.', 2), 'encoder.norm.')
pos = sinusoid(8, 8).expand(2, -1, -1)
full = torch.cat([F.linear(visible, sd['encoder_to_decoder.weight']) + pos[~mask].reshape(2, -1, 8),
                  sd['mask_token'] + pos[mask].reshape(2, -1, 8)], 1)
out = layer_norm(block(full, 'decoder.blocks.0.', 2)[:, -4:], 'decoder.norm.')
out = F.linear(out, sd['decoder.head.weight'], sd['decoder.head.bias']).view(2, 4, 32, 3)
pixels = given[mask].view(2, 4, 32, 3)  # de-normalised with the true tubelet statistics
out = (out * (pixels.var(2, unbiased=True, keepdim=True).sqrt() + 1e-6) + pixels.mean(2, keepdim=True)).clamp(0, 1)
prediction_error = (out - reconstructed[mask].view(2, 4, 32, 3)).abs().max().item()
print('features %.3g prediction %.3g' % (feature_error, prediction_error))
assert feature_error < 1e-5 and prediction_error < 1e-5
print('python ok')
)PY");
  EXPECT_THAT(out, ::testing::HasSubstr("python ok")) << out;
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
