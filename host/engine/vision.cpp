// Functional clip ops behind wm/transforms.h. The colour ops follow the definitions of
// torchvision.transforms.functional_tensor (v0.14): blends clamped to [0, 1], grey = ITU-R 601
// luma (0.2989, 0.587, 0.114), hue through HSV.
#include <ATen/ATen.h>

#include <cmath>

#include "wm/error.h"
#include "wm/sample.h"
#include "engine/transforms.h"

namespace wm::vision {

namespace {

void check_clip(const at::Tensor& video, const char* op) {
  if (video.dim() != 4)
    throw Error(std::string(op) + ": needs a clip [T, C, H, W], got " + describe_tensor(video));
}

void check_rgb(const at::Tensor& video, const char* op) {
  check_clip(video, op);
  if (video.size(1) != 3)
    throw Error(std::string(op) + ": needs 3 colour channels, got " + describe_tensor(video));
}

// ratio * a + (1 - ratio) * b, clamped to [0, 1]
at::Tensor blend(const at::Tensor& a, const at::Tensor& b, double ratio) {
  return (a * ratio + b * (1.0 - ratio)).clamp(0.0, 1.0);
}

at::Tensor grey(const at::Tensor& video) {  // [T, 3, H, W] -> [T, 1, H, W]
  return (video.select(1, 0) * 0.2989 + video.select(1, 1) * 0.587 + video.select(1, 2) * 0.114)
      .unsqueeze(1);
}

// [T, 3, H, W] RGB -> HSV with h in [0, 1)
at::Tensor rgb_to_hsv(const at::Tensor& rgb) {
  auto r = rgb.select(1, 0), g = rgb.select(1, 1), b = rgb.select(1, 2);
  auto maxc = std::get<0>(rgb.max(1)), minc = std::get<0>(rgb.min(1));
  auto flat = maxc == minc;
  auto range = maxc - minc;
  auto ones = at::ones_like(maxc);
  auto s = range / at::where(flat, ones, maxc);
  auto divisor = at::where(flat, ones, range);
  auto rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor;
  // the sector follows the largest channel, red first, then green, then blue
  auto h = (maxc == r).to(rgb.scalar_type()) * (bc - gc) +
           ((maxc == g) & (maxc != r)).to(rgb.scalar_type()) * (rc - bc + 2.0) +
           ((maxc != g) & (maxc != r)).to(rgb.scalar_type()) * (gc - rc + 4.0);
  h = at::fmod(h / 6.0 + 1.0, 1.0);
  return at::stack({h, s, maxc}, 1);
}

at::Tensor hsv_to_rgb(const at::Tensor& hsv) {
  auto h = hsv.select(1, 0), s = hsv.select(1, 1), v = hsv.select(1, 2);
  auto sector_start = at::floor(h * 6.0);
  auto f = h * 6.0 - sector_start;
  auto sector = at::remainder(sector_start.to(at::kInt), 6);
  auto p = (v * (1.0 - s)).clamp(0.0, 1.0);
  auto q = (v * (1.0 - s * f)).clamp(0.0, 1.0);
  auto t = (v * (1.0 - s * (1.0 - f))).clamp(0.0, 1.0);
  // per sector 0..5: (r, g, b) = (v,t,p) (q,v,p) (p,v,t) (p,q,v) (t,p,v) (v,p,q)
  const at::Tensor* table[6][3] = {{&v, &t, &p}, {&q, &v, &p}, {&p, &v, &t},
                                   {&p, &q, &v}, {&t, &p, &v}, {&v, &p, &q}};
  std::vector<at::Tensor> channels;
  for (int c = 0; c < 3; ++c) {
    auto channel = at::zeros_like(v);
    for (int k = 0; k < 6; ++k) channel = at::where(sector == k, *table[k][c], channel);
    channels.push_back(channel);
  }
  return at::stack(channels, 1);
}

}  // namespace

at::Tensor to_float(const at::Tensor& video) {
  if (video.scalar_type() == at::kByte) return video.to(at::kFloat).div_(255.0);
  return video;
}

at::Tensor resize(const at::Tensor& video, int64_t height, int64_t width, bool antialias) {
  check_clip(video, "resize");
  auto input = to_float(video).contiguous();
  if (antialias) return at::_upsample_bilinear2d_aa(input, {height, width}, false);
  return at::upsample_bilinear2d(input, {height, width}, false);
}

at::Tensor crop(const at::Tensor& video, int64_t top, int64_t left, int64_t height, int64_t width) {
  check_clip(video, "crop");
  if (top < 0 || left < 0 || top + height > video.size(2) || left + width > video.size(3))
    throw Error("crop [" + std::to_string(height) + ", " + std::to_string(width) + "] at (" +
                std::to_string(top) + ", " + std::to_string(left) + ") does not fit frames of " +
                describe_tensor(video));
  return video.slice(2, top, top + height).slice(3, left, left + width).contiguous();
}

at::Tensor hflip(const at::Tensor& video) {
  check_clip(video, "hflip");
  return video.flip({3});
}

at::Tensor adjust_brightness(const at::Tensor& video, double factor) {
  check_clip(video, "brightness");
  auto frames = to_float(video);
  return blend(frames, at::zeros_like(frames), factor);
}

at::Tensor adjust_contrast(const at::Tensor& video, double factor) {
  check_rgb(video, "contrast");
  auto frames = to_float(video);
  auto mean = grey(frames).mean({1, 2, 3}, /*keepdim=*/true);  // per frame
  return blend(frames, mean, factor);
}

at::Tensor adjust_saturation(const at::Tensor& video, double factor) {
  check_rgb(video, "saturation");
  auto frames = to_float(video);
  return blend(frames, grey(frames), factor);
}

at::Tensor adjust_hue(const at::Tensor& video, double shift) {
  check_rgb(video, "hue");
  if (shift < -0.5 || shift > 0.5) throw Error("hue shift must be in [-0.5, 0.5]");
  auto hsv = rgb_to_hsv(to_float(video));
  auto hue = at::remainder(hsv.select(1, 0) + shift, 1.0);
  return hsv_to_rgb(at::stack({hue, hsv.select(1, 1), hsv.select(1, 2)}, 1));
}

at::Tensor normalize(const at::Tensor& video, const std::vector<double>& mean,
                     const std::vector<double>& std) {
  check_clip(video, "normalize");
  auto channels = static_cast<size_t>(video.size(1));
  if (mean.size() != channels || std.size() != channels)
    throw Error("normalize: mean and std need one value per channel (" + std::to_string(channels) +
                "), got " + std::to_string(mean.size()) + " and " + std::to_string(std.size()));
  auto shape = std::vector<int64_t>{1, static_cast<int64_t>(channels), 1, 1};
  auto m = at::tensor(mean, at::kDouble).to(at::kFloat).view(shape);
  auto s = at::tensor(std, at::kDouble).to(at::kFloat).view(shape);
  return (to_float(video) - m) / s;
}

std::pair<int64_t, int64_t> center_crop_offset(int64_t height, int64_t width, int64_t crop_height,
                                               int64_t crop_width) {
  // torchvision: int(round((size - crop) / 2.0)), Python's round: halves to even
  auto offset = [](int64_t size, int64_t cropped) {
    return static_cast<int64_t>(std::nearbyint((size - cropped) / 2.0));
  };
  return {offset(height, crop_height), offset(width, crop_width)};
}

}  // namespace wm::vision
