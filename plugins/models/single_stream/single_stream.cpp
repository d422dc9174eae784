// single_stream: the baseline of research plan 004. The same gap-weighted future-prediction
// objective as two_stream, with one ViT that reads frame t and frame t+k as one token sequence
// (a learned frame embedding tells them apart). Its CLS token, squeezed to the change embedding,
// is the only way the future reaches the decoder, which sees frame t through a patch embedding.
#include <torch/torch.h>

#include "wm/nn/frame_decoder.h"
#include "wm/nn/future_prediction.h"
#include "wm/nn/transformer.h"
#include "wm/sdk.h"

namespace {

class SingleStreamNet : public torch::nn::Module {
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
  std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& first, const at::Tensor& future) {
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

class SingleStream : public wm::Model {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .integer("image_size", 64, "frame height and width the model expects").at_least(8)
        .integer("patch", 8, "patch size in pixels").at_least(1)
        .integer("dim", 128, "token width").at_least(8)
        .integer("depth", 4, "encoder blocks").at_least(1)
        .integer("heads", 4, "attention heads").at_least(1)
        .integer("change_dim", 32, "width of the change embedding (the bottleneck)").at_least(1)
        .integer("decoder_dim", 128, "decoder token width").at_least(8)
        .integer("decoder_depth", 2, "decoder blocks").at_least(1)
        .integer("max_gap", 10, "largest frame gap k sampled in training").at_least(1)
        .real("sample_decay", 0.8, "P(gap k) proportional to sample_decay^(k-1)").range(0.0, 1.0)
        .real("loss_decay", 0.5, "a gap-k sample's loss weight is loss_decay^(k-1)").range(0.0, 1.0)
        .integer("eval_gap", 1, "gap predicted when an evaluation batch names none").at_least(1)
        .boolean("start_from_copy", true,
                 "zero the output layer, so training starts exactly at the copy-last-frame baseline");
  }

  explicit SingleStream(const wm::Params& p)
      : net_(std::make_shared<SingleStreamNet>(p)),
        sampling_{p.get<int64_t>("max_gap"), p.get<double>("sample_decay"), p.get<double>("loss_decay")},
        eval_gap_(p.get<int64_t>("eval_gap")),
        tokens_per_pair_(2 * (p.get<int64_t>("image_size") / p.get<int64_t>("patch")) *
                         (p.get<int64_t>("image_size") / p.get<int64_t>("patch"))) {}

  std::vector<std::string> required_keys() const override { return {"video"}; }

  wm::LossOutput loss(const wm::Batch& batch) override {
    auto pairs = wm::nn::sample_frame_pairs(batch.at("video"), sampling_);
    auto predicted = net_->forward(pairs.first, pairs.future).first;
    wm::LossOutput out;
    out.loss = wm::nn::gap_weighted_mse(predicted, pairs.future, pairs.gaps, sampling_.loss_decay, out.logs);
    out.tokens = tokens_per_pair_ * batch.size();
    return out;
  }

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
  std::shared_ptr<SingleStreamNet> net_;
  wm::nn::GapSampling sampling_;
  int64_t eval_gap_, tokens_per_pair_;
};

}  // namespace

WM_PLUGIN(wm::Model, SingleStream, "single_stream", "1.0.0",
          "Single-Stream baseline: one ViT over frames t and t+k, same future-prediction objective")
