// glp: a Generative Latent Prediction adapter (research plan 000). A small transformer on top of a
// frozen per-frame encoder maps the latents of the current clip and the action taken (a continuous
// vector or a discrete label) to the latents of the outcome clip, as a change added to the last
// current latent (so it starts as the copy-last-latent baseline). A decoder turns latents back into
// frames so pixel metrics (PSNR, SSIM, LPIPS, FVD) can judge them: trained here on the true latents
// (never on predictions), or frozen and loaded from a file. An optional inverse-dynamics head
// (action_head.h) reads which action the predicted outcome shows.
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "action_head.h"
#include "wm/nn/frame_decoder.h"
#include "wm/nn/frame_pair_model.h"
#include "wm/nn/frozen_frame_encoder.h"
#include "wm/nn/future_prediction.h"
#include "wm/nn/transformer.h"
#include "wm/sdk.h"
#include "wm/io/checkpoint.h"

namespace {

// [action, current clip tokens, outcome queries] -> the outcome clip's latents
class AdapterImpl : public torch::nn::Module {
 public:
  AdapterImpl(const wm::Params& p, int64_t latent_dim, int64_t tokens)
      : label_actions_(p.get<std::string>("action") == "label"),
        outcome_frames_(p.get<int64_t>("outcome_frames")),
        tokens_(tokens) {
    int64_t dim = p.get<int64_t>("dim"), heads = p.get<int64_t>("heads");
    if (dim % heads) throw p.error("heads", "must divide dim (" + std::to_string(dim) + ")");
    if (label_actions_)
      label_embed_ = register_module("label_embed", torch::nn::Embedding(p.get<int64_t>("classes"), dim));
    else
      action_embed_ = register_module("action_embed", torch::nn::Linear(p.get<int64_t>("action_size"), dim));
    latent_embed_ = register_module("latent_embed", torch::nn::Linear(latent_dim, dim));
    blocks_ = wm::nn::make_blocks(*this, p.get<int64_t>("depth"), dim, heads);
    norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
    head_ = register_module("head", torch::nn::Linear(dim, latent_dim));
    int64_t frames = p.get<int64_t>("context_frames") + outcome_frames_;
    time_pos_ = register_buffer("time_pos", wm::nn::sinusoid_table(frames, dim));
    space_pos_ = register_buffer("space_pos", wm::nn::sinusoid_table(tokens, dim));
    wm::nn::init_vit_weights(*this);
    torch::NoGradGuard no_grad;
    head_->weight.zero_(), head_->bias.zero_();  // start as copy-last-latent
  }

  // current [B, C, N, D], action [B, A] float or [B] int64 -> outcome [B, O, N, D]
  at::Tensor forward(const at::Tensor& current, const at::Tensor& action) {
    int64_t batch = current.size(0), context = current.size(1), dim = time_pos_.size(1);
    auto action_token = label_actions_ ? label_embed_->forward(action)
                                       : wm::nn::linear(action, action_embed_->weight, action_embed_->bias);
    auto embed = [&](const at::Tensor& latents, int64_t first_time) {  // [B, F, N, D] -> [B, F*N, P]
      auto x = wm::nn::linear(latents, latent_embed_->weight, latent_embed_->bias) + space_pos_ +
               time_pos_.slice(0, first_time, first_time + latents.size(1)).unsqueeze(1);
      return x.flatten(1, 2);
    };
    auto last = current.slice(1, context - 1, context);
    auto queries = embed(last.expand({-1, outcome_frames_, -1, -1}), context);
    auto x = torch::cat({action_token.unsqueeze(1), embed(current, 0), queries}, 1);
    x = norm_->forward(wm::nn::run_blocks(blocks_, x)).slice(1, x.size(1) - queries.size(1));
    auto change = wm::nn::linear(x, head_->weight, head_->bias).view({batch, outcome_frames_, tokens_, -1});
    return last + change;
  }

 private:
  bool label_actions_;
  int64_t outcome_frames_, tokens_;
  torch::nn::Embedding label_embed_{nullptr};
  torch::nn::Linear action_embed_{nullptr}, latent_embed_{nullptr}, head_{nullptr};
  torch::nn::ModuleList blocks_;
  torch::nn::LayerNorm norm_{nullptr};
  at::Tensor time_pos_, space_pos_;
};
TORCH_MODULE(Adapter);

class Glp : public wm::Model {
 public:
  static wm::Schema schema() {
    return wm::nn::with_frozen_encoder_params(
        wm::Schema{}
            .integer("context_frames", 4, "frames of the current clip").at_least(1)
            .integer("outcome_frames", 4, "frames of the outcome clip that follows it").at_least(1)
            .choice("action", "continuous", {"continuous", "label"},
                    "continuous: the mean of `actions` over the transitions into the outcome; "
                    "label: an embedding of `action_label`")
            .integer("action_size", 2, "continuous: width of the actions").at_least(1)
            .integer("classes", 5, "label: number of action classes").at_least(1)
            .integer("dim", 96, "adapter width").at_least(8)
            .integer("depth", 2, "adapter blocks").at_least(1)
            .integer("heads", 4, "adapter and decoder attention heads").at_least(1)
            .real("loss_exp", 1.0, "the latent loss is mean |error|^loss_exp / loss_exp (1: L1, 2: half "
                                   "the MSE)").range(0.5, 4.0)
            .integer("decoder_dim", 64, "decoder width").at_least(8)
            .integer("decoder_depth", 1, "decoder blocks").at_least(1)
            .boolean("action_head", false, "add an inverse-dynamics head (current, outcome latents -> "
                                           "the action), trained on true latents; predict gives "
                                           "action_logits_pred / _true / _copy")
            .path("decoder_checkpoint", "a frozen decoder: a wmhost checkpoint of a glp run with the "
                                        "same sizes (its model/decoder.* tensors); without it the "
                                        "decoder trains on the true latents"));
  }

  explicit Glp(const wm::Params& p)
      : context_(p.get<int64_t>("context_frames")),
        outcome_(p.get<int64_t>("outcome_frames")),
        label_actions_(p.get<std::string>("action") == "label"),
        action_size_(p.get<int64_t>("action_size")),
        patch_(p.get<int64_t>("patch")),
        loss_exp_(p.get<double>("loss_exp")) {
    net_ = std::make_shared<torch::nn::Module>();
    encoder_ = net_->register_module("encoder", wm::nn::FrozenFrameEncoder(p));
    adapter_ = net_->register_module("adapter", Adapter(p, encoder_->dim(), encoder_->tokens()));
    decoder_ = net_->register_module("decoder", wm::nn::FrameDecoder(encoder_->dim(), 0, p.get<int64_t>("decoder_dim"),
                                                                     p.get<int64_t>("decoder_depth"), p.get<int64_t>("heads"),
                                                                     encoder_->tokens(), patch_ * patch_ * 3));
    wm::nn::init_vit_weights(*decoder_);
    if (!p.get<std::string>("decoder_checkpoint").empty()) {
      auto file = p.get<std::string>("decoder_checkpoint");
      if (!std::filesystem::exists(file))
        throw p.error("decoder_checkpoint", "no such file: " + file + " (train a glp run first)");
      auto weights = wm::io::with_prefix(wm::io::load_tensors(file), "model/decoder.");
      wm::io::load_matching(weights, wm::named_state(*decoder_), "decoder " + file);
      for (auto& parameter : decoder_->parameters()) parameter.set_requires_grad(false);
      frozen_decoder_ = true;
    }
    if (p.get<bool>("action_head"))
      action_head_ = std::make_unique<glp::ActionHead>(
          *net_, encoder_->dim(), outcome_, 2 * p.get<int64_t>("dim"),
          label_actions_ ? p.get<int64_t>("classes") : action_size_);
  }

  std::vector<std::string> required_keys() const override {
    return {"video", label_actions_ ? "action_label" : "actions"};
  }

  wm::LossOutput loss(const wm::Batch& batch) override {
    auto clip = split(batch);
    auto predicted = adapter_->forward(clip.current, action_of(batch));
    wm::LossOutput out;
    auto latent_loss = (predicted - clip.outcome).abs().pow(loss_exp_).mean() / loss_exp_;
    out.loss = latent_loss;
    out.logs["latent_loss"] = latent_loss.item<double>();
    if (!frozen_decoder_) {  // the decoder learns from true latents only
      auto all = torch::cat({clip.current, clip.outcome}, 1);
      auto frames = batch.at("video").slice(1, 0, context_ + outcome_);
      auto decoder_mse = (decode(all) - frames).pow(2).mean();
      out.loss = out.loss + decoder_mse;
      out.logs["decoder_mse"] = decoder_mse.item<double>();
    }
    if (action_head_) {  // the head learns from true latents only
      auto action = action_of(batch);
      auto head_loss = glp::ActionHead::loss(action_head_->forward(clip.current, clip.outcome), action);
      out.loss = out.loss + head_loss;
      out.logs["action_head_loss"] = head_loss.item<double>();
    }
    out.tokens = clip.current.size(0) * (context_ + outcome_) * clip.current.size(2);
    return out;
  }

  // decoded outcome frames of the adapter (prediction), of copy-last-latent (copy_last) and of the
  // true latents (reconstruction), the true frames (target), and the latents behind each; with
  // the action head, its reading of each outcome
  wm::TensorMap predict(const wm::Batch& batch) override {
    torch::NoGradGuard no_grad;
    auto clip = split(batch);
    auto predicted = adapter_->forward(clip.current, action_of(batch));
    auto copied = clip.current.slice(1, context_ - 1, context_).expand_as(clip.outcome).contiguous();
    wm::TensorMap out;
    if (action_head_) {
      out["action_logits_pred"] = action_head_->forward(clip.current, predicted);
      out["action_logits_true"] = action_head_->forward(clip.current, clip.outcome);
      out["action_logits_copy"] = action_head_->forward(clip.current, copied);
      out["action_logits"] = out["action_logits_true"];  // the clip's own action, for `tiers`
      if (batch.tensors.count("action_label")) out["action_label"] = batch.at("action_label").reshape({-1});
    }
    out.insert({{"prediction", decode(predicted).clamp(0, 1)},
            {"copy_last", decode(copied).clamp(0, 1)},
            {"reconstruction", decode(clip.outcome).clamp(0, 1)},
            {"target", batch.at("video").slice(1, context_, context_ + outcome_)},
            {"latent_prediction", predicted},
            {"latent_copy_last", copied},
            {"latent_target", clip.outcome}});
    return out;
  }

  // the current clip's mean token latent, for probes: [B, D]
  wm::TensorMap encode(const wm::Batch& batch) override {
    return {{"features", encoder_->forward(batch.at("video")).mean({1, 2})}};
  }

  wm::NamedTensors parameters() const override {
    wm::NamedTensors trainable;
    for (auto& [name, tensor] : wm::named_parameters(*net_))
      if (tensor.requires_grad()) trainable.emplace_back(name, tensor);
    return trainable;
  }
  wm::NamedTensors state() const override { return wm::named_state(*net_); }
  void set_training(bool training) override { net_->train(training); }
  void to_device(const std::string& device) override { net_->to(torch::Device(device)); }

 private:
  struct Clip {
    at::Tensor current, outcome;  // [B, C, N, D], [B, O, N, D]
  };
  Clip split(const wm::Batch& batch) {
    const auto& video = batch.at("video");
    if (video.size(1) < context_ + outcome_)
      throw wm::Error("glp: clips have " + std::to_string(video.size(1)) + " frames; context_frames + "
                      "outcome_frames need " + std::to_string(context_ + outcome_));
    auto latents = encoder_->forward(video.slice(1, 0, context_ + outcome_));
    return {latents.slice(1, 0, context_), latents.slice(1, context_)};
  }

  at::Tensor action_of(const wm::Batch& batch) const {
    if (label_actions_) return batch.at("action_label").reshape({-1});
    const auto& actions = batch.at("actions");
    if (actions.dim() != 3 || actions.size(2) != action_size_ || actions.size(1) < context_ + outcome_ - 1)
      throw wm::Error("glp: actions must be [B, >=" + std::to_string(context_ + outcome_ - 1) + ", " +
                      std::to_string(action_size_) + "] (model.params.action_size), got " +
                      wm::describe_tensor(actions));
    // the transitions from the last current frame through the outcome
    return actions.slice(1, context_ - 1, context_ + outcome_ - 1).to(torch::kFloat32).mean(1);
  }

  // latents [B, F, N, D] -> frames [B, F, 3, H, W]
  at::Tensor decode(const at::Tensor& latents) {
    int64_t batch = latents.size(0), frames = latents.size(1);
    auto patches = decoder_->forward(latents.flatten(0, 1), {});
    int64_t side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(latents.size(2))))) * patch_;
    return wm::nn::unpatchify(patches, patch_, 3, side, side).view({batch, frames, 3, side, side});
  }

  int64_t context_, outcome_;
  bool label_actions_;
  int64_t action_size_, patch_;
  double loss_exp_;
  bool frozen_decoder_ = false;
  std::shared_ptr<torch::nn::Module> net_;
  wm::nn::FrozenFrameEncoder encoder_{nullptr};
  Adapter adapter_{nullptr};
  wm::nn::FrameDecoder decoder_{nullptr};
  std::unique_ptr<glp::ActionHead> action_head_;
};

}  // namespace

WM_PLUGIN(wm::Model, Glp, "glp", "1.0.0",
          "GLP adapter: action-conditioned clip-latent prediction on a frozen encoder, with a decoder")
