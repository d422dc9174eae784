#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_support.h"
#include "frechet_distance.h"
#include "wm/metric.h"

namespace wm {
namespace {

using test::run_python;
using test::write_raw;
using test::read_raw;

//---- the Fréchet distance ----

TEST(FrechetDistance, IsZeroBetweenASetAndItself) {
  eval::FrechetStatistics stats;
  stats.add(torch::randn({600, 40}) * 3 + 1);
  EXPECT_NEAR(eval::frechet_distance(stats, stats), 0.0, 1e-9);
}

TEST(FrechetDistance, MatchesTheClosedFormForCommutingCovariances) {
  // N(mu1, diag(a)) vs N(mu2, diag(b)): |mu1 - mu2|^2 + sum(a + b - 2 sqrt(a b))
  auto f64 = torch::kFloat64;
  auto a = torch::tensor({1.0, 4.0, 9.0}, f64), b = torch::tensor({4.0, 1.0, 9.0}, f64);
  auto mu1 = torch::tensor({0.0, 1.0, 2.0}, f64), mu2 = torch::tensor({1.0, 1.0, 0.0}, f64);
  double expected = 5.0 + (1 + 4 - 4) + (4 + 1 - 4) + (9 + 9 - 18);
  EXPECT_NEAR(eval::frechet_distance(mu1, torch::diag(a), mu2, torch::diag(b)), expected, 1e-12);
  // a rotation of both covariances changes nothing
  auto q = std::get<0>(at::linalg_qr(torch::randn({3, 3}, torch::kFloat64)));
  double rotated = eval::frechet_distance(mu1, q.matmul(torch::diag(a)).matmul(q.t()), mu2,
                                          q.matmul(torch::diag(b)).matmul(q.t()));
  EXPECT_NEAR(rotated, expected, 1e-10);
}

TEST(FrechetDistance, StreamingBatchesEqualOneBatch) {
  auto features = torch::randn({100, 7});
  eval::FrechetStatistics whole, first, second;
  whole.add(features);
  first.add(features.slice(0, 0, 30));
  second.add(features.slice(0, 30));
  first.merge(second);
  EXPECT_EQ(first.count(), 100);
  EXPECT_TRUE(torch::allclose(first.covariance(), whole.covariance(), 0, 1e-12));
  auto x = features.to(torch::kFloat64);
  auto centred = x - x.mean(0);
  EXPECT_TRUE(torch::allclose(whole.covariance(true), centred.t().matmul(centred) / 99, 0, 1e-12));
}

constexpr const char* kScipySqrtm = R"py(
import sys, numpy as np, scipy.linalg
folder = sys.argv[1]
a = np.fromfile(folder + "/a.raw").reshape(500, 64)
b = np.fromfile(folder + "/b.raw").reshape(700, 64)
for bias in (True, False):
    s1, s2 = np.cov(a, rowvar=False, bias=bias), np.cov(b, rowvar=False, bias=bias)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    print(repr(float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1 + s2 - 2 * root))))
)py";

TEST(FrechetDistance, EqualsScipySqrtmOnRandomFeatures) {
  test::TempDir dir;
  torch::manual_seed(1);
  auto mixing = torch::randn({64, 64}, torch::kFloat64) / 8;
  auto a = torch::randn({500, 64}, torch::kFloat64).matmul(mixing);
  auto b = torch::randn({700, 64}, torch::kFloat64).matmul(mixing.t()) + 0.3;
  write_raw(dir.path() / "a.raw", a), write_raw(dir.path() / "b.raw", b);
  std::istringstream reference(run_python(dir, kScipySqrtm));
  double biased, unbiased;
  reference >> biased >> unbiased;
  eval::FrechetStatistics sa, sb;
  sa.add(a), sb.add(b);
  EXPECT_NEAR(eval::frechet_distance(sa, sb), biased, 1e-9 * biased);
  EXPECT_NEAR(eval::frechet_distance(sa.mean(), sa.covariance(true), sb.mean(), sb.covariance(true)),
              unbiased, 1e-9 * unbiased);
}

//---- the metric with a detector built here ----

// A stand-in for stylegan-v's i3d_torchscript.pt with the same call: forward(x, rescale, resize,
// return_features) on [B, 3, T, H, W]. It computes the reference FVD of every preprocessing mode.
constexpr const char* kDetectorAndReference = R"py(
import math, sys, numpy as np, scipy.linalg, torch
import torch.nn.functional as F
folder = sys.argv[1]
torch.manual_seed(0)

class Detector(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv3d(3, 8, 3, stride=2)
        self.head = torch.nn.Linear(8, 12)
    def forward(self, x, rescale: bool = False, resize: bool = False, return_features: bool = False):
        if rescale:
            x = x.float() / 127.5 - 1
        if resize:  # the real detector resizes to 224; 40 keeps the test fast
            x = F.interpolate(x, size=(x.shape[2], 40, 40), mode="trilinear", align_corners=False)
        h = torch.relu(self.conv(x)).mean(dim=(3, 4))        # [B, 8, T']
        logits = self.head(h.transpose(1, 2)).mean(dim=1)   # [B, 12]
        return logits if return_features else torch.softmax(logits, 1)

detector = torch.jit.script(Detector().eval())
detector.save(folder + "/detector.pt")
videos = {k: torch.from_numpy(np.fromfile(f"{folder}/{k}.raw").reshape(24, 12, 3, 20, 28)).float()
          for k in ("fake", "real")}

def preprocess(video, mode, resolution=32):   # video: [T, 3, H, W] in [0, 1] -> [3, T', r, r]
    video = video[:10]
    if mode == "detector":
        return (video * 255).round().clamp(0, 255).to(torch.uint8).permute(1, 0, 2, 3)
    h, w = video.shape[-2:]
    if mode == "stretch":
        size = (resolution, resolution)
    else:
        scale = resolution / min(h, w)
        size = (resolution, math.ceil(w * scale)) if h < w else (math.ceil(h * scale), resolution)
    video = F.interpolate(video, size=size, mode="bilinear", align_corners=False)
    top, left = (video.shape[2] - resolution) // 2, (video.shape[3] - resolution) // 2
    video = video[:, :, top:top + resolution, left:left + resolution]
    return (video * 2 - 1).permute(1, 0, 2, 3)

for mode in ("stretch", "short_side_crop", "detector"):
    feats = {}
    for k, v in videos.items():
        x = torch.stack([preprocess(clip, mode) for clip in v])
        with torch.no_grad():
            feats[k] = detector(x, rescale=mode == "detector", resize=mode == "detector",
                                return_features=True).double().numpy()
    s1, s2 = (np.cov(feats[k], rowvar=False, bias=True) for k in ("fake", "real"))
    mean = ((feats["fake"].mean(0) - feats["real"].mean(0)) ** 2).sum()
    print(repr(float(mean + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real))))
)py";

struct DetectorFixture {
  test::TempDir dir;
  torch::Tensor fake, real;
  std::map<std::string, double> reference;
  DetectorFixture() {
    torch::manual_seed(2);
    real = torch::rand({24, 12, 3, 20, 28});
    fake = (real.roll(1, 3) + 0.2 * torch::randn_like(real)).clamp(0, 1);
    write_raw(dir.path() / "fake.raw", fake), write_raw(dir.path() / "real.raw", real);
    std::istringstream values(run_python(dir, kDetectorAndReference));
    values >> reference["stretch"] >> reference["short_side_crop"] >> reference["detector"];
  }
  std::string params(const std::string& mode) const {
    return "{detector: " + (dir.path() / "detector.pt").string() + ", preprocess: " + mode +
           ", frames: 10, resolution: 32, batch_size: 5}";
  }
};

TEST(Fvd, EqualsThePythonReferenceInEveryPreprocessingMode) {
  DetectorFixture fixture;
  for (std::string mode : {"stretch", "short_side_crop", "detector"}) {
    auto metric = test::make<Metric>("fvd", fixture.params(mode));
    metric->reset();
    // two batches: the statistics stream
    for (int64_t start : {0, 11})
      metric->update({{"prediction", fixture.fake.slice(0, start, start == 0 ? 11 : 24)},
                      {"target", fixture.real.slice(0, start, start == 0 ? 11 : 24)}});
    auto values = metric->compute();
    EXPECT_NEAR(values.at("fvd"), fixture.reference.at(mode), 1e-4 * fixture.reference.at(mode))
        << mode;
    EXPECT_GT(values.at("fvd"), 0.0) << mode;
    EXPECT_EQ(values.at("fvd_clips_generated"), 24);
    EXPECT_EQ(values.at("fvd_clips_real"), 24);
  }
  EXPECT_NE(fixture.reference.at("stretch"), fixture.reference.at("short_side_crop"));
}

TEST(Fvd, MergedStatesEqualOneInstanceSeeingEverything) {
  DetectorFixture fixture;
  auto whole = test::make<Metric>("fvd", fixture.params("stretch"));
  auto left = test::make<Metric>("fvd", fixture.params("stretch"));
  auto right = test::make<Metric>("fvd", fixture.params("stretch"));
  whole->reset(), left->reset(), right->reset();
  whole->update({{"prediction", fixture.fake}, {"target", fixture.real}});
  left->update({{"prediction", fixture.fake.slice(0, 0, 9)}, {"target", fixture.real.slice(0, 0, 9)}});
  right->update({{"prediction", fixture.fake.slice(0, 9)}, {"target", fixture.real.slice(0, 9)}});
  left->merge(*right);
  EXPECT_NEAR(left->compute().at("fvd"), whole->compute().at("fvd"), 1e-6 * whole->compute().at("fvd"));
}

TEST(Fvd, ShortClipsAreRefusedWithTheFix) {
  DetectorFixture fixture;
  auto metric = test::make<Metric>("fvd", fixture.params("stretch"));
  auto clips = fixture.real.slice(1, 0, 6);
  EXPECT_THAT(test::error_of([&] { metric->update({{"prediction", clips}, {"target", clips}}); }),
              ::testing::HasSubstr("has 6 frames, fewer than fvd.params.frames = 10"));
}

TEST(Fvd, MissingDetectorSaysWhichFileToGetAndWhere) {
  test::TempDir weights;
  setenv("WMHOST_WEIGHTS", weights.path().c_str(), 1);
  std::string error = test::error_of([] { test::make<Metric>("fvd", "{preprocess: stretch}"); });
  unsetenv("WMHOST_WEIGHTS");
  EXPECT_THAT(error, ::testing::HasSubstr("Download i3d_torchscript.pt"));
  EXPECT_THAT(error, ::testing::HasSubstr((weights.path() / "fvd").string()));
  EXPECT_THAT(error, ::testing::HasSubstr("fvd.params.detector"));
}

TEST(Fvd, PreprocessingModeMustBeExplicit) {
  EXPECT_THAT(test::error_of([] { test::make<Metric>("fvd", "{}"); }),
              ::testing::HasSubstr("preprocess"));
}

TEST(Fvd, PassesTheContractChecks) {
  DetectorFixture fixture;
  torch::manual_seed(3);
  auto clips = [] { return torch::rand({3, 10, 3, 20, 28}); };
  EXPECT_THAT(testing::metric_conformance("fvd", fixture.params("stretch"),
                                          {{"prediction", clips()}, {"target", clips()}},
                                          {{"prediction", clips()}, {"target", clips()}}),
              ::testing::IsEmpty());
}

}  // namespace
}  // namespace wm
