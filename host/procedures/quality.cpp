#include "procedures/quality.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "wm/error.h"
#include "procedures/lucas_kanade_flow.h"
#include "wm/sample.h"

namespace wm::eval {

namespace {
void check_clip(const at::Tensor& video) {
  if (video.dim() != 4 || video.size(1) != 3 || video.size(0) < 1)
    throw Error("quality scores need a clip [T, 3, H, W], got " + describe_tensor(video));
}
}  // namespace

at::Tensor grey_levels(const at::Tensor& video) {
  check_clip(video);
  auto frames = video.to(at::kDouble);
  if (video.scalar_type() != at::kByte) frames = frames * 255.0;
  return frames.select(1, 0) * 0.299 + frames.select(1, 1) * 0.587 + frames.select(1, 2) * 0.114;
}

double frame_difference_motion(const at::Tensor& video) {
  auto grey = grey_levels(video);
  if (grey.size(0) < 2) return 0.0;
  return (grey.slice(0, 1) - grey.slice(0, 0, -1)).abs().mean().item<double>();
}

double laplacian_variance(const at::Tensor& video) {
  // [T, 1, H, W], borders reflected without repeating the edge (OpenCV's BORDER_REFLECT_101)
  auto grey = grey_levels(video).unsqueeze(1);
  if (grey.size(2) < 2 || grey.size(3) < 2) return 0.0;
  auto padded = at::reflection_pad2d(grey, {1, 1, 1, 1});
  auto kernel = at::tensor(std::vector<double>{0, 1, 0, 1, -4, 1, 0, 1, 0}, at::kDouble).view({1, 1, 3, 3});
  auto laplacian = at::conv2d(padded, kernel).flatten(1);  // [T, H*W]
  return laplacian.var(1, /*unbiased=*/false).mean().item<double>();
}

double flow_motion(const at::Tensor& video, const QualityOptions& options) {
  check_clip(video);
  int64_t frames = video.size(0), height = video.size(2), width = video.size(3);
  if (frames < 2) return 0.0;
  // pairs (t, t+1) spread evenly over the clip
  int64_t pairs = std::min(options.flow_pairs, frames - 1);
  std::vector<int64_t> first;
  for (int64_t i = 0; i < pairs; ++i)
    first.push_back(pairs == 1 ? 0 : static_cast<int64_t>(std::lround(static_cast<double>(i) * (frames - 2) / (pairs - 1))));
  auto index = at::tensor(first, at::kLong);
  auto grey = (grey_levels(video) / 255.0).to(at::kFloat).unsqueeze(1);  // [T, 1, H, W]
  // shrink for speed; flow is then scaled back to full-size pixels
  double scale = std::min(1.0, static_cast<double>(options.flow_side) / std::max(height, width));
  if (scale < 1.0)
    grey = at::_upsample_bilinear2d_aa(grey, {std::max<int64_t>(1, std::lround(height * scale)),
                                              std::max<int64_t>(1, std::lround(width * scale))}, false);
  LucasKanadeFlow estimator;
  auto flow = estimator.estimate(grey.index_select(0, index), grey.index_select(0, index + 1));
  // the outer eighth of each side is left out: there content enters and leaves the frame and
  // the flow is undefined (a 2 px slide reads as 2.33 px with the borders, 2.00 without)
  int64_t rows = flow.size(2), cols = flow.size(3), top = rows / 8, left = cols / 8;
  auto inner = flow.slice(2, top, rows - top).slice(3, left, cols - left);
  return inner.pow(2).sum(1).sqrt().mean().item<double>() / scale;
}

ClipQuality score_clip(const at::Tensor& video, const QualityOptions& options) {
  check_clip(video);
  ClipQuality quality;
  quality.frames = video.size(0), quality.height = video.size(2), quality.width = video.size(3);
  quality.motion = frame_difference_motion(video);
  quality.clarity = laplacian_variance(video);
  if (options.flow) quality.flow = flow_motion(video, options);
  return quality;
}

}  // namespace wm::eval
