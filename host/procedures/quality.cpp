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

at::Tensor block_temporal_std(const at::Tensor& video) {
  auto grey = grey_levels(video);  // [T, H, W]
  int64_t rows = grey.size(1) / 8, cols = grey.size(2) / 8;
  if (rows == 0 || cols == 0) return at::zeros({rows, cols}, at::kDouble);
  auto pixel_std = grey.std(0, /*unbiased=*/false).slice(0, 0, rows * 8).slice(1, 0, cols * 8);
  return pixel_std.view({rows, 8, cols, 8}).mean({1, 3});
}

double occlusion_share(const at::Tensor& video) {
  auto blocks = block_temporal_std(video).contiguous();
  int64_t rows = blocks.size(0), cols = blocks.size(1), total = rows * cols;
  if (total == 0 || video.size(0) < 2) return 0.0;
  if (blocks.flatten().median().item<double>() < 1.0) return 0.0;  // the clip itself is still
  auto std_of = blocks.accessor<double, 2>();
  // 4-connected regions of still blocks, by flood fill; only those of >= 5 % of the blocks count
  std::vector<int> seen(static_cast<size_t>(total), 0);
  int64_t counted = 0;
  for (int64_t start = 0; start < total; ++start) {
    if (seen[static_cast<size_t>(start)] || std_of[start / cols][start % cols] >= 1.0) continue;
    std::vector<int64_t> stack{start}, region;
    seen[static_cast<size_t>(start)] = 1;
    while (!stack.empty()) {
      int64_t b = stack.back();
      stack.pop_back();
      region.push_back(b);
      int64_t r = b / cols, c = b % cols;
      const int64_t next[4][2] = {{r - 1, c}, {r + 1, c}, {r, c - 1}, {r, c + 1}};
      for (const auto& n : next) {
        if (n[0] < 0 || n[0] >= rows || n[1] < 0 || n[1] >= cols) continue;
        int64_t k = n[0] * cols + n[1];
        if (seen[static_cast<size_t>(k)] || std_of[n[0]][n[1]] >= 1.0) continue;
        seen[static_cast<size_t>(k)] = 1;
        stack.push_back(k);
      }
    }
    if (static_cast<double>(region.size()) >= 0.05 * static_cast<double>(total))
      counted += static_cast<int64_t>(region.size());
  }
  return static_cast<double>(counted) / static_cast<double>(total);
}

at::Tensor max_softmax_probability(const at::Tensor& logits) {
  if (logits.dim() < 1 || logits.size(-1) < 1)
    throw Error("action logits need a class dimension, got " + describe_tensor(logits));
  return std::get<0>(at::softmax(logits.to(at::kDouble), -1).max(-1));
}

ClipQuality score_clip(const at::Tensor& video, const QualityOptions& options) {
  check_clip(video);
  ClipQuality quality;
  quality.frames = video.size(0), quality.height = video.size(2), quality.width = video.size(3);
  quality.motion = frame_difference_motion(video);
  quality.clarity = laplacian_variance(video);
  quality.occlusion = occlusion_share(video);
  if (options.flow) quality.flow = flow_motion(video, options);
  return quality;
}

}  // namespace wm::eval
