// two_stream: action-agnostic future prediction with a motion (M) and an appearance (P) stream
// (research plan 004). From frames t and t+k the M stream reads the motion (frame difference), the
// P stream the appearance of frame t; the streams swap CLS tokens half-way; the M stream's CLS,
// squeezed to a small change embedding, is the only way motion reaches the decoder, which
// predicts frame t+k from the P stream's patch tokens. Loss: gap-weighted MSE (see
// wm/nn/future_prediction.h). Ablations: m_only, p_only, no_exchange, early_fusion.
#include <torch/torch.h>

#include "wm/nn/frame_decoder.h"
#include "wm/nn/frame_pair_model.h"
#include "wm/nn/transformer.h"
#include "wm/sdk.h"

namespace {

using wm::nn::FrameDecoder;
using wm::nn::VitEncoder;

enum class Variant { TwoStream, MOnly, POnly, NoExchange, EarlyFusion };

Variant parse_variant(const std::string& name) {
  if (name == "m_only") return Variant::MOnly;
  if (name == "p_only") return Variant::POnly;
  if (name == "no_exchange") return Variant::NoExchange;
  if (name == "early_fusion") return Variant::EarlyFusion;
  return Variant::TwoStream;
}

class TwoStreamNet : public wm::nn::FramePairNet {
 public:
  TwoStreamNet(const wm::Params& p, Variant variant)
      : variant_(variant), patch_(p.get<int64_t>("patch")) {
    int64_t size = p.get<int64_t>("image_size"), dim = p.get<int64_t>("dim");
    int64_t depth = p.get<int64_t>("depth"), heads = p.get<int64_t>("heads");
    int64_t change_dim = p.get<int64_t>("change_dim");
    exchange_layer_ = p.get<int64_t>("exchange_layer");
    if (exchange_layer_ < 0) exchange_layer_ = depth / 2;
    if (exchange_layer_ > depth) throw p.error("exchange_layer", "must be at most depth");
    if (dim % heads) throw p.error("heads", "must divide dim (" + std::to_string(dim) + ")");
    if (size % patch_) throw p.error("patch", "must divide image_size (" + std::to_string(size) + ")");

    bool motion = variant != Variant::POnly && variant != Variant::EarlyFusion;
    bool appearance = variant != Variant::MOnly && variant != Variant::EarlyFusion;
    if (motion) m_stream_ = register_module("m_stream", VitEncoder(3, size, patch_, dim, depth, heads));
    if (appearance) p_stream_ = register_module("p_stream", VitEncoder(3, size, patch_, dim, depth, heads));
    if (variant == Variant::EarlyFusion)
      fused_stream_ = register_module("fused_stream", VitEncoder(6, size, patch_, dim, depth, heads));
    // without a P stream the decoder sees frame t through a plain patch embedding
    if (!appearance) first_embed_ = register_module("first_embed", torch::nn::Linear(patch_ * patch_ * 3, dim));
    int64_t cls_width = variant == Variant::NoExchange ? 2 * dim : dim;
    change_head_ = register_module("change_head", torch::nn::Linear(cls_width, change_dim));
    int64_t patches = (size / patch_) * (size / patch_);
    decoder_ = register_module("decoder", FrameDecoder(dim, change_dim, p.get<int64_t>("decoder_dim"),
                                                       p.get<int64_t>("decoder_depth"), heads, patches,
                                                       patch_ * patch_ * 3));
    wm::nn::init_vit_weights(*this);
    if (p.get<bool>("start_from_copy")) decoder_->zero_output();
  }

  // first, future [N, 3, H, W] -> predicted future [N, 3, H, W] and change embedding [N, change_dim]
  std::pair<at::Tensor, at::Tensor> predict_pair(const at::Tensor& first, const at::Tensor& future) override {
    auto motion = future - first;
    at::Tensor cls, appearance_tokens;
    switch (variant_) {
      case Variant::EarlyFusion: {
        auto tokens = fused_stream_->forward(torch::cat({first, motion}, 1));
        cls = tokens.select(1, 0);
        break;
      }
      case Variant::MOnly:
        cls = m_stream_->forward(motion).select(1, 0);
        break;
      case Variant::POnly: {
        auto tokens = p_stream_->forward(first);
        cls = tokens.select(1, 0);
        appearance_tokens = tokens.slice(1, 1);
        break;
      }
      case Variant::TwoStream:
      case Variant::NoExchange: {
        auto m = m_stream_->run(m_stream_->embed(motion), 0, exchange_layer_);
        auto a = p_stream_->run(p_stream_->embed(first), 0, exchange_layer_);
        if (variant_ == Variant::TwoStream) {  // swap the CLS tokens between the streams
          auto m_cls = m.slice(1, 0, 1);
          m = torch::cat({a.slice(1, 0, 1), m.slice(1, 1)}, 1);
          a = torch::cat({m_cls, a.slice(1, 1)}, 1);
        }
        m = m_stream_->finish(m_stream_->run(m, exchange_layer_, m_stream_->depth()));
        a = p_stream_->finish(p_stream_->run(a, exchange_layer_, p_stream_->depth()));
        cls = variant_ == Variant::TwoStream ? m.select(1, 0)
                                             : torch::cat({m.select(1, 0), a.select(1, 0)}, 1);
        appearance_tokens = a.slice(1, 1);
        break;
      }
    }
    if (!appearance_tokens.defined()) {
      auto patches = wm::nn::patchify(first, patch_);
      appearance_tokens = wm::nn::linear(patches, first_embed_->weight, first_embed_->bias);
    }
    auto change = wm::nn::linear(cls, change_head_->weight, change_head_->bias);
    auto delta = decoder_->forward(appearance_tokens, change);
    auto predicted = first + wm::nn::unpatchify(delta, patch_, 3, first.size(2), first.size(3));
    return {predicted, change};
  }

 private:
  Variant variant_;
  int64_t patch_, exchange_layer_ = 0;
  VitEncoder m_stream_{nullptr}, p_stream_{nullptr}, fused_stream_{nullptr};
  torch::nn::Linear first_embed_{nullptr}, change_head_{nullptr};
  FrameDecoder decoder_{nullptr};
};

// both frames' patches count as tokens, for token budgets
int64_t tokens_per_pair(const wm::Params& p) {
  int64_t side = p.get<int64_t>("image_size") / p.get<int64_t>("patch");
  return 2 * side * side;
}

class TwoStream : public wm::nn::FramePairModel {
 public:
  static wm::Schema schema() {
    return wm::nn::with_future_prediction_params(wm::Schema{}
        .choice("variant", "two_stream", {"two_stream", "m_only", "p_only", "no_exchange", "early_fusion"},
                "two_stream, or an ablation: one stream only, no CLS exchange, one 6-channel ViT")
        .integer("image_size", 64, "frame height and width the model expects").at_least(8)
        .integer("patch", 8, "patch size in pixels").at_least(1)
        .integer("dim", 128, "token width of each stream").at_least(8)
        .integer("depth", 4, "blocks per stream").at_least(1)
        .integer("heads", 4, "attention heads").at_least(1)
        .integer("exchange_layer", -1, "block after which the streams swap CLS tokens (-1: depth/2)")
        .integer("change_dim", 32, "width of the change embedding (the motion bottleneck)").at_least(1)
        .integer("decoder_dim", 128, "decoder token width").at_least(8)
        .integer("decoder_depth", 2, "decoder blocks").at_least(1));
  }

  explicit TwoStream(const wm::Params& p)
      : FramePairModel(std::make_shared<TwoStreamNet>(p, parse_variant(p.get<std::string>("variant"))),
                       wm::nn::gap_sampling(p), p.get<int64_t>("eval_gap"), tokens_per_pair(p)) {}
};

}  // namespace

WM_PLUGIN(wm::Model, TwoStream, "two_stream", "1.0.0",
          "Two-Stream future-frame predictor: motion and appearance ViTs exchanging CLS tokens")
