// A frozen image ViT applied to each frame of a clip on its own, giving per-frame token grids
// layer-normalised without affine parameters (V-JEPA 2-AC's `normalize_reps`). Its weights are
// fixed by the seed or loaded from a checkpoint, e.g. the `encoder` of a trained single_stream
// run or the `p_stream` of a two_stream run: the module names are those of wm::nn::VitEncoder.
// Shared by the latent world models (vjepa_ac, glp).
#pragma once
#include <torch/nn/module.h>

#include "wm/model.h"
#include "wm/nn/transformer.h"
#include "wm/params.h"
#include "wm/schema.h"

namespace wm::nn {

class FrozenFrameEncoderImpl : public torch::nn::Module {
 public:
  // reads image_size, patch, encoder_dim, encoder_depth, encoder_heads, encoder_checkpoint and
  // encoder_prefix (see with_frozen_encoder_params); loads the checkpoint when one is named
  explicit FrozenFrameEncoderImpl(const Params& params);
  // video [B, T, 3, H, W] in [0, 1] -> [B, T, N, D], without gradient
  at::Tensor forward(const at::Tensor& video);
  int64_t tokens() const { return vit_->patches(); }
  int64_t dim() const { return dim_; }

 private:
  VitEncoder vit_{nullptr};
  int64_t dim_;
};
TORCH_MODULE(FrozenFrameEncoder);

// the encoder's parameters, appended to a plugin's own
Schema with_frozen_encoder_params(Schema schema);

}  // namespace wm::nn
