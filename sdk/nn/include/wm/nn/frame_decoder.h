// Decodes the next frame from per-patch tokens of the current frame and a change embedding:
// the shared head of the future-prediction models. It predicts the change of each patch, which
// is added to the current frame by the caller.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

namespace wm::nn {

class FrameDecoderImpl : public torch::nn::Module {
 public:
  // tokens of width input_dim, change embeddings of width change_dim (0: none), out_dim per patch
  FrameDecoderImpl(int64_t input_dim, int64_t change_dim, int64_t dim, int64_t depth, int64_t heads,
                   int64_t patches, int64_t out_dim);
  // tokens [B, N, input_dim], change [B, change_dim] (undefined when change_dim is 0) -> [B, N, out]
  at::Tensor forward(const at::Tensor& tokens, const at::Tensor& change);
  // zeroes the output layer: a model adding this decoder's output to frame t then starts exactly
  // as the copy-last-frame baseline and can only learn to improve on it
  void zero_output();

 private:
  torch::nn::Linear embed_{nullptr}, change_proj_{nullptr}, head_{nullptr};
  at::Tensor pos_embed_;
  torch::nn::ModuleList blocks_;
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(FrameDecoder);

}  // namespace wm::nn
