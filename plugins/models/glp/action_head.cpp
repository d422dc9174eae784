#include "action_head.h"

#include <torch/torch.h>

namespace glp {

ActionHead::ActionHead(torch::nn::Module& parent, int64_t latent_dim, int64_t hidden, int64_t outputs) {
  net_ = parent.register_module(
      "action_head", torch::nn::Sequential(torch::nn::Linear(3 * latent_dim, hidden), torch::nn::GELU(),
                                           torch::nn::Linear(hidden, hidden), torch::nn::GELU()).ptr());
  out_ = parent.register_module("action_head_out", torch::nn::Linear(hidden, outputs).ptr());
}

at::Tensor ActionHead::forward(const at::Tensor& current, const at::Tensor& outcome) const {
  // per token: the last current latent, the outcome's frame mean and their difference, each
  // layer-normalised on its own (so the small difference weighs as much as the latents)
  auto now = current.select(1, current.size(1) - 1), then = outcome.mean(1);  // [B, N, D]
  auto norm = [](const at::Tensor& x) { return torch::layer_norm(x, {x.size(-1)}); };
  auto features = torch::cat({norm(now), norm(then), norm(then - now)}, -1);
  // one MLP shared by every token, then the mean over tokens: motion read the same anywhere
  return out_->forward(net_->forward(features).mean(1));
}

at::Tensor ActionHead::loss(const at::Tensor& outputs, const at::Tensor& target) {
  if (target.is_floating_point()) return (outputs - target).pow(2).mean() / 2;
  return torch::nn::functional::cross_entropy(outputs, target);
}

}  // namespace glp
