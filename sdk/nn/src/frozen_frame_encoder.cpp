#include "wm/nn/frozen_frame_encoder.h"

#include <torch/torch.h>

#include <filesystem>

#include "wm/error.h"
#include "wm/log.h"
#include "wm/nn/frame_pair_model.h"
#include "wm/io/checkpoint.h"

namespace wm::nn {

Schema with_frozen_encoder_params(Schema schema) {
  return schema.integer("image_size", 32, "frame height and width the encoder expects").at_least(8)
      .integer("patch", 8, "encoder patch size in pixels").at_least(1)
      .integer("encoder_dim", 64, "encoder token width").at_least(8)
      .integer("encoder_depth", 2, "encoder blocks").at_least(1)
      .integer("encoder_heads", 4, "encoder attention heads").at_least(1)
      .path("encoder_checkpoint", "frozen encoder weights: a wmhost checkpoint (checkpoints/*.pt) or a "
                                  "PyTorch state dict; without it the encoder keeps its seeded random "
                                  "initialisation")
      .text("encoder_prefix", "model/encoder.",
            "name prefix of the encoder inside the checkpoint (single_stream: model/encoder., "
            "two_stream: model/p_stream.)");
}

FrozenFrameEncoderImpl::FrozenFrameEncoderImpl(const Params& p) : dim_(p.get<int64_t>("encoder_dim")) {
  int64_t size = p.get<int64_t>("image_size"), patch = p.get<int64_t>("patch");
  int64_t heads = p.get<int64_t>("encoder_heads");
  if (size % patch) throw p.error("patch", "must divide image_size (" + std::to_string(size) + ")");
  if (dim_ % heads) throw p.error("encoder_heads", "must divide encoder_dim (" + std::to_string(dim_) + ")");
  vit_ = register_module("vit", VitEncoder(3, size, patch, dim_, p.get<int64_t>("encoder_depth"), heads));
  init_vit_weights(*vit_);
  if (!p.get<std::string>("encoder_checkpoint").empty()) {
    auto file = p.get<std::string>("encoder_checkpoint");
    std::string prefix = p.get<std::string>("encoder_prefix");
    if (!std::filesystem::exists(file))
      throw p.error("encoder_checkpoint", "no such file: " + file +
                                              " (train the encoder's model first, or leave the key out)");
    // a wmhost checkpoint or any torch.save dict (nested names joined by "/"); else the state
    // dict unwrapped from its "model", "module" or "state_dict" entry
    auto weights = io::with_prefix(io::load_tensors(file), prefix);
    if (weights.empty()) weights = io::with_prefix(io::load_state_dict(file), prefix);
    if (weights.empty())
      throw p.error("encoder_prefix", "no tensor in " + file + " starts with '" + prefix +
                                          "'; set encoder_prefix to the encoder's name there");
    io::load_matching(weights, named_state(*vit_), "encoder " + file);
    log().info("frozen encoder: {} tensors from {} ({}*)", weights.size(), file, prefix);
  }
  for (auto& parameter : parameters()) parameter.set_requires_grad(false);
  eval();
}

at::Tensor FrozenFrameEncoderImpl::forward(const at::Tensor& video) {
  torch::NoGradGuard no_grad;
  WM_CHECK(video.dim() == 5) << "video must be [B, T, 3, H, W], got " << video.sizes();
  int64_t batch = video.size(0), frames = video.size(1);
  // every frame on its own: [B*T, 3, H, W] -> [B*T, 1 + N, D], drop the CLS token
  auto tokens = vit_->forward(video.flatten(0, 1)).slice(1, 1);
  tokens = at::layer_norm(tokens, {dim_});
  return tokens.view({batch, frames, tokens.size(1), dim_});
}

}  // namespace wm::nn
