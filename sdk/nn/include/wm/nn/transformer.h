// Transformer building blocks shared by the model plugins, with the parameter names of the
// official VideoMAE / timm checkpoints (blocks.N.norm1, blocks.N.attn.qkv, attn.q_bias, ...),
// so an official state dict loads by name. Heavy LibTorch headers: include from plugins only.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

namespace wm::nn {

//---- functions ----

// x @ weight^T + bias through one addmm on a 2-D view: the C++ frontend's Linear does matmul then
// a separate add for 3-D inputs, which is slower on CPU
at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// fixed 1-D sinusoid table [positions, dim], sin on even and cos on odd channels, interleaved
// (VideoMAE's get_sinusoid_encoding_table)
at::Tensor sinusoid_table(int64_t positions, int64_t dim);

// softmax(q k^T / sqrt(d)) v on [B, heads, N, d]; uses the fused kernel on LibTorch >= 2.0.
// `mask` (optional, bool [N, N]) is true where query i may attend to key j
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& mask = {});

//---- modules ----

// multi-head self-attention with a bias-free qkv projection and separate q and v biases
// (BEiT / VideoMAE layout: the k bias is fixed at zero)
class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t dim, int64_t heads, bool qv_bias = true);
  // [B, N, D] -> [B, N, D]; mask as in attention()
  at::Tensor forward(const at::Tensor& x, const at::Tensor& mask = {});

 private:
  int64_t heads_;
  torch::nn::Linear qkv_{nullptr}, proj_{nullptr};
  at::Tensor q_bias_, v_bias_;
};
TORCH_MODULE(Attention);

class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t dim, int64_t hidden);
  at::Tensor forward(const at::Tensor& x);

 private:
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(Mlp);

// pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)); LayerNorm eps 1e-6
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(int64_t dim, int64_t heads, double mlp_ratio = 4.0);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& mask = {});

 private:
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  Attention attn_{nullptr};
  Mlp mlp_{nullptr};
};
TORCH_MODULE(Block);

// a stack of blocks registered as `blocks.0`, `blocks.1`, ... on `owner`
torch::nn::ModuleList make_blocks(torch::nn::Module& owner, int64_t depth, int64_t dim,
                                  int64_t heads, double mlp_ratio = 4.0);
at::Tensor run_blocks(const torch::nn::ModuleList& blocks, at::Tensor x, int64_t begin = 0,
                      int64_t end = -1);
// every block under an attention mask (see attention())
at::Tensor run_blocks_masked(const torch::nn::ModuleList& blocks, at::Tensor x,
                             const at::Tensor& mask);

// a ViT over images: patch embedding (Conv2d named patch_embed.proj), a CLS token, a fixed
// sinusoid position table, pre-norm blocks and a final norm
class VitEncoderImpl : public torch::nn::Module {
 public:
  VitEncoderImpl(int64_t channels, int64_t image_size, int64_t patch, int64_t dim, int64_t depth,
                 int64_t heads);
  at::Tensor embed(const at::Tensor& images);    // [B, C, H, W] -> [B, 1 + N, D]
  at::Tensor forward(const at::Tensor& images);  // embed, every block, norm
  at::Tensor run(const at::Tensor& tokens, int64_t begin, int64_t end);  // blocks [begin, end)
  at::Tensor finish(const at::Tensor& tokens);   // the final norm
  int64_t depth() const { return static_cast<int64_t>(blocks_->size()); }
  int64_t patches() const { return pos_embed_.size(0) - 1; }

 private:
  torch::nn::Conv2d patch_embed_{nullptr};
  at::Tensor cls_token_, pos_embed_;
  torch::nn::ModuleList blocks_;
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(VitEncoder);

// Xavier-uniform Linear weights and zero biases, LayerNorm to (1, 0): the VideoMAE initialisation
void init_vit_weights(torch::nn::Module& module);

}  // namespace wm::nn
