#include "wm/sim/clip_corruption.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "wm/error.h"

namespace wm::sim {

namespace {

const char* const kNames[] = {"none", "blur", "static", "occluder"};

// a well-mixed 64-bit hash of two words (splitmix64's finaliser)
uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// a normalised 1-d Gaussian of `sigma`, radius ceil(3 sigma)
at::Tensor gaussian_kernel(double sigma) {
  auto radius = static_cast<int64_t>(std::ceil(3 * sigma));
  auto x = at::arange(-radius, radius + 1, at::kFloat);
  auto kernel = at::exp(-(x * x) / static_cast<float>(2 * sigma * sigma));
  return kernel / kernel.sum();
}

void blur(at::Tensor& video) {
  int64_t height = video.size(2), width = video.size(3);
  double sigma = std::max(1.5, static_cast<double>(std::min(height, width)) / 16.0);
  auto kernel = gaussian_kernel(sigma);
  int64_t radius = (kernel.size(0) - 1) / 2;
  // [T*3, 1, H, W]; edges repeat their last pixel, one pass along each axis
  auto frames = video.to(at::kFloat).reshape({-1, 1, height, width});
  frames = at::replication_pad2d(frames, {radius, radius, radius, radius});
  frames = at::conv2d(frames, kernel.view({1, 1, 1, -1}));
  frames = at::conv2d(frames, kernel.view({1, 1, -1, 1}));
  video.copy_(frames.round().clamp(0, 255).reshape(video.sizes()).to(at::kByte));
}

void occlude(at::Tensor& video, uint64_t stream) {
  std::mt19937_64 rng(mix(stream, 0x0CC1));
  std::uniform_real_distribution<double> share(0.52, 0.60);
  int64_t height = video.size(2), width = video.size(3);
  int64_t h = std::max<int64_t>(1, std::lround(share(rng) * static_cast<double>(height)));
  int64_t w = std::max<int64_t>(1, std::lround(share(rng) * static_cast<double>(width)));
  int64_t top = std::uniform_int_distribution<int64_t>(0, height - h)(rng);
  int64_t left = std::uniform_int_distribution<int64_t>(0, width - w)(rng);
  auto grey = std::uniform_int_distribution<int>(60, 200)(rng);
  video.slice(2, top, top + h).slice(3, left, left + w).fill_(grey);
}

}  // namespace

//---- kinds ----

const char* corruption_name(Corruption kind) { return kNames[static_cast<int64_t>(kind)]; }

Corruption corruption_from_name(const std::string& name) {
  for (int64_t k = 1; k < 4; ++k)
    if (name == kNames[k]) return static_cast<Corruption>(k);
  throw Error("unknown corruption '" + name + "'; the kinds are blur, static, occluder");
}

Corruption corruption_of(uint64_t seed, int64_t index, double fraction,
                         const std::vector<Corruption>& kinds) {
  if (fraction <= 0 || kinds.empty()) return Corruption::none;
  // u uniform in [0, 1): below `fraction` the clip is corrupted, and where below it says which kind
  double u = static_cast<double>(mix(mix(seed, 0xC022u), static_cast<uint64_t>(index)) >> 11) * 0x1.0p-53;
  if (u >= fraction) return Corruption::none;
  auto k = static_cast<size_t>(u / fraction * static_cast<double>(kinds.size()));
  return kinds[std::min(k, kinds.size() - 1)];
}

//---- applying them ----

void add_sensor_noise(at::Tensor& video, double std, uint64_t stream) {
  if (std <= 0) return;
  WM_CHECK(video.scalar_type() == at::kByte && video.is_contiguous()) << "sensor noise needs contiguous uint8 video";
  std::mt19937_64 rng(mix(stream, 0x5E45));
  std::normal_distribution<double> noise(0.0, std);
  uint8_t* pixels = video.data_ptr<uint8_t>();
  for (int64_t i = 0, n = video.numel(); i < n; ++i)
    pixels[i] = static_cast<uint8_t>(std::clamp(std::lround(pixels[i] + noise(rng)), 0L, 255L));
}

void corrupt(at::Tensor& video, Corruption kind, uint64_t stream) {
  WM_CHECK(video.dim() == 4 && video.size(1) == 3 && video.scalar_type() == at::kByte)
      << "corruption needs a uint8 clip [T, 3, H, W]";
  switch (kind) {
    case Corruption::none: return;
    case Corruption::blur: return blur(video);
    case Corruption::frozen: video.slice(0, 1).copy_(video.slice(0, 0, 1).expand_as(video.slice(0, 1))); return;
    case Corruption::occluder: return occlude(video, stream);
  }
}

}  // namespace wm::sim
