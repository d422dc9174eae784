#include "wm/nn/frame_decoder.h"

#include <torch/torch.h>

#include "wm/nn/transformer.h"

namespace wm::nn {

FrameDecoderImpl::FrameDecoderImpl(int64_t input_dim, int64_t change_dim, int64_t dim,
                                   int64_t depth, int64_t heads, int64_t patches, int64_t out_dim) {
  embed_ = register_module("embed", torch::nn::Linear(input_dim, dim));
  if (change_dim > 0) change_proj_ = register_module("change_proj", torch::nn::Linear(change_dim, dim));
  pos_embed_ = register_buffer("pos_embed", sinusoid_table(patches, dim));
  blocks_ = make_blocks(*this, depth, dim, heads);
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
  head_ = register_module("head", torch::nn::Linear(dim, out_dim));
}

at::Tensor FrameDecoderImpl::forward(const at::Tensor& tokens, const at::Tensor& change) {
  auto x = linear(tokens, embed_->weight, embed_->bias) + pos_embed_;
  // the change embedding conditions every patch: the only way motion reaches the decoder
  if (change_proj_) x = x + linear(change, change_proj_->weight, change_proj_->bias).unsqueeze(1);
  x = norm_->forward(run_blocks(blocks_, x));
  return linear(x, head_->weight, head_->bias);
}

void FrameDecoderImpl::zero_output() {
  torch::NoGradGuard no_grad;
  head_->weight.zero_();
  head_->bias.zero_();
}

}  // namespace wm::nn
