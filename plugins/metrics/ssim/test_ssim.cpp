#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "test_support.h"
#include "wm/metric.h"

namespace wm {
namespace {

using test::run_python;
using test::write_raw;

// the SSIM of Wang et al. written out in numpy/scipy: 2-D Gaussian window, 'valid' correlation
constexpr const char* kReferenceSsim = R"py(
import sys, numpy as np
from scipy.signal import correlate2d
folder = sys.argv[1]
frames, channels, height, width = 6, 3, 24, 20
x = np.fromfile(folder + "/x.raw").reshape(frames, channels, height, width)
y = np.fromfile(folder + "/y.raw").reshape(frames, channels, height, width)
g = np.exp(-(np.arange(11) - 5.0) ** 2 / (2 * 1.5 ** 2)); g /= g.sum()
w = np.outer(g, g)
f = lambda image: correlate2d(image, w, mode="valid")
c1, c2 = (0.01 * 1.0) ** 2, (0.03 * 1.0) ** 2
scores = []
for i in range(frames):
    maps = []
    for c in range(channels):
        a, b = x[i, c], y[i, c]
        ma, mb = f(a), f(b)
        va, vb, cab = f(a * a) - ma ** 2, f(b * b) - mb ** 2, f(a * b) - ma * mb
        maps.append(((2 * ma * mb + c1) * (2 * cab + c2)) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2)))
    scores.append(np.mean(maps))
print(repr(float(np.mean(scores))))
)py";

TEST(Ssim, EqualsANumpyReferenceOfWangEtAl) {
  test::TempDir dir;
  torch::manual_seed(3);
  auto target = torch::rand({2, 3, 3, 24, 20});
  auto prediction = (target + 0.1 * torch::randn({2, 3, 3, 24, 20})).clamp(0, 1);
  write_raw(dir.path() / "x.raw", prediction);
  write_raw(dir.path() / "y.raw", target);
  double reference = std::stod(run_python(dir, kReferenceSsim));
  auto metric = test::make<Metric>("ssim");
  metric->reset();
  metric->update({{"prediction", prediction}, {"target", target}});
  double ssim = metric->compute().at("ssim");
  EXPECT_NEAR(ssim, reference, 1e-6);
  EXPECT_LT(ssim, 0.95);  // the noise is visible: not a degenerate 1
}

TEST(Ssim, IdenticalFramesScoreOneAndInvertedFramesScoreBelowZero) {
  auto metric = test::make<Metric>("ssim");
  auto frames = torch::rand({1, 2, 3, 16, 16});
  metric->reset();
  metric->update({{"prediction", frames}, {"target", frames}});
  EXPECT_NEAR(metric->compute().at("ssim"), 1.0, 1e-12);
  metric->reset();
  metric->update({{"prediction", 1 - frames}, {"target", frames}});
  EXPECT_LT(metric->compute().at("ssim"), 0.0);
}

TEST(Ssim, MergedStatesEqualOneInstanceSeeingEverything) {
  auto whole = test::make<Metric>("ssim"), left = test::make<Metric>("ssim"),
       right = test::make<Metric>("ssim");
  auto prediction = torch::rand({3, 2, 3, 12, 12}), target = torch::rand({3, 2, 3, 12, 12});
  whole->reset(), left->reset(), right->reset();
  whole->update({{"prediction", prediction}, {"target", target}});
  left->update({{"prediction", prediction.slice(0, 0, 1)}, {"target", target.slice(0, 0, 1)}});
  right->update({{"prediction", prediction.slice(0, 1)}, {"target", target.slice(0, 1)}});
  left->merge(*right);
  EXPECT_NEAR(left->compute().at("ssim"), whole->compute().at("ssim"), 1e-12);
}

TEST(Ssim, FramesSmallerThanTheWindowAreRefusedWithTheFix) {
  auto metric = test::make<Metric>("ssim");
  auto tiny = torch::rand({1, 3, 8, 8});
  EXPECT_THAT(test::error_of([&] { metric->update({{"prediction", tiny}, {"target", tiny}}); }),
              ::testing::HasSubstr("lower ssim.params.window_size"));
}

TEST(Ssim, EvenWindowIsAConfigError) {
  EXPECT_THAT(test::error_of([] { test::make<Metric>("ssim", "{window_size: 10}"); }),
              ::testing::HasSubstr("must be odd"));
}

}  // namespace
}  // namespace wm
