#include "wm/nn/future_prediction.h"

#include <ATen/ATen.h>

#include <cmath>

#include "wm/error.h"
#include "wm/nn/sample_random.h"

namespace wm::nn {

FramePairs sample_frame_pairs(const at::Tensor& video, const GapSampling& sampling,
                              const at::Tensor& seeds) {
  int64_t batch = video.size(0), frames = video.size(1);
  if (frames <= sampling.max_gap)
    throw Error("clips have " + std::to_string(frames) + " frames; max_gap " +
                std::to_string(sampling.max_gap) + " needs at least " +
                std::to_string(sampling.max_gap + 1));
  // P(gap = k) ~ sample_decay^(k-1): the gap is where the first uniform falls in the cumulative
  // distribution; the start t is uniform in [0, T - 1 - gap]
  auto weights = at::empty({sampling.max_gap}, at::kDouble);
  for (int64_t k = 0; k < sampling.max_gap; ++k)
    weights[k] = std::pow(sampling.sample_decay, static_cast<double>(k));
  auto cumulative = weights.cumsum(0) / weights.sum();
  auto draws = uniform_per_sample(seeds, batch, 2);  // [B, 2] on the CPU
  auto gaps = (draws.select(1, 0).unsqueeze(1) >= cumulative.unsqueeze(0)).sum(1).clamp_max(sampling.max_gap - 1) + 1;
  auto starts = (draws.select(1, 1) * (frames - gaps).to(at::kDouble)).floor().to(at::kLong);
  auto rows = at::arange(batch, at::kLong);
  auto device = video.device();
  rows = rows.to(device), starts = starts.to(device), gaps = gaps.to(device);
  return {video.index({rows, starts}), video.index({rows, starts + gaps}), gaps};
}

FramePairs sample_frame_pairs(const at::Tensor& video, const GapSampling& sampling) {
  return sample_frame_pairs(video, sampling, at::Tensor());
}

FramePairs pairs_at_gap(const at::Tensor& video, int64_t gap) {
  int64_t batch = video.size(0), frames = video.size(1);
  if (gap < 1 || gap >= frames)
    throw Error("gap " + std::to_string(gap) + " needs clips longer than " + std::to_string(frames) +
                " frames");
  auto rest = video.sizes().slice(2).vec();
  auto shape = std::vector<int64_t>{batch * (frames - gap)};
  shape.insert(shape.end(), rest.begin(), rest.end());
  return {video.slice(1, 0, frames - gap).reshape(shape), video.slice(1, gap).reshape(shape),
          at::full({batch * (frames - gap)}, gap, video.options().dtype(at::kLong))};
}

int64_t requested_gap(const std::map<std::string, at::Tensor>& batch, int64_t fallback) {
  auto it = batch.find("gap");
  return it == batch.end() ? fallback : it->second.item<int64_t>();
}

at::Tensor gap_weighted_mse(const at::Tensor& prediction, const at::Tensor& target,
                            const at::Tensor& gaps, double loss_decay,
                            std::map<std::string, double>& logs) {
  auto per_sample = (prediction - target).pow(2).flatten(1).mean(1);  // [N]
  auto weights = at::pow(loss_decay, (gaps - 1).to(at::kFloat));
  auto detached = per_sample.detach();
  auto gap_values = gaps.to(at::kLong);
  for (int64_t k = 1; k <= gap_values.max().item<int64_t>(); ++k) {
    auto chosen = gap_values == k;
    if (chosen.any().item<bool>())
      logs["mse_gap" + std::to_string(k)] = detached.masked_select(chosen).mean().item<double>();
  }
  logs["mse"] = detached.mean().item<double>();
  return (per_sample * weights).mean();
}

at::Tensor patchify(const at::Tensor& images, int64_t patch) {
  int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  if (h % patch || w % patch)
    throw Error("frames of " + std::to_string(h) + "x" + std::to_string(w) +
                " pixels do not divide into " + std::to_string(patch) + "-pixel patches");
  return images.reshape({n, c, h / patch, patch, w / patch, patch})
      .permute({0, 2, 4, 3, 5, 1})
      .reshape({n, (h / patch) * (w / patch), patch * patch * c});
}

at::Tensor unpatchify(const at::Tensor& patches, int64_t patch, int64_t channels, int64_t height,
                      int64_t width) {
  int64_t n = patches.size(0);
  return patches.reshape({n, height / patch, width / patch, patch, patch, channels})
      .permute({0, 5, 1, 3, 2, 4})
      .reshape({n, channels, height, width});
}

}  // namespace wm::nn
