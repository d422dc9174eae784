// Lucas & Kanade (1981), in the pyramidal iterative form of Bouguet ("Pyramidal Implementation
// of the Lucas Kanade Feature Tracker", 2000), evaluated at every pixel: per pixel, the 2x2
// system sum(w g g^T) d = -sum(w g e) over a Gaussian window w, with g the image gradient and e
// the residual of frame1 warped by the current flow.
#include "procedures/lucas_kanade_flow.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "wm/error.h"
#include "wm/sample.h"

namespace wm::eval {
namespace {

// normalised 1-D Gaussian taps covering +-3 sigma
at::Tensor gaussian_taps(double sigma) {
  int64_t radius = std::max<int64_t>(1, std::lround(3 * sigma));
  auto offsets = at::arange(-radius, radius + 1, at::kFloat);
  auto taps = at::exp(-offsets.pow(2) / (2 * sigma * sigma));
  return taps / taps.sum();
}

// separable filtering of [N, 1, H, W] with replicated borders
at::Tensor separable(const at::Tensor& images, const at::Tensor& taps) {
  int64_t radius = (taps.size(0) - 1) / 2;
  auto rows = at::conv2d(at::replication_pad2d(images, {0, 0, radius, radius}), taps.view({1, 1, -1, 1}));
  return at::conv2d(at::replication_pad2d(rows, {radius, radius, 0, 0}), taps.view({1, 1, 1, -1}));
}

// central differences: [N, 1, H, W] -> d/dx, d/dy
std::pair<at::Tensor, at::Tensor> gradients(const at::Tensor& images) {
  auto kernel = at::tensor({-0.5f, 0.0f, 0.5f});
  auto dx = at::conv2d(at::replication_pad2d(images, {1, 1, 0, 0}), kernel.view({1, 1, 1, 3}));
  auto dy = at::conv2d(at::replication_pad2d(images, {0, 0, 1, 1}), kernel.view({1, 1, 3, 1}));
  return {dx, dy};
}

// image sampled at p + flow(p), bilinear, borders replicated: [N, 1, H, W], [N, 2, H, W]
at::Tensor warp(const at::Tensor& image, const at::Tensor& flow) {
  int64_t h = image.size(2), w = image.size(3);
  auto ys = at::arange(h, at::kFloat).view({1, h, 1}).expand({1, h, w});
  auto xs = at::arange(w, at::kFloat).view({1, 1, w}).expand({1, h, w});
  // pixel coordinates -> [-1, 1] with align_corners: grid [N, H, W, 2] in (x, y) order
  auto gx = (xs + flow.select(1, 0)) * (2.0 / std::max<int64_t>(w - 1, 1)) - 1;
  auto gy = (ys + flow.select(1, 1)) * (2.0 / std::max<int64_t>(h - 1, 1)) - 1;
  return at::grid_sampler(image, at::stack({gx, gy}, 3), 2 /*bicubic*/, 1 /*border*/, true);
}

}  // namespace

LucasKanadeFlow::LucasKanadeFlow(LucasKanadeOptions options) : options_(options) {
  WM_CHECK(options_.levels >= 1 && options_.iterations >= 1 && options_.window_sigma > 0)
      << "Lucas-Kanade options: levels and iterations >= 1, window_sigma > 0";
}

at::Tensor LucasKanadeFlow::estimate(const at::Tensor& frame0, const at::Tensor& frame1) const {
  if (!frame0.sizes().equals(frame1.sizes()) || (frame0.dim() != 3 && frame0.dim() != 4))
    throw Error("optical flow: frames must be two [B, C, H, W] or [C, H, W] of one shape, got " +
                describe_tensor(frame0) + " and " + describe_tensor(frame1));
  bool single = frame0.dim() == 3;
  // grey levels: [B, C, H, W] -> [B, 1, H, W]
  auto grey0 = (single ? frame0.unsqueeze(0) : frame0).to(at::kFloat).mean(1, true);
  auto grey1 = (single ? frame1.unsqueeze(0) : frame1).to(at::kFloat).mean(1, true);

  // pre-smoothing: the finest detail is where interpolation and gradients are least exact
  if (options_.presmooth_sigma > 0) {
    auto taps = gaussian_taps(options_.presmooth_sigma);
    grey0 = separable(grey0, taps), grey1 = separable(grey1, taps);
  }
  // pyramids, finest first: blur (sigma 1) then keep every second pixel
  auto anti_alias = gaussian_taps(1.0);
  std::vector<at::Tensor> pyramid0{grey0}, pyramid1{grey1};
  while (static_cast<int64_t>(pyramid0.size()) < options_.levels &&
         std::min(pyramid0.back().size(2), pyramid0.back().size(3)) >= 2 * options_.min_level_side) {
    pyramid0.push_back(at::avg_pool2d(separable(pyramid0.back(), anti_alias), 2));
    pyramid1.push_back(at::avg_pool2d(separable(pyramid1.back(), anti_alias), 2));
  }

  auto window = gaussian_taps(options_.window_sigma);
  at::Tensor flow;
  for (int64_t level = static_cast<int64_t>(pyramid0.size()) - 1; level >= 0; --level) {
    const auto& image0 = pyramid0[level];
    const auto& image1 = pyramid1[level];
    int64_t h = image0.size(2), w = image0.size(3);
    if (!flow.defined()) {
      flow = at::zeros({image0.size(0), 2, h, w}, image0.options());
    } else {
      // the coarser flow, upsampled to this level and scaled to its pixels
      auto scale = at::tensor({float(w) / flow.size(3), float(h) / flow.size(2)}).view({1, 2, 1, 1});
      flow = at::upsample_bilinear2d(flow, {h, w}, false) * scale;
    }
    // the structure tensor comes from frame0 alone, so it is computed once per level
    auto [gx, gy] = gradients(image0);
    auto a = separable(gx * gx, window), b = separable(gx * gy, window);
    auto c = separable(gy * gy, window);
    // [a b; b c] d = -[p; q]; the smaller eigenvalue says whether the window constrains d
    auto det = a * c - b * b;
    auto min_eigenvalue = 0.5 * (a + c) - at::sqrt(0.25 * (a - c).pow(2) + b * b);
    auto solvable = min_eigenvalue > options_.min_eigenvalue;
    auto safe_det = at::where(solvable, det, at::ones_like(det));
    for (int64_t step = 0; step < options_.iterations; ++step) {
      auto residual = warp(image1, flow) - image0;
      auto p = separable(gx * residual, window), q = separable(gy * residual, window);
      auto du = at::where(solvable, (-c * p + b * q) / safe_det, at::zeros_like(det));
      auto dv = at::where(solvable, (b * p - a * q) / safe_det, at::zeros_like(det));
      flow = flow + at::cat({du, dv}, 1);
    }
  }
  return single ? flow.squeeze(0) : flow;
}

}  // namespace wm::eval
