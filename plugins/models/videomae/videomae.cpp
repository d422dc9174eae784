// videomae: masked video pretraining (Tong et al. 2022; MCG-NJU/VideoMAE, modeling_pretrain.py).
// Tubelets of 2x16x16 pixels, tube masking (one 2-D mask repeated over time), a ViT encoder on the
// visible tokens only, a narrow decoder fed [visible, mask tokens] with fixed 1-D sinusoid
// positions, and MSE on the masked tubelets' per-patch, per-channel normalised pixels. Parameter
// names follow the official checkpoints, so a VideoMAE pretraining state dict loads by name.
#include <torch/torch.h>

#include "wm/nn/frame_pair_model.h"
#include "wm/nn/sample_random.h"
#include "wm/nn/transformer.h"
#include "wm/sdk.h"
#include "wm/io/checkpoint.h"

namespace {

struct Size {
  int64_t dim, depth, heads, decoder_dim, decoder_heads;
};

Size size_of(const wm::Params& p) {
  std::string name = p.get<std::string>("size");
  if (name == "tiny") return {192, 12, 3, 96, 3};
  if (name == "small") return {384, 12, 6, 192, 3};
  if (name == "base") return {768, 12, 12, 384, 6};
  return {p.get<int64_t>("dim"), p.get<int64_t>("depth"), p.get<int64_t>("heads"),
          p.get<int64_t>("decoder_dim"), p.get<int64_t>("decoder_heads")};
}

// the encoder's pieces under the official names: encoder.patch_embed.proj, encoder.blocks, encoder.norm
class EncoderImpl : public torch::nn::Module {
 public:
  EncoderImpl(int64_t tubelet, int64_t patch, int64_t dim, int64_t depth, int64_t heads) {
    proj_ = torch::nn::Conv3d(torch::nn::Conv3dOptions(3, dim, {tubelet, patch, patch}).stride({tubelet, patch, patch}));
    auto patch_embed = std::make_shared<torch::nn::Module>();
    patch_embed->register_module("proj", proj_);
    register_module("patch_embed", patch_embed);
    blocks_ = wm::nn::make_blocks(*this, depth, dim, heads);
    norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
  }
  at::Tensor tokens(const at::Tensor& video) {  // [B, 3, T, H, W] -> [B, N, D] in (t, h, w) order
    return proj_->forward(video).flatten(2).transpose(1, 2);
  }
  at::Tensor encode(const at::Tensor& visible) { return norm_->forward(wm::nn::run_blocks(blocks_, visible)); }

 private:
  torch::nn::Conv3d proj_{nullptr};
  torch::nn::ModuleList blocks_;
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(Encoder);

class DecoderImpl : public torch::nn::Module {
 public:
  DecoderImpl(int64_t dim, int64_t depth, int64_t heads, int64_t out_dim) {
    blocks_ = wm::nn::make_blocks(*this, depth, dim, heads);
    norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
    head_ = register_module("head", torch::nn::Linear(dim, out_dim));
  }
  // only the last `count` tokens (the masked ones) reach the norm and the head
  at::Tensor forward(const at::Tensor& x, int64_t count) {
    auto last = wm::nn::run_blocks(blocks_, x).slice(1, x.size(1) - count);
    return wm::nn::linear(norm_->forward(last), head_->weight, head_->bias);
  }

 private:
  torch::nn::ModuleList blocks_;
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(Decoder);

class VideoMaeNet : public torch::nn::Module {
 public:
  VideoMaeNet(const wm::Params& p, const Size& s)
      : tubelet_(p.get<int64_t>("tubelet")), patch_(p.get<int64_t>("patch")) {
    int64_t frames = p.get<int64_t>("frames"), image = p.get<int64_t>("image_size");
    if (frames % tubelet_) throw p.error("frames", "must be a multiple of tubelet (" + std::to_string(tubelet_) + ")");
    if (image % patch_) throw p.error("patch", "must divide image_size (" + std::to_string(image) + ")");
    if (s.dim % s.heads || s.decoder_dim % s.decoder_heads) throw p.error("heads", "must divide the widths");
    grid_ = (image / patch_) * (image / patch_);
    tokens_ = grid_ * (frames / tubelet_);
    encoder_ = register_module("encoder", Encoder(tubelet_, patch_, s.dim, s.depth, s.heads));
    encoder_to_decoder_ = register_module("encoder_to_decoder",
                                          torch::nn::Linear(torch::nn::LinearOptions(s.dim, s.decoder_dim).bias(false)));
    mask_token_ = register_parameter("mask_token", torch::zeros({1, 1, s.decoder_dim}));
    decoder_ = register_module("decoder", Decoder(s.decoder_dim, p.get<int64_t>("decoder_depth"), s.decoder_heads,
                                                  tubelet_ * patch_ * patch_ * 3));
    // fixed tables over the flattened token index: buffers, not parameters (not in checkpoints)
    encoder_pos_ = register_buffer("encoder_pos", wm::nn::sinusoid_table(tokens_, s.dim).unsqueeze(0));
    decoder_pos_ = register_buffer("decoder_pos", wm::nn::sinusoid_table(tokens_, s.decoder_dim).unsqueeze(0));
    wm::nn::init_vit_weights(*this);
    torch::NoGradGuard no_grad;
    mask_token_.normal_(0.0, 0.02).clamp_(-2.0, 2.0);  // timm trunc_normal_(std=0.02): bounds at +-2
  }

  int64_t tokens() const { return tokens_; }

  // tube masking: one random 2-D mask per clip, the same in every temporal slot; true = masked.
  // Clip i's mask comes from seeds[i] (the batch's sample_seed), else from LibTorch's generator.
  at::Tensor tube_mask(int64_t batch, double ratio, const at::Tensor& seeds) const {
    int64_t masked = static_cast<int64_t>(ratio * static_cast<double>(grid_));
    auto draws = wm::nn::uniform_per_sample(seeds, batch, grid_).to(mask_token_.device());
    auto order = draws.argsort(1, /*descending=*/false);
    auto mask2d = order < masked;  // exactly `masked` true per row
    return mask2d.repeat({1, tokens_ / grid_});
  }

  // normalised video [B, 3, T, H, W], mask [B, N] -> predictions for the masked tubelets [B, Nm, out]
  at::Tensor forward(const at::Tensor& video, const at::Tensor& mask) {
    int64_t batch = video.size(0);
    auto x = encoder_->tokens(video) + encoder_pos_;
    int64_t dim = x.size(2);
    auto visible = x.masked_select(mask.logical_not().unsqueeze(-1)).view({batch, -1, dim});
    auto encoded = wm::nn::linear(encoder_->encode(visible), encoder_to_decoder_->weight, {});
    auto pos = decoder_pos_.expand({batch, -1, -1});
    int64_t ddim = pos.size(2);
    auto pos_visible = pos.masked_select(mask.logical_not().unsqueeze(-1)).view({batch, -1, ddim});
    auto pos_masked = pos.masked_select(mask.unsqueeze(-1)).view({batch, -1, ddim});
    auto full = torch::cat({encoded + pos_visible, mask_token_ + pos_masked}, 1);
    return decoder_->forward(full, pos_masked.size(1));
  }

  // visible-only encoder features, mean-pooled: [B, D] (all tokens visible)
  at::Tensor features(const at::Tensor& video) {
    return encoder_->encode(encoder_->tokens(video) + encoder_pos_).mean(1);
  }

  // clip [B, 3, T, H, W] in [0, 1] -> tubelet pixels [B, N, tubelet*p*p, 3] in (t, h, w) token order
  at::Tensor tubelets(const at::Tensor& clip) const {
    int64_t b = clip.size(0), t = clip.size(2) / tubelet_, h = clip.size(3) / patch_, w = clip.size(4) / patch_;
    return clip.reshape({b, 3, t, tubelet_, h, patch_, w, patch_})
        .permute({0, 2, 4, 6, 3, 5, 7, 1})
        .reshape({b, t * h * w, tubelet_ * patch_ * patch_, 3});
  }
  at::Tensor untubelets(const at::Tensor& pixels, const at::IntArrayRef& shape) const {
    int64_t b = shape[0], t = shape[2] / tubelet_, h = shape[3] / patch_, w = shape[4] / patch_;
    return pixels.reshape({b, t, h, w, tubelet_, patch_, patch_, 3})
        .permute({0, 7, 1, 4, 2, 5, 3, 6})
        .reshape({b, 3, shape[2], shape[3], shape[4]});
  }

 private:
  int64_t tubelet_, patch_, grid_ = 0, tokens_ = 0;
  Encoder encoder_{nullptr};
  torch::nn::Linear encoder_to_decoder_{nullptr};
  at::Tensor mask_token_, encoder_pos_, decoder_pos_;
  Decoder decoder_{nullptr};
};

class VideoMae : public wm::TorchModel {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .choice("size", "small", {"tiny", "small", "base", "custom"},
                "ViT size (custom: dim, depth, heads, decoder_dim, decoder_heads below)")
        .integer("frames", 16, "frames per clip").at_least(2)
        .integer("image_size", 224, "frame height and width").at_least(8)
        .integer("patch", 16, "spatial patch size").at_least(1)
        .integer("tubelet", 2, "frames per tubelet").at_least(1)
        .real("mask_ratio", 0.9, "share of each frame's patches masked (tube masking)").range(0.0, 0.99)
        .boolean("normalize_target", true, "normalise each tubelet's pixels per channel (official default)")
        .integer("decoder_depth", 4, "decoder blocks").at_least(1)
        .integer("dim", 192, "custom: encoder width").at_least(8)
        .integer("depth", 12, "custom: encoder blocks").at_least(1)
        .integer("heads", 3, "custom: encoder heads").at_least(1)
        .integer("decoder_dim", 96, "custom: decoder width").at_least(8)
        .integer("decoder_heads", 3, "custom: decoder heads").at_least(1)
        .path("weights", "an official VideoMAE pretraining checkpoint (.pth) to start from");
  }

  explicit VideoMae(const wm::Params& p)
      : net_(std::make_shared<VideoMaeNet>(p, size_of(p))),
        frames_(p.get<int64_t>("frames")),
        mask_ratio_(p.get<double>("mask_ratio")),
        normalize_target_(p.get<bool>("normalize_target")) {
    set_module(net_);
    if (std::string weights = p.get<std::string>("weights"); !weights.empty())
      wm::io::load_matching(wm::io::load_state_dict(weights), state(), "weights " + weights);
  }

  std::vector<std::string> required_keys() const override { return {"video"}; }

  wm::LossOutput loss(const wm::Batch& batch) override {
    auto clip = clip_of(batch);
    auto mask = net_->tube_mask(clip.size(0), mask_ratio_, wm::nn::sample_seeds(batch.tensors));
    auto predicted = net_->forward(normalise(clip), mask);
    auto target = targets(clip).masked_select(mask.unsqueeze(-1)).view_as(predicted);
    wm::LossOutput out;
    out.loss = torch::mse_loss(predicted, target);
    out.logs["mse"] = out.loss.item<double>();
    out.tokens = net_->tokens() * clip.size(0);
    return out;
  }

  // the reconstructed clip (visible tubelets as given, masked ones predicted, de-normalised with
  // the true tubelet statistics as the official visualisation does) against the clip
  wm::TensorMap predict(const wm::Batch& batch) override {
    auto clip = clip_of(batch);
    auto mask = net_->tube_mask(clip.size(0), mask_ratio_, wm::nn::sample_seeds(batch.tensors));
    auto predicted = net_->forward(normalise(clip), mask);
    auto pixels = net_->tubelets(clip);  // [B, N, P, 3]
    auto shape = pixels.sizes().vec();
    auto filled = pixels.clone();
    auto values = predicted.view({predicted.size(0), predicted.size(1), shape[2], 3});
    if (normalize_target_) {
      auto masked_pixels = pixels.masked_select(mask.unsqueeze(-1).unsqueeze(-1)).view_as(values);
      values = values * (masked_pixels.var(2, true, true).sqrt() + 1e-6) + masked_pixels.mean(2, true);
    }
    filled.masked_scatter_(mask.unsqueeze(-1).unsqueeze(-1).expand_as(filled), values.clamp(0, 1));
    auto video = net_->untubelets(filled, clip.sizes()).permute({0, 2, 1, 3, 4});  // [B, T, 3, H, W]
    return {{"prediction", video}, {"target", batch.at("video").slice(1, 0, frames_)}};
  }

  wm::TensorMap encode(const wm::Batch& batch) override {
    return {{"features", net_->features(normalise(clip_of(batch)))}};
  }

  // parameters only: the sinusoid tables are rebuilt from the sizes, as in the official code, so
  // checkpoints keep the official layout
  wm::NamedTensors state() const override { return parameters(); }

 private:
  // video [B, T, 3, H, W] in [0, 1] -> the first `frames` frames as [B, 3, T, H, W]
  at::Tensor clip_of(const wm::Batch& batch) const {
    const auto& video = batch.at("video");
    if (video.size(1) < frames_)
      throw wm::Error("videomae: clips have " + std::to_string(video.size(1)) + " frames; the model needs " +
                      std::to_string(frames_));
    return video.slice(1, 0, frames_).permute({0, 2, 1, 3, 4}).contiguous();
  }
  static at::Tensor normalise(const at::Tensor& clip) {  // ImageNet mean and std, as in pretraining
    auto mean = torch::tensor({0.485, 0.456, 0.406}, clip.options()).view({1, 3, 1, 1, 1});
    auto std = torch::tensor({0.229, 0.224, 0.225}, clip.options()).view({1, 3, 1, 1, 1});
    return (clip - mean) / std;
  }
  // per tubelet and channel: (x - mean) / (unbiased std + 1e-6), flattened channel-fastest
  at::Tensor targets(const at::Tensor& clip) const {
    auto pixels = net_->tubelets(clip);  // [B, N, P, 3]
    if (normalize_target_)
      pixels = (pixels - pixels.mean(2, true)) / (pixels.var(2, true, true).sqrt() + 1e-6);
    return pixels.flatten(2);
  }

  std::shared_ptr<VideoMaeNet> net_;
  int64_t frames_;
  double mask_ratio_;
  bool normalize_target_;
};

}  // namespace

WM_PLUGIN(wm::Model, VideoMae, "videomae", "1.0.0",
          "VideoMAE: tube-masked video autoencoder with the official checkpoint layout")
