// Batch MixUp / CutMix (spec D5): p 0 changes nothing, the CutMix box has the exact area its
// lambda says, lambda ~ Beta(alpha, alpha) as scipy has it, and any worker count mixes the same.
#include <ATen/ATen.h>

#include "config_node.h"
#include "engine/batch_transforms.h"
#include "engine/loader.h"
#include "test_support.h"
#include "wm/error.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

BatchTransforms steps_of(const std::string& yaml) {
  ConfigNode node = parse_yaml(yaml, "exp.yaml");
  return *bind_batch_transforms(&node, "data.train.batch_transforms");
}

// clip i is the constant (i + 1) / 100 in every pixel: a pasted pixel tells whose it is
Batch constant_clips(int64_t clips, int64_t height, int64_t width) {
  Batch batch;
  auto levels = (at::arange(clips, at::kFloat) + 1) / 100;
  batch.tensors["video"] = levels.view({clips, 1, 1, 1, 1}).expand({clips, 3, 3, height, width}).contiguous();
  batch.tensors["actions"] = at::randn({clips, 2, 2});
  batch.tensors["action_label"] = at::arange(clips, at::kLong);
  for (int64_t i = 0; i < clips; ++i) batch.ids.push_back(std::to_string(i)), batch.sources.push_back("");
  return batch;
}

TEST(BatchTransforms, PZeroLeavesTheBatchBitIdentical) {
  Batch batch = test::batch_of("synthetic", "{size: 16, frames: 4, objects: 2}", 6), mixed = batch;
  steps_of("[{mixup: {alpha: 0.2, p: 0}}, {cutmix: {alpha: 1.0, p: 0}}]").apply(mixed, 7);
  for (const auto& [key, tensor] : batch.tensors) EXPECT_TRUE(at::equal(tensor, mixed.at(key))) << key;
  EXPECT_TRUE(at::equal(mixed.at("mix_lambda"), at::ones({6})));
  EXPECT_TRUE(at::equal(mixed.at("mix_index"), at::arange(6, at::kLong)));
}

TEST(BatchTransforms, TheCutMixBoxIsOneExactAreaInEveryFrame) {
  auto cutmix = steps_of("[{cutmix: {alpha: 1.0}}]");
  int checked = 0;
  for (auto [height, width] : {std::pair<int64_t, int64_t>{32, 32}, {24, 40}, {7, 5}}) {
    for (uint64_t seed = 0; seed < 100; ++seed) {
      Batch batch = constant_clips(4, height, width), original = batch;
      cutmix.apply(batch, seed);
      auto lambda = batch.at("mix_lambda"), index = batch.at("mix_index");
      for (int64_t i = 0; i < 4; ++i) {
        int64_t j = index[i].item<int64_t>();
        EXPECT_FLOAT_EQ(lambda[i].item<float>(), lambda[0].item<float>());
        if (j == i) continue;
        auto pasted = batch.at("video")[i].eq(original.at("video")[j][0][0][0][0]);  // [T, C, H, W]
        auto first = pasted[0][0];
        for (int64_t t = 0; t < 3; ++t)
          for (int64_t c = 0; c < 3; ++c) ASSERT_TRUE(at::equal(pasted[t][c], first)) << "frame " << t;
        double mix = lambda[i].item<double>();
        EXPECT_EQ(first.sum().item<int64_t>(), std::lround((1 - mix) * height * width));
        // the actions are blended with the same lambda
        auto expected = original.at("actions")[i] * mix + original.at("actions")[j] * (1 - mix);
        EXPECT_TRUE(at::allclose(batch.at("actions")[i], expected, 1e-5, 1e-6));
        EXPECT_EQ(batch.at("action_label")[i].item<int64_t>(), i);  // labels stay
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 500);
}

TEST(BatchTransforms, MixUpLambdaAveragesOneHalfForAlphaOne) {
  auto mixup = steps_of("[{mixup: {alpha: 1.0}}]");
  double sum = 0;
  for (int64_t k = 0; k < 10000; ++k) {
    Batch batch = constant_clips(2, 1, 1);
    mixup.apply(batch, batch_seed(3, k / 100, k % 100));
    sum += batch.at("mix_lambda")[0].item<double>();
    if (k == 0) {  // a blend of whole clips
      double mix = batch.at("mix_lambda")[0].item<double>();
      int64_t j = batch.at("mix_index")[0].item<int64_t>();
      EXPECT_NEAR(batch.at("video")[0][0][0][0][0].item<double>(), mix * 0.01 + (1 - mix) * (j + 1) / 100.0, 1e-6);
    }
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.01);
}

TEST(BatchTransforms, BetaDrawsMatchScipy) {
  test::TempDir dir;
  for (double alpha : {0.2, 1.0, 2.5}) {
    TransformRandom random(11);
    auto draws = at::empty({20000}, at::kDouble);
    for (int64_t i = 0; i < 20000; ++i) draws[i] = beta_draw(random, alpha, alpha);
    test::write_raw(dir.path() / "draws.f64", draws);
    std::string out = test::run_python(dir, R"(
import sys, numpy as np, scipy.stats as st
x = np.fromfile(sys.argv[1] + '/draws.f64'); a = float(sys.argv[2])
print(st.kstest(x, st.beta(a, a).cdf).pvalue))", std::to_string(alpha));
    EXPECT_GT(std::stod(out), 1e-3) << "alpha " << alpha << ": KS p-value " << out;
  }
}

TEST(BatchTransforms, AnyWorkerCountMixesTheSameBatches) {
  auto data = test::make<Dataset>("synthetic", "{samples: 40, size: 16, frames: 4, objects: 2}");
  auto steps = std::make_shared<BatchTransforms>(steps_of("[{mixup: {alpha: 0.4, p: 0.5}}, {cutmix: {p: 0.5}}]"));
  auto batches = [&](int64_t workers) {
    LoaderOptions options;
    options.batch_size = 8, options.seed = 5, options.workers = workers, options.batch_transforms = steps;
    Loader loader(*data, options);
    std::vector<Batch> out;
    for (int i = 0; i < 12; ++i) out.push_back(*loader.next());
    return out;
  };
  auto serial = batches(0), threaded = batches(3);
  int mixed = 0;
  for (size_t b = 0; b < serial.size(); ++b) {
    for (const auto& [key, tensor] : serial[b].tensors) EXPECT_TRUE(at::equal(tensor, threaded[b].at(key))) << key;
    mixed += serial[b].at("mix_lambda")[0].item<float>() < 1;
  }
  EXPECT_GT(mixed, 3);
  EXPECT_LT(mixed, 12);
}

TEST(BatchTransforms, AnUnknownStepNamesTheKnownOnes) {
  EXPECT_THAT(test::error_of([] { steps_of("[{mixer: {}}]"); }), HasSubstr("batch transforms: mixup, cutmix"));
  EXPECT_THAT(test::error_of([] { steps_of("[{cutmix: {p: 2}}]"); }), HasSubstr("data.train.batch_transforms.0.cutmix"));
}

}  // namespace
}  // namespace wm
