#include "learned_branch.h"

#include <torch/torch.h>

#include "wm/nn/transformer.h"

namespace nsca {

namespace {

torch::nn::Sequential mlp(int64_t inputs, int64_t hidden, int64_t layers, int64_t outputs, bool silu) {
  torch::nn::Sequential net;
  int64_t width = inputs;
  for (int64_t i = 0; i < layers; ++i) {
    net->push_back(torch::nn::Linear(width, hidden));
    if (silu)
      net->push_back(torch::nn::SiLU());
    else
      net->push_back(torch::nn::GELU());
    width = hidden;
  }
  net->push_back(torch::nn::Linear(width, outputs));
  return net;
}

// frame tokens, then [state, action] tokens, through the fusion blocks
class PixelFusionImpl : public torch::nn::Module {
 public:
  PixelFusionImpl(int64_t state_size, int64_t action_size, const FusionShape& s, int64_t outputs) {
    vit_ = register_module("vit", wm::nn::VitEncoder(3, s.image_size, s.patch, s.dim, s.depth, s.heads));
    state_token_ = register_module("state_token", torch::nn::Linear(state_size, s.dim));
    action_token_ = register_module("action_token", torch::nn::Linear(action_size, s.dim));
    kind_ = register_parameter("kind_embed", torch::zeros({2, s.dim}));  // which token is which
    fusion_ = wm::nn::make_blocks(*this, s.fusion_depth, s.dim, s.heads);
    norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({s.dim}).eps(1e-6)));
    head_ = register_module("head", torch::nn::Linear(s.dim, outputs));
    wm::nn::init_vit_weights(*this);
  }

  at::Tensor forward(const at::Tensor& state, const at::Tensor& action, const at::Tensor& frames) {
    auto frame_tokens = vit_->forward(frames);  // [N, 1 + P, D], normalised
    auto s = state_token_->forward(state) + kind_[0];
    auto a = action_token_->forward(action) + kind_[1];
    auto x = torch::cat({frame_tokens, s.unsqueeze(1), a.unsqueeze(1)}, 1);
    x = norm_->forward(wm::nn::run_blocks(fusion_, x));
    return head_->forward(x.select(1, x.size(1) - 2));
  }

 private:
  wm::nn::VitEncoder vit_{nullptr};
  torch::nn::Linear state_token_{nullptr}, action_token_{nullptr}, head_{nullptr};
  at::Tensor kind_;
  torch::nn::ModuleList fusion_;
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(PixelFusion);

}  // namespace

Branch make_state_mlp(torch::nn::Module& root, int64_t state_size, int64_t action_size, int64_t hidden,
                      int64_t layers, int64_t outputs) {
  auto net = root.register_module("learned", mlp(state_size + action_size, hidden, layers, outputs, true));
  return [net](const at::Tensor& state, const at::Tensor& action, const at::Tensor&) {
    return net->forward(torch::cat({state, action}, 1));
  };
}

Branch make_pixel_fusion(torch::nn::Module& root, int64_t state_size, int64_t action_size,
                         const FusionShape& shape, int64_t outputs) {
  auto net = root.register_module("learned", PixelFusion(state_size, action_size, shape, outputs));
  return [net](const at::Tensor& state, const at::Tensor& action, const at::Tensor& frames) {
    return net->forward(state, action, frames);
  };
}

std::function<at::Tensor(const at::Tensor&)> make_policy(torch::nn::Module& root, int64_t state_size,
                                                         int64_t hidden, int64_t layers, int64_t action_size) {
  auto net = root.register_module("policy", mlp(state_size, hidden, layers, action_size, false));
  return [net](const at::Tensor& state) { return torch::tanh(net->forward(state)); };
}

}  // namespace nsca
