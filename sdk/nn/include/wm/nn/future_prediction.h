// Gap-weighted future-frame prediction, shared by the two_stream and single_stream models:
// pick frame t and t+k of a clip with k in [1, max_gap] (P(k) ~ sample_decay^(k-1)), predict
// frame t+k, and weight each sample's MSE by loss_decay^(k-1). Patch helpers for 2-D ViTs.
#pragma once
#include <ATen/core/Tensor.h>

#include <map>
#include <string>

namespace wm::nn {

struct GapSampling {
  int64_t max_gap = 10;
  double sample_decay = 0.8;  // P(k) proportional to sample_decay^(k-1)
  double loss_decay = 0.5;    // a gap-k sample's loss weight is loss_decay^(k-1)
};

// frame pairs from clips: first[i] = video[i, t_i], future[i] = video[i, t_i + gap_i]
struct FramePairs {
  at::Tensor first, future;  // [N, 3, H, W]
  at::Tensor gaps;           // [N] int64
};

// one random pair per clip; video [B, T, 3, H, W], T > max_gap. Clip i's gap and start come
// from seeds[i] (the batch's sample_seed, sample_random.h); without seeds, from LibTorch's generator
FramePairs sample_frame_pairs(const at::Tensor& video, const GapSampling& sampling,
                              const at::Tensor& seeds);
FramePairs sample_frame_pairs(const at::Tensor& video, const GapSampling& sampling);
// every pair at a fixed gap, ordered clip-major: N = B * (T - gap)
FramePairs pairs_at_gap(const at::Tensor& video, int64_t gap);
// the gap an evaluation batch asks for (`gap` key), else `fallback`
int64_t requested_gap(const std::map<std::string, at::Tensor>& batch, int64_t fallback);

// mean over samples of loss_decay^(gap-1) * per-sample MSE; logs the plain MSE per gap
at::Tensor gap_weighted_mse(const at::Tensor& prediction, const at::Tensor& target,
                            const at::Tensor& gaps, double loss_decay,
                            std::map<std::string, double>& logs);

// images [N, C, H, W] <-> patch rows [N, (H/p)*(W/p), p*p*C], pixels ordered (py, px, c)
at::Tensor patchify(const at::Tensor& images, int64_t patch);
at::Tensor unpatchify(const at::Tensor& patches, int64_t patch, int64_t channels, int64_t height,
                      int64_t width);

}  // namespace wm::nn
