// nsca's learned parts, registered on the model's root module:
// - the learned branch L(s, a): standardised Δ of slots 0-17, from the standardised state and
//   action (an MLP), or from those plus the current frame (a ViT with state and action tokens
//   and fusion blocks: the `size: full` multimodal model);
// - the policy head: P2's BC MLP, standardised state -> tanh action.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>

namespace torch::nn {
class Module;
}

namespace nsca {

// (state [N, S], action [N, A], frames [N, 3, H, W] float in [0, 1] or undefined) -> [N, outputs]
using Branch = std::function<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&)>;

// `layers` SiLU layers of `hidden` units on [state, action], then a linear layer to `outputs`
Branch make_state_mlp(torch::nn::Module& root, int64_t state_size, int64_t action_size,
                      int64_t hidden, int64_t layers, int64_t outputs);

struct FusionShape {
  int64_t image_size = 128, patch = 16, dim = 384, depth = 7, heads = 6, fusion_depth = 2;
};
// a ViT over the frame (patch tokens + CLS), then fusion blocks over [frame tokens, state token,
// action token]; the state token's output is read out to `outputs`
Branch make_pixel_fusion(torch::nn::Module& root, int64_t state_size, int64_t action_size,
                         const FusionShape& shape, int64_t outputs);

// P2's policy: `layers` GELU layers of `hidden` units, tanh output of `action_size`
std::function<at::Tensor(const at::Tensor&)> make_policy(torch::nn::Module& root, int64_t state_size,
                                                         int64_t hidden, int64_t layers, int64_t action_size);

}  // namespace nsca
