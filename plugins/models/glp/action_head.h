// glp's inverse-dynamics head (spec D1): from a current clip's latents and an outcome clip's
// latents, which action led from one to the other. Per token and outcome frame: [last current
// latent, the frame's latent, their difference], each layer-normalised, and the frame's index
// (one-hot); one MLP shared by all tokens and frames (2 x dim wide, GELU), the mean over both,
// then class logits (label actions) or action values (continuous). A copied last latent gives
// zero differences: the floor carries no action by construction. It trains on true latents only;
// at prediction it also reads the adapter's outcome (how recognisable the predicted action is)
// and the copied latent.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>

namespace torch::nn {
class Module;
class SequentialImpl;
class LinearImpl;
}

namespace glp {

class ActionHead {
 public:
  // registers its layers as `action_head` under `parent`; the latents are [B, F, tokens, latent_dim],
  // outcomes have `outcome_frames` frames
  ActionHead(torch::nn::Module& parent, int64_t latent_dim, int64_t outcome_frames, int64_t hidden,
             int64_t outputs);

  // current [B, C, N, D], outcome [B, O, N, D] -> [B, outputs]
  at::Tensor forward(const at::Tensor& current, const at::Tensor& outcome) const;

  // cross-entropy against int64 labels [B], or half the MSE against float targets [B, outputs]
  static at::Tensor loss(const at::Tensor& outputs, const at::Tensor& target);

 private:
  std::shared_ptr<torch::nn::SequentialImpl> net_;
  std::shared_ptr<torch::nn::LinearImpl> out_;
};

}  // namespace glp
