#include <torch/torch.h>

#include <cmath>
#include <iostream>

#include "test_support.h"
#include "procedures/lucas_kanade_flow.h"

namespace wm {
namespace {

constexpr double kPi = 3.14159265358979323846;

// A continuous texture, a sum of random plane waves (wavelengths 6..40 px), that can be sampled
// anywhere: frame1(M p) = frame0(p) holds exactly, so the true flow is M p - p.
struct Texture {
  torch::Tensor frequency, phase, amplitude;  // [K, 2] cycles/px, [K], [K]
  Texture() {
    auto generator = torch::make_generator<at::CPUGeneratorImpl>(7);
    int64_t waves = 24;
    auto angle = torch::rand({waves}, generator, torch::kFloat64) * 2 * kPi;
    auto cycles = 1.0 / (6 + 34 * torch::rand({waves}, generator, torch::kFloat64));
    frequency = torch::stack({cycles * torch::cos(angle), cycles * torch::sin(angle)}, 1);
    phase = torch::rand({waves}, generator, torch::kFloat64) * 2 * kPi;
    amplitude = 0.5 + torch::rand({waves}, generator, torch::kFloat64);
  }
  // brightness at points [H, W, 2] (x, y) -> [1, H, W]
  torch::Tensor at(const torch::Tensor& points) const {
    auto waves = torch::sin(2 * kPi * points.matmul(frequency.t()) + phase);
    return (waves * amplitude).sum(-1).unsqueeze(0).to(torch::kFloat32);
  }
};

torch::Tensor pixel_grid(int64_t h, int64_t w) {
  auto ys = torch::arange(h, torch::kFloat64).view({h, 1}).expand({h, w});
  auto xs = torch::arange(w, torch::kFloat64).view({1, w}).expand({h, w});
  return torch::stack({xs, ys}, -1);
}

// EPE of the estimate over the interior (content near the border leaves the frame)
double interior_epe(const torch::Tensor& estimate, const torch::Tensor& truth, int64_t margin) {
  auto error = (estimate - truth).pow(2).sum(0).sqrt();
  return error.slice(0, margin, -margin).slice(1, margin, -margin).mean().item<double>();
}

// motion p -> rotation about the centre by `degrees`, then a shift; frames sampled exactly
double epe_for_motion(double degrees, double shift_x, double shift_y, const char* label) {
  int64_t h = 96, w = 128;
  Texture texture;
  auto p = pixel_grid(h, w);
  double theta = degrees * kPi / 180, cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
  auto rotation = torch::tensor({{std::cos(theta), -std::sin(theta)}, {std::sin(theta), std::cos(theta)}},
                                torch::kFloat64);
  auto centre = torch::tensor({cx, cy}, torch::kFloat64);
  auto shift = torch::tensor({shift_x, shift_y}, torch::kFloat64);
  auto moved = (p - centre).matmul(rotation.t()) + centre + shift;        // M p
  auto source = (p - centre - shift).matmul(rotation) + centre;           // M^-1 p
  auto frame0 = texture.at(p), frame1 = texture.at(source);
  auto truth = (moved - p).permute({2, 0, 1}).to(torch::kFloat32);
  auto estimate = eval::LucasKanadeFlow().estimate(frame0, frame1);
  double epe = interior_epe(estimate, truth, 16);
  std::cout << "[ lucas-kanade ] " << label << ": EPE " << epe << " px (interior of 96x128)\n";
  return epe;
}

TEST(LucasKanadeFlow, RecoversASubpixelTranslation) {
  EXPECT_LT(epe_for_motion(0, 1.7, -0.6, "translation (1.7, -0.6) px"), 0.1);
}

TEST(LucasKanadeFlow, RecoversALargeTranslationThroughThePyramid) {
  EXPECT_LT(epe_for_motion(0, 7.5, 5.25, "translation (7.5, 5.25) px"), 0.12);
}

TEST(LucasKanadeFlow, RecoversARotation) {
  EXPECT_LT(epe_for_motion(3, 0, 0, "rotation 3 deg about the centre"), 0.08);
}

TEST(LucasKanadeFlow, FlatFramesGiveZeroFlowNotNan) {
  auto flat = torch::full({2, 3, 32, 32}, 0.5);
  auto flow = eval::LucasKanadeFlow().estimate(flat, flat);
  EXPECT_EQ(flow.sizes(), (std::vector<int64_t>{2, 2, 32, 32}));
  EXPECT_EQ(flow.abs().max().item<float>(), 0.0f);
}

TEST(LucasKanadeFlow, MismatchedFramesAreNamed) {
  EXPECT_THAT(test::error_of([] {
                eval::LucasKanadeFlow().estimate(torch::zeros({3, 8, 8}), torch::zeros({3, 8, 9}));
              }),
              ::testing::HasSubstr("must be two [B, C, H, W] or [C, H, W] of one shape"));
}

}  // namespace
}  // namespace wm
