// Transforms: exact crops and flips, actions kept consistent with resampled frames, colour ops
// equal to torchvision's, seeded draws, and YAML errors that point at the line.
#include "config_resolve.h"
#include "experiment.h"
#include "config_node.h"
#include "param_binding.h"
#include "test_support.h"
#include "engine/loader.h"
#include "engine/transforms.h"

namespace wm {
namespace {

using ::testing::HasSubstr;
using test::error_of;

// a pipeline from YAML, as the host builds it for data.train
std::shared_ptr<const TransformPipeline> pipeline(const std::string& transforms_yaml) {
  ConfigNode root = parse_yaml(R"(
experiment: t
data:
  train: {plugin: synthetic, params: {samples: 4}, transforms: )" + transforms_yaml + R"(}
procedure: [{evaluate: {data: train}}]
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
)", "exp.yaml");
  interpolate(root);
  return validate_experiment(root, test::plugins()).data.at("train").transforms;
}

std::string validation_error(const std::string& transforms_yaml) {
  return error_of([&] { pipeline(transforms_yaml); });
}

// frame t, channel c, pixel (y, x) holds 1000 t + 100 c + 10 y + x (as float)
Sample coded_clip(int64_t frames, int64_t height, int64_t width) {
  auto t = at::arange(frames, at::kFloat).view({-1, 1, 1, 1});
  auto c = at::arange(3, at::kFloat).view({1, -1, 1, 1});
  auto y = at::arange(height, at::kFloat).view({1, 1, -1, 1});
  auto x = at::arange(width, at::kFloat).view({1, 1, 1, -1});
  Sample sample;
  sample.id = "coded";
  sample.tensors["video"] = t * 1000 + c * 100 + y * 10 + x;
  return sample;
}

//---- geometry ----

TEST(Transforms, CenterCropTakesTorchvisionsOffsets) {
  EXPECT_EQ(vision::center_crop_offset(10, 11, 4, 4), (std::pair<int64_t, int64_t>{3, 4}));  // 3.5 -> 4
  EXPECT_EQ(vision::center_crop_offset(13, 13, 4, 4), (std::pair<int64_t, int64_t>{4, 4}));  // 4.5 -> 4
  Sample sample = coded_clip(2, 10, 11);
  pipeline("[{center_crop: {size: [4, 4]}}]")->apply(sample, 0);
  const auto& video = sample.tensors.at("video");
  EXPECT_EQ(video.sizes(), (at::IntArrayRef{2, 3, 4, 4}));
  EXPECT_EQ(video[1][2][0][0].item<float>(), 1000 + 200 + 30 + 4);
}

TEST(Transforms, RandomCropIsOnePlacePerClipFixedBySeed) {
  auto crop = pipeline("[{random_crop: {size: [3]}}]");
  std::set<std::pair<int64_t, int64_t>> corners;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Sample sample = coded_clip(3, 8, 8);
    crop->apply(sample, seed);
    const auto& video = sample.tensors.at("video");
    ASSERT_EQ(video.sizes(), (at::IntArrayRef{3, 3, 3, 3}));
    auto corner = static_cast<int64_t>(video[0][0][0][0].item<float>());
    for (int64_t t = 0; t < 3; ++t)
      EXPECT_EQ(video[t][1][0][0].item<float>(), 1000 * t + 100 + corner) << "same crop in every frame";
    corners.insert({corner / 10, corner % 10});
    Sample again = coded_clip(3, 8, 8);
    crop->apply(again, seed);
    EXPECT_TRUE(again.tensors.at("video").equal(video)) << "the seed fixes the crop";
  }
  EXPECT_GT(corners.size(), 15u);
  for (auto [top, left] : corners) EXPECT_TRUE(top >= 0 && top <= 5 && left >= 0 && left <= 5);
}

TEST(Transforms, ResizeMatchesTorchInterpolate) {
  test::TempDir dir;
  auto clip = at::rand({2, 3, 12, 16}, at::kDouble).to(at::kFloat);
  test::write_raw(dir.path() / "clip.raw", clip);
  test::run_python(dir, R"(
import sys, numpy as np, torch, torch.nn.functional as F
d = sys.argv[1]
x = torch.from_numpy(np.fromfile(d + '/clip.raw').reshape(2, 3, 12, 16)).float()
F.interpolate(x, size=(5, 7), mode='bilinear', align_corners=False, antialias=True).double().numpy().tofile(d + '/aa.raw')
F.interpolate(x, size=(5, 7), mode='bilinear', align_corners=False, antialias=False).double().numpy().tofile(d + '/plain.raw')
F.interpolate(x, size=(20, 30), mode='bilinear', align_corners=False, antialias=True).double().numpy().tofile(d + '/up.raw')
)");
  auto close = [](const at::Tensor& a, const at::Tensor& b) { return (a.to(at::kDouble) - b).abs().max().item<double>(); };
  EXPECT_LT(close(vision::resize(clip, 5, 7, true), test::read_raw(dir.path() / "aa.raw", {2, 3, 5, 7})), 1e-6);
  EXPECT_LT(close(vision::resize(clip, 5, 7, false), test::read_raw(dir.path() / "plain.raw", {2, 3, 5, 7})), 1e-6);
  EXPECT_LT(close(vision::resize(clip, 20, 30, true), test::read_raw(dir.path() / "up.raw", {2, 3, 20, 30})), 1e-6);
  // [side]: the shorter side becomes side, the longer one keeps the aspect (truncated)
  Sample sample = coded_clip(1, 12, 16);
  pipeline("[{resize: {size: [6]}}]")->apply(sample, 0);
  EXPECT_EQ(sample.tensors.at("video").sizes(), (at::IntArrayRef{1, 3, 6, 8}));
}

//---- flips and actions ----

TEST(Transforms, FlipMirrorsFramesActionsAndState) {
  Sample sample = coded_clip(3, 4, 5);
  sample.tensors["actions"] = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({2, 2});
  sample.tensors["state"] = at::tensor({0.25f, 0.5f, 0.1f, 0.2f, 0.75f, 0.5f}).view({3, 2});
  Sample original = sample;
  original.tensors = {};
  for (auto& [key, value] : sample.tensors) original.tensors[key] = value.clone();
  pipeline("[{hflip: {p: 1.0, action_x: [0], state_x: [0]}}]")->apply(sample, 0);
  EXPECT_TRUE(sample.tensors.at("video").equal(original.tensors.at("video").flip({3})));
  EXPECT_TRUE(sample.tensors.at("actions").equal(at::tensor({-1.0f, 2.0f, -3.0f, 4.0f}).view({2, 2})));
  EXPECT_TRUE(sample.tensors.at("state").allclose(at::tensor({0.75f, 0.5f, 0.9f, 0.2f, 0.25f, 0.5f}).view({3, 2})));
  Sample untouched = coded_clip(3, 4, 5);
  pipeline("[{hflip: {p: 0.0, frames_only: true}}]")->apply(untouched, 0);
  EXPECT_TRUE(untouched.tensors.at("video").equal(coded_clip(3, 4, 5).tensors.at("video")));
}

TEST(Transforms, FlipRefusesActionsItWouldNotMirror) {
  auto flip = pipeline("[{hflip: {}}]");
  std::vector<KeySpec> keys = {{"video", "uint8", "", ""}, {"actions", "float32", "", ""}};
  std::string error = error_of([&] { flip->check_keys(keys); });
  EXPECT_THAT(error, HasSubstr("exp.yaml:4:"));
  EXPECT_THAT(error, HasSubstr("data.train.transforms.0.hflip"));
  EXPECT_THAT(error, HasSubstr("action_x"));
  EXPECT_EQ(error_of([&] { pipeline("[{hflip: {frames_only: true}}]")->check_keys(keys); }), "");
  EXPECT_THAT(error_of([&] { pipeline("[{hflip: {action_x: [0]}}]")->check_keys(
                             {{"video", "", "", ""}, {"state", "", "", ""}}); }),
              HasSubstr("state_x"));
}

//---- time ----

// frame t shows the value x(t) = sum of the actions before it: any consistent resampling keeps
// "actions between kept frames = change of the frames' value"
Sample moving_clip(int64_t frames) {
  auto steps = at::arange(1, frames, at::kFloat).remainder(3).add(1);  // 2, 3, 1, 2, 3, ...
  auto position = at::cat({at::zeros({1}), steps.cumsum(0)});
  Sample sample;
  sample.id = "moving";
  sample.tensors["video"] = position.view({-1, 1, 1, 1}).expand({frames, 3, 2, 2}).contiguous();
  sample.tensors["actions"] = at::stack({steps, at::zeros_like(steps)}, 1);
  sample.tensors["state"] = position.view({-1, 1});
  return sample;
}

void expect_consistent(const Sample& sample, int64_t frames) {
  auto value = sample.tensors.at("video").select(1, 0).select(1, 0).select(1, 0);  // [T]
  ASSERT_EQ(value.size(0), frames);
  ASSERT_EQ(sample.tensors.at("actions").size(0), frames - 1);
  EXPECT_TRUE(sample.tensors.at("actions").select(1, 0).equal(value.slice(0, 1) - value.slice(0, 0, -1)));
  EXPECT_TRUE(sample.tensors.at("state").view({-1}).equal(value));
}

TEST(Transforms, SpeedChangeKeepsActionsConsistentWithFrames) {
  auto speed = pipeline("[{speed: {min: 0.5, max: 1.5, frames: 7}}]");
  std::set<int64_t> lasts;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    Sample sample = moving_clip(12);
    speed->apply(sample, seed);
    expect_consistent(sample, 7);
    lasts.insert(static_cast<int64_t>(sample.tensors.at("state")[6].item<float>()));
  }
  EXPECT_GT(lasts.size(), 5u) << "speeds and starts vary with the seed";
  // exactly: speed 2 from the first frame keeps frames 0, 2, 4, 6
  Sample fast = moving_clip(8);
  pipeline("[{speed: {min: 2, max: 2, frames: 4, start: first}}]")->apply(fast, 0);
  EXPECT_TRUE(fast.tensors.at("state").view({-1}).equal(moving_clip(8).tensors.at("state").view({-1}).index_select(
      0, at::tensor({0, 2, 4, 6}, at::kLong))));
  Sample short_clip = moving_clip(5);
  EXPECT_THAT(error_of([&] { pipeline("[{speed: {min: 2, max: 2, frames: 4}}]")->apply(short_clip, 0); }),
              HasSubstr("need clips of 7 frames; sample 'moving' has 5"));
}

TEST(Transforms, SlowMotionRepeatsFramesWithZeroOrHeldActions) {
  Sample slow = moving_clip(6);
  pipeline("[{speed: {min: 0.5, max: 0.5, frames: 4, start: first}}]")->apply(slow, 0);  // frames 0,1,1,2
  expect_consistent(slow, 4);
  EXPECT_EQ(slow.tensors.at("actions")[1][0].item<float>(), 0.0f);
  Sample held = moving_clip(6);
  pipeline("[{speed: {min: 0.5, max: 0.5, frames: 4, start: first, actions: mean}}]")->apply(held, 0);
  EXPECT_EQ(held.tensors.at("actions")[1][0].item<float>(), moving_clip(6).tensors.at("actions")[1][0].item<float>());
}

TEST(Transforms, FrameSkipKeepsEveryKthFrameAndSumsActions) {
  Sample sample = moving_clip(10);
  pipeline("[{frame_skip: {step: 3}}]")->apply(sample, 0);
  expect_consistent(sample, 4);
  EXPECT_TRUE(sample.tensors.at("state").view({-1}).equal(
      moving_clip(10).tensors.at("state").view({-1}).index_select(0, at::tensor({0, 3, 6, 9}, at::kLong))));
  Sample mean = moving_clip(10);
  pipeline("[{frame_skip: {step: 3, frames: 2, actions: mean}}]")->apply(mean, 0);
  EXPECT_FLOAT_EQ(mean.tensors.at("actions")[0][0].item<float>(), (2 + 3 + 1) / 3.0f);
}

//---- colour ----

TEST(Transforms, ColourOpsEqualTorchvisions) {
  test::TempDir dir;
  auto clip = at::rand({2, 3, 9, 11}, at::kDouble).to(at::kFloat);
  clip[0][0][0][0] = clip[0][1][0][0] = clip[0][2][0][0] = 0.5;  // a grey pixel (no hue)
  test::write_raw(dir.path() / "clip.raw", clip);
  test::run_python(dir, R"(
import sys, numpy as np, torch, torchvision.transforms.functional as F
d = sys.argv[1]
x = torch.from_numpy(np.fromfile(d + '/clip.raw').reshape(2, 3, 9, 11)).float()
out = {'brightness': F.adjust_brightness(x, 1.3), 'contrast': F.adjust_contrast(x, 0.6),
       'saturation': F.adjust_saturation(x, 1.7), 'hue': F.adjust_hue(x, 0.2),
       'hue_neg': F.adjust_hue(x, -0.45), 'norm': F.normalize(x, [0.4, 0.5, 0.6], [0.2, 0.3, 0.25])}
for name, value in out.items(): value.double().numpy().tofile(d + '/' + name + '.raw')
)");
  auto expected = [&](const char* name) { return test::read_raw(dir.path() / (std::string(name) + ".raw"), {2, 3, 9, 11}); };
  auto diff = [](const at::Tensor& a, const at::Tensor& b) { return (a.to(at::kDouble) - b).abs().max().item<double>(); };
  EXPECT_LT(diff(vision::adjust_brightness(clip, 1.3), expected("brightness")), 1e-6);
  EXPECT_LT(diff(vision::adjust_contrast(clip, 0.6), expected("contrast")), 1e-6);
  EXPECT_LT(diff(vision::adjust_saturation(clip, 1.7), expected("saturation")), 1e-6);
  EXPECT_LT(diff(vision::adjust_hue(clip, 0.2), expected("hue")), 1e-5);
  EXPECT_LT(diff(vision::adjust_hue(clip, -0.45), expected("hue_neg")), 1e-5);
  EXPECT_LT(diff(vision::normalize(clip, {0.4, 0.5, 0.6}, {0.2, 0.3, 0.25}), expected("norm")), 1e-6);
}

TEST(Transforms, ColorJitterDrawsOneFactorPerClip) {
  auto jitter = pipeline("[{color_jitter: {brightness: 0.4}}]");
  std::set<float> factors;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Sample sample;
    sample.id = "grey";
    sample.tensors["video"] = at::full({3, 3, 2, 2}, 100, at::kByte);
    jitter->apply(sample, seed);
    const auto& video = sample.tensors.at("video");
    float factor = video[0][0][0][0].item<float>() / (100.0f / 255.0f);
    EXPECT_TRUE(video.allclose(at::full_like(video, 100.0f / 255.0f * factor))) << "one factor per clip";
    EXPECT_GE(factor, 0.6f - 1e-5f);
    EXPECT_LE(factor, 1.4f + 1e-5f);
    factors.insert(factor);
  }
  EXPECT_GT(factors.size(), 10u);
}

//---- YAML ----

TEST(Transforms, YamlErrorsPointAtTheLine) {
  EXPECT_THAT(validation_error("[{hflp: {}}]"), HasSubstr("unknown transform 'hflp'; did you mean 'hflip'?"));
  EXPECT_THAT(validation_error("[{hflip: {prob: 0.5}}]"), HasSubstr("data.train.transforms.0.hflip.prob"));
  std::string crop = validation_error("[{random_crop: {size: [1, 2, 3]}}]");
  EXPECT_THAT(crop, HasSubstr("exp.yaml:4:"));
  EXPECT_THAT(crop, HasSubstr("data.train.transforms.0.random_crop.size: give [height, width] or [side]"));
  EXPECT_THAT(validation_error("[{speed: {min: 1.3, max: 1.1, frames: 4}}]"), HasSubstr("speed.max: must be at least min"));
  EXPECT_THAT(validation_error("[{speed: {}}]"), HasSubstr("frames"));
  EXPECT_THAT(validation_error("{resize: {size: [4]}}"), HasSubstr("expected a list of steps"));
}

}  // namespace
}  // namespace wm
