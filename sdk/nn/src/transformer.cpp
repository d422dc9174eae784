#include "wm/nn/transformer.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <limits>

namespace wm::nn {

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (x.dim() == 2) return bias.defined() ? at::addmm(bias, x, weight.t()) : at::mm(x, weight.t());
  auto sizes = x.sizes().vec();
  auto flat = x.reshape({-1, sizes.back()});
  auto out = bias.defined() ? at::addmm(bias, flat, weight.t()) : at::mm(flat, weight.t());
  sizes.back() = weight.size(0);
  return out.view(sizes);
}

at::Tensor sinusoid_table(int64_t positions, int64_t dim) {
  auto position = torch::arange(positions, torch::kFloat64).unsqueeze(1);       // [N, 1]
  auto channel = torch::arange(dim, torch::kFloat64);                            // [D]
  auto exponent = 2.0 * torch::floor(channel / 2.0) / static_cast<double>(dim);  // 2*floor(j/2)/d
  auto angle = position / torch::pow(10000.0, exponent).unsqueeze(0);            // [N, D]
  auto even = (channel.remainder(2) == 0).unsqueeze(0);
  return torch::where(even, torch::sin(angle), torch::cos(angle)).to(torch::kFloat32);
}

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& mask) {
#if TORCH_VERSION_MAJOR >= 2
  return mask.defined() ? at::scaled_dot_product_attention(q, k, v, mask)
                        : at::scaled_dot_product_attention(q, k, v);
#else
  auto scores = at::matmul(q, k.transpose(-2, -1)).mul_(1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  if (mask.defined()) scores.masked_fill_(mask.logical_not(), -std::numeric_limits<double>::infinity());
  return at::matmul(scores.softmax(-1), v);
#endif
}

AttentionImpl::AttentionImpl(int64_t dim, int64_t heads, bool qv_bias) : heads_(heads) {
  TORCH_CHECK(dim % heads == 0, "attention width ", dim, " is not divisible by ", heads, " heads");
  qkv_ = register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(dim, 3 * dim).bias(false)));
  if (qv_bias) {
    q_bias_ = register_parameter("q_bias", torch::zeros({dim}));
    v_bias_ = register_parameter("v_bias", torch::zeros({dim}));
  }
  proj_ = register_module("proj", torch::nn::Linear(dim, dim));
}

at::Tensor AttentionImpl::forward(const at::Tensor& x, const at::Tensor& mask) {
  int64_t batch = x.size(0), tokens = x.size(1), dim = x.size(2);
  at::Tensor bias;
  if (q_bias_.defined()) bias = torch::cat({q_bias_, torch::zeros_like(v_bias_), v_bias_});
  // qkv: [B, N, 3D] -> 3 x [B, heads, N, D/heads]
  auto qkv = linear(x, qkv_->weight, bias)
                 .reshape({batch, tokens, 3, heads_, dim / heads_})
                 .permute({2, 0, 3, 1, 4});
  auto out = attention(qkv[0], qkv[1], qkv[2], mask).transpose(1, 2).reshape({batch, tokens, dim});
  return linear(out, proj_->weight, proj_->bias);
}

MlpImpl::MlpImpl(int64_t dim, int64_t hidden) {
  fc1_ = register_module("fc1", torch::nn::Linear(dim, hidden));
  fc2_ = register_module("fc2", torch::nn::Linear(hidden, dim));
}

at::Tensor MlpImpl::forward(const at::Tensor& x) {
  return linear(torch::gelu(linear(x, fc1_->weight, fc1_->bias)), fc2_->weight, fc2_->bias);
}

BlockImpl::BlockImpl(int64_t dim, int64_t heads, double mlp_ratio) {
  auto norm = torch::nn::LayerNormOptions({dim}).eps(1e-6);
  norm1_ = register_module("norm1", torch::nn::LayerNorm(norm));
  attn_ = register_module("attn", Attention(dim, heads));
  norm2_ = register_module("norm2", torch::nn::LayerNorm(norm));
  mlp_ = register_module("mlp", Mlp(dim, static_cast<int64_t>(dim * mlp_ratio)));
}

at::Tensor BlockImpl::forward(const at::Tensor& x, const at::Tensor& mask) {
  auto h = x + attn_->forward(norm1_->forward(x), mask);
  return h + mlp_->forward(norm2_->forward(h));
}

torch::nn::ModuleList make_blocks(torch::nn::Module& owner, int64_t depth, int64_t dim,
                                  int64_t heads, double mlp_ratio) {
  torch::nn::ModuleList blocks;
  for (int64_t i = 0; i < depth; ++i) blocks->push_back(Block(dim, heads, mlp_ratio));
  return owner.register_module("blocks", blocks);
}

at::Tensor run_blocks(const torch::nn::ModuleList& blocks, at::Tensor x, int64_t begin,
                      int64_t end) {
  if (end < 0) end = static_cast<int64_t>(blocks->size());
  for (int64_t i = begin; i < end; ++i)
    x = blocks->ptr<BlockImpl>(static_cast<size_t>(i))->forward(x);
  return x;
}

at::Tensor run_blocks_masked(const torch::nn::ModuleList& blocks, at::Tensor x,
                             const at::Tensor& mask) {
  for (size_t i = 0; i < blocks->size(); ++i) x = blocks->ptr<BlockImpl>(i)->forward(x, mask);
  return x;
}

VitEncoderImpl::VitEncoderImpl(int64_t channels, int64_t image_size, int64_t patch, int64_t dim,
                               int64_t depth, int64_t heads) {
  TORCH_CHECK(image_size % patch == 0, "image size ", image_size, " is not a multiple of patch ", patch);
  patch_embed_ = torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, dim, patch).stride(patch));
  // registered under patch_embed.proj, the timm name
  auto holder = std::make_shared<torch::nn::Module>();
  holder->register_module("proj", patch_embed_);
  register_module("patch_embed", holder);
  int64_t count = (image_size / patch) * (image_size / patch);
  cls_token_ = register_parameter("cls_token", torch::randn({1, 1, dim}) * 0.02);
  pos_embed_ = register_buffer("pos_embed", sinusoid_table(count + 1, dim));
  blocks_ = make_blocks(*this, depth, dim, heads);
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
}

at::Tensor VitEncoderImpl::embed(const at::Tensor& images) {
  auto tokens = patch_embed_->forward(images).flatten(2).transpose(1, 2);  // [B, N, D]
  TORCH_CHECK(tokens.size(1) == patches(), "expected ", patches(), " patches, got ", tokens.size(1),
              " (image size differs from the model's image_size)");
  auto cls = cls_token_.expand({tokens.size(0), 1, tokens.size(2)});
  return torch::cat({cls, tokens}, 1) + pos_embed_;
}

at::Tensor VitEncoderImpl::run(const at::Tensor& tokens, int64_t begin, int64_t end) {
  return run_blocks(blocks_, tokens, begin, end);
}

at::Tensor VitEncoderImpl::finish(const at::Tensor& tokens) { return norm_->forward(tokens); }

at::Tensor VitEncoderImpl::forward(const at::Tensor& images) {
  return finish(run(embed(images), 0, depth()));
}

void init_vit_weights(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& child : module.modules(/*include_self=*/false)) {
    if (auto* linear_layer = child->as<torch::nn::LinearImpl>()) {
      torch::nn::init::xavier_uniform_(linear_layer->weight);
      if (linear_layer->bias.defined()) linear_layer->bias.zero_();
    } else if (auto* norm = child->as<torch::nn::LayerNormImpl>()) {
      norm->weight.fill_(1.0);
      norm->bias.zero_();
    }
  }
}

}  // namespace wm::nn
