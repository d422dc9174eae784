// single_stream: the baseline of research plan 004. The same gap-weighted future-prediction
// objective as two_stream, with one ViT that reads frame t and frame t+k as one token sequence
// (a learned frame embedding tells them apart). Its CLS token, squeezed to the change embedding,
// is the only way the future reaches the decoder, which sees frame t through a patch embedding.
#include <torch/torch.h>

#include "wm/nn/frame_decoder.h"
#include "wm/nn/frame_pair_model.h"
#include "wm/nn/transformer.h"
#include "wm/sdk.h"

namespace {

class SingleStreamNet : public wm::nn::FramePairNet {
 public:
  explicit SingleStreamNet(const wm::Params& p) : patch_(p.get<int64_t>("patch")) {
    int64_t size = p.get<int64_t>("image_size"), dim = p.get<int64_t>("dim");
    int64_t heads = p.get<int64_t>("heads"), change_dim = p.get<int64_t>("change_dim");
    if (dim % heads) throw p.error("heads", "must divide dim (" + std::to_string(dim) + ")");
    if (size % patch_) throw p.error("patch", "must divide image_size (" + std::to_string(size) + ")");
    encoder_ = register_module("encoder", wm::nn::VitEncoder(3, size, patch_, dim, p.get<int64_t>("depth"), heads));
    frame_embed_ = register_parameter("frame_embed", torch::zeros({2, dim}));
    first_embed_ = register_module("first_embed", torch::nn::Linear(patch_ * patch_ * 3, dim));
    change_head_ = register_module("change_head", torch::nn::Linear(dim, change_dim));
    int64_t patches = (size / patch_) * (size / patch_);
    decoder_ = register_module("decoder", wm::nn::FrameDecoder(dim, change_dim, p.get<int64_t>("decoder_dim"),
                                                               p.get<int64_t>("decoder_depth"), heads,
                                                               patches, patch_ * patch_ * 3));
    wm::nn::init_vit_weights(*this);
    if (p.get<bool>("start_from_copy")) decoder_->zero_output();
  }

  // first, future [N, 3, H, W] -> predicted future [N, 3, H, W] and change embedding [N, change_dim]
  std::pair<at::Tensor, at::Tensor> predict_pair(const at::Tensor& first, const at::Tensor& future) override {
    // one sequence: [CLS, patches of t, patches of t+k]
    auto a = encoder_->embed(first), b = encoder_->embed(future);
    auto tokens = torch::cat({a.slice(1, 0, 1), a.slice(1, 1) + frame_embed_[0], b.slice(1, 1) + frame_embed_[1]}, 1);
    auto cls = encoder_->finish(encoder_->run(tokens, 0, encoder_->depth())).select(1, 0);
    auto change = wm::nn::linear(cls, change_head_->weight, change_head_->bias);
    auto appearance = wm::nn::linear(wm::nn::patchify(first, patch_), first_embed_->weight, first_embed_->bias);
    auto delta = decoder_->forward(appearance, change);
    return {first + wm::nn::unpatchify(delta, patch_, 3, first.size(2), first.size(3)), change};
  }

 private:
  int64_t patch_;
  wm::nn::VitEncoder encoder_{nullptr};
  at::Tensor frame_embed_;
  torch::nn::Linear first_embed_{nullptr}, change_head_{nullptr};
  wm::nn::FrameDecoder decoder_{nullptr};
};

// both frames' patches count as tokens, for token budgets
int64_t tokens_per_pair(const wm::Params& p) {
  int64_t side = p.get<int64_t>("image_size") / p.get<int64_t>("patch");
  return 2 * side * side;
}

class SingleStream : public wm::nn::FramePairModel {
 public:
  static wm::Schema schema() {
    return wm::nn::with_future_prediction_params(wm::Schema{}
        .integer("image_size", 64, "frame height and width the model expects").at_least(8)
        .integer("patch", 8, "patch size in pixels").at_least(1)
        .integer("dim", 128, "token width").at_least(8)
        .integer("depth", 4, "encoder blocks").at_least(1)
        .integer("heads", 4, "attention heads").at_least(1)
        .integer("change_dim", 32, "width of the change embedding (the bottleneck)").at_least(1)
        .integer("decoder_dim", 128, "decoder token width").at_least(8)
        .integer("decoder_depth", 2, "decoder blocks").at_least(1));
  }

  explicit SingleStream(const wm::Params& p)
      : FramePairModel(std::make_shared<SingleStreamNet>(p), wm::nn::gap_sampling(p),
                       p.get<int64_t>("eval_gap"), tokens_per_pair(p)) {}
};

}  // namespace

WM_PLUGIN(wm::Model, SingleStream, "single_stream", "1.0.0",
          "Single-Stream baseline: one ViT over frames t and t+k, same future-prediction objective")
