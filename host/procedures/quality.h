// Quality scores of a clip, for sorting a data set into tiers: motion (mean frame difference and
// mean optical-flow magnitude), clarity (variance of the Laplacian), occlusion (a heuristic share
// of the frame under a static overlay), length and resolution.
// Grey levels are ITU-R 601 luma (0.299, 0.587, 0.114) on a 0..255 scale, so clarity numbers
// read like OpenCV's `cv2.Laplacian(grey, cv2.CV_64F).var()` (3x3 kernel, reflect-101 borders).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace wm::eval {

//---- scores ----

struct ClipQuality {
  double motion = 0;    // mean |grey(t+1) - grey(t)| over pixels and frame pairs, in grey levels
  double flow = -1;     // mean optical-flow magnitude inside the frame's outer eighth, pixels per
                        // frame at full size; -1: not computed
  double clarity = 0;   // variance of the Laplacian of each frame's grey levels, mean over frames
  double occlusion = 0; // share of the frame under large static regions of a moving clip (below)
  int64_t frames = 0, height = 0, width = 0;
};

struct QualityOptions {
  bool flow = true;          // Lucas-Kanade flow (procedures/lucas_kanade_flow.h) besides frame differences
  int64_t flow_side = 64;    // frames shrink so their longer side is at most this before the flow
  int64_t flow_pairs = 4;    // consecutive frame pairs the flow looks at, spread over the clip
};

// video: [T, 3, H, W], uint8 or float in [0, 1]
ClipQuality score_clip(const at::Tensor& video, const QualityOptions& options = {});

//---- the pieces ----

at::Tensor grey_levels(const at::Tensor& video);            // -> [T, H, W] float64 in 0..255
double frame_difference_motion(const at::Tensor& video);   // 0 for a single frame
double laplacian_variance(const at::Tensor& video);
double flow_motion(const at::Tensor& video, const QualityOptions& options);

// occlusion, a heuristic for burned-in overlays and covered lenses: the frame is cut into 8x8
// blocks (a partial block at the right or bottom edge is left out); a block's temporal std is the
// mean over its pixels of each pixel's grey-level std over time. When the clip's median block
// moves (std >= 1 level), the blocks below 1 level that form 4-connected regions of at least 5 %
// of the blocks count, and the score is their share of all blocks. A clip whose median block is
// still (a static scene, a frozen clip) scores 0: the motion scores judge it. Natural video is
// never exactly still where something moves, as a camera's noise alone varies each pixel.
double occlusion_share(const at::Tensor& video);
// the [rows, cols] block stds behind it, in grey levels
at::Tensor block_temporal_std(const at::Tensor& video);

// the largest softmax probability of logits [..., C] (one per leading index): how sure a classifier
// is of the clip's action; `tiers` reads it as action completeness
at::Tensor max_softmax_probability(const at::Tensor& logits);

}  // namespace wm::eval
