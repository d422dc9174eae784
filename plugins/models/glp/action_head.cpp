#include "action_head.h"

#include <torch/torch.h>

namespace glp {

ActionHead::ActionHead(torch::nn::Module& parent, int64_t latent_dim, int64_t outcome_frames,
                       int64_t hidden, int64_t outputs) {
  int64_t features = 3 * latent_dim + outcome_frames;
  net_ = parent.register_module(
      "action_head", torch::nn::Sequential(torch::nn::Linear(features, hidden), torch::nn::GELU(),
                                           torch::nn::Linear(hidden, hidden), torch::nn::GELU())
                         .ptr());
  out_ = parent.register_module("action_head_out", torch::nn::Linear(hidden, outputs).ptr());
}

at::Tensor ActionHead::forward(const at::Tensor& current, const at::Tensor& outcome) const {
  // per token and outcome frame: the last current latent, the frame's latent and their
  // difference, each layer-normalised on its own (so the small difference weighs as much as the
  // latents), and which frame it is (one-hot)
  int64_t batch = outcome.size(0), frames = outcome.size(1), tokens = outcome.size(2);
  auto now =
      current.select(1, current.size(1) - 1).unsqueeze(1).expand_as(outcome);  // [B, O, N, D]
  auto norm = [](const at::Tensor& x) { return torch::layer_norm(x, {x.size(-1)}); };
  auto frame = torch::eye(frames, outcome.options())
                   .view({1, frames, 1, frames})
                   .expand({batch, frames, tokens, frames});
  auto features = torch::cat({norm(now), norm(outcome), norm(outcome - now), frame}, -1);
  // one MLP shared by every token and frame, then the mean over both: motion read the same
  // anywhere, and an outcome predicted as its frames' mean still reads as its action
  return out_->forward(net_->forward(features).mean({1, 2}));
}

at::Tensor ActionHead::loss(const at::Tensor& outputs, const at::Tensor& target) {
  if (target.is_floating_point()) return (outputs - target).pow(2).mean() / 2;
  return torch::nn::functional::cross_entropy(outputs, target);
}

}  // namespace glp
