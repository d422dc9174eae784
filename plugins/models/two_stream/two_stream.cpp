// two_stream: action-agnostic future prediction with a motion (M) and an appearance (P) stream
// (research plan 004). From frames t and t+k the M stream reads the motion (frame difference), the
// P stream the appearance of frame t; the streams swap CLS tokens half-way; the M stream's CLS,
// squeezed to a small change embedding, is the only way motion reaches the decoder, which
// predicts frame t+k from the P stream's patch tokens. Loss: gap-weighted MSE (see
// wm/nn/future_prediction.h). Ablations: m_only, p_only, no_exchange, early_fusion.
#include <torch/torch.h>

#include "wm/nn/frame_decoder.h"
#include "wm/nn/future_prediction.h"
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

class TwoStreamNet : public torch::nn::Module {
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
  std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& first, const at::Tensor& future) {
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

class TwoStream : public wm::Model {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
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
        .integer("decoder_depth", 2, "decoder blocks").at_least(1)
        .integer("max_gap", 10, "largest frame gap k sampled in training").at_least(1)
        .real("sample_decay", 0.8, "P(gap k) proportional to sample_decay^(k-1)").range(0.0, 1.0)
        .real("loss_decay", 0.5, "a gap-k sample's loss weight is loss_decay^(k-1)").range(0.0, 1.0)
        .integer("eval_gap", 1, "gap predicted when an evaluation batch names none").at_least(1)
        .boolean("start_from_copy", true,
                 "zero the output layer, so training starts exactly at the copy-last-frame baseline");
  }

  explicit TwoStream(const wm::Params& p)
      : net_(std::make_shared<TwoStreamNet>(p, parse_variant(p.get<std::string>("variant")))),
        sampling_{p.get<int64_t>("max_gap"), p.get<double>("sample_decay"), p.get<double>("loss_decay")},
        eval_gap_(p.get<int64_t>("eval_gap")),
        tokens_per_pair_(2 * (p.get<int64_t>("image_size") / p.get<int64_t>("patch")) *
                         (p.get<int64_t>("image_size") / p.get<int64_t>("patch"))) {}

  std::vector<std::string> required_keys() const override { return {"video"}; }

  wm::LossOutput loss(const wm::Batch& batch) override {
    auto pairs = wm::nn::sample_frame_pairs(batch.at("video"), sampling_);
    auto [predicted, change] = net_->forward(pairs.first, pairs.future);
    wm::LossOutput out;
    out.loss = wm::nn::gap_weighted_mse(predicted, pairs.future, pairs.gaps, sampling_.loss_decay, out.logs);
    out.tokens = tokens_per_pair_ * batch.size();
    return out;
  }

  // every frame pair of each clip at the requested gap: [B, T-gap, ...]
  wm::TensorMap predict(const wm::Batch& batch) override {
    const auto& video = batch.at("video");
    int64_t gap = wm::nn::requested_gap(batch.tensors, eval_gap_);
    auto pairs = wm::nn::pairs_at_gap(video, gap);
    auto [predicted, change] = net_->forward(pairs.first, pairs.future);
    int64_t b = video.size(0), steps = video.size(1) - gap;
    return {{"prediction", predicted.view({b, steps, 3, video.size(3), video.size(4)})},
            {"target", pairs.future.view({b, steps, 3, video.size(3), video.size(4)})},
            {"change_embedding", change.view({b, steps, -1})}};
  }

  // features for probes: the mean change embedding over consecutive frames of each clip
  wm::TensorMap encode(const wm::Batch& batch) override {
    auto pairs = wm::nn::pairs_at_gap(batch.at("video"), 1);
    auto change = net_->forward(pairs.first, pairs.future).second;
    return {{"features", change.view({batch.size(), -1, change.size(1)}).mean(1)}};
  }

  wm::NamedTensors parameters() const override {
    wm::NamedTensors named;
    for (const auto& item : net_->named_parameters()) named.emplace_back(item.key(), item.value());
    return named;
  }
  void set_training(bool training) override { net_->train(training); }

 private:
  std::shared_ptr<TwoStreamNet> net_;
  wm::nn::GapSampling sampling_;
  int64_t eval_gap_, tokens_per_pair_;
};

}  // namespace

WM_PLUGIN(wm::Model, TwoStream, "two_stream", "1.0.0",
          "Two-Stream future-frame predictor: motion and appearance ViTs exchanging CLS tokens")
