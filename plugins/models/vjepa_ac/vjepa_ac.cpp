// vjepa_ac: an action-conditioned latent world model after V-JEPA 2-AC (facebookresearch/vjepa2,
// src/models/ac_predictor.py, app/vjepa_droid/train.py, notebooks/utils/mpc_utils.py). A frozen
// per-frame encoder gives layer-normalised token grids; a predictor reads, per time step, the tokens
// [action, state, frame tokens] under a block-causal mask and predicts the next frame's tokens.
// Loss: L1 teacher forcing plus L1 on an `auto_steps` autoregressive rollout. As a policy
// (wm::Policy::act, with a `goal` frame) it plans by the cross-entropy method: the action sequence
// whose imagined last latent is nearest (L1) to the goal's latent; the caller executes the first
// action.
#include <torch/torch.h>

#include "wm/io/action_scaler.h"
#include "block_causal.h"
#include "wm/nn/frame_pair_model.h"
#include "wm/nn/frozen_frame_encoder.h"
#include "latent_rollout.h"
#include "wm/nn/transformer.h"
#include "wm/plan/cem.h"
#include "wm/sdk.h"

namespace {

// per step [action, state?, N frame tokens] -> the next frame's N tokens, layer-normalised
class PredictorImpl : public torch::nn::Module {
 public:
  PredictorImpl(const wm::Params& p, int64_t latent_dim, int64_t tokens)
      : tokens_(tokens),
        latent_dim_(latent_dim),
        max_steps_(p.get<int64_t>("max_steps")),
        residual_(p.get<bool>("residual")) {
    int64_t dim = p.get<int64_t>("dim"), heads = p.get<int64_t>("heads");
    if (dim % heads) throw p.error("heads", "must divide dim (" + std::to_string(dim) + ")");
    // the continuous actions, then the discrete columns of extra_action_keys (multi-hot buttons)
    int64_t action_width = p.get<int64_t>("action_size") + p.get<int64_t>("extra_action_size");
    action_embed_ = register_module("action_embed", torch::nn::Linear(action_width, dim));
    if (int64_t state_size = p.get<int64_t>("state_size"); state_size > 0)
      state_embed_ = register_module("state_embed", torch::nn::Linear(state_size, dim));
    latent_embed_ = register_module("latent_embed", torch::nn::Linear(latent_dim, dim));
    blocks_ = wm::nn::make_blocks(*this, p.get<int64_t>("depth"), dim, heads);
    norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
    head_ = register_module("head", torch::nn::Linear(dim, latent_dim));
    // sinusoidal positions: one per time step (every token of the step), one per grid cell
    time_pos_ = register_buffer("time_pos", wm::nn::sinusoid_table(max_steps_, dim));
    space_pos_ = register_buffer("space_pos", wm::nn::sinusoid_table(tokens, dim));
    wm::nn::init_vit_weights(*this);
    if (residual_) {  // start exactly at copy-last-latent
      torch::NoGradGuard no_grad;
      head_->weight.zero_(), head_->bias.zero_();
    }
  }

  // latents [B, S, N, D], actions [B, S, A], states [B, S, Z] or undefined -> [B, S, N, D]
  at::Tensor forward(const at::Tensor& latents, const at::Tensor& actions, const at::Tensor& states) {
    int64_t batch = latents.size(0), steps = latents.size(1);
    if (steps > max_steps_)
      throw wm::Error("vjepa_ac: " + std::to_string(steps) + " time steps exceed max_steps " +
                      std::to_string(max_steps_) + "; raise model.params.max_steps");
    // tokens per step: [B, S, K, P] with K = 1 (action) + 1 (state, optional) + N
    std::vector<at::Tensor> parts = {
        wm::nn::linear(actions, action_embed_->weight, action_embed_->bias).unsqueeze(2)};
    if (state_embed_) parts.push_back(wm::nn::linear(states, state_embed_->weight, state_embed_->bias).unsqueeze(2));
    parts.push_back(wm::nn::linear(latents, latent_embed_->weight, latent_embed_->bias) + space_pos_);
    auto x = torch::cat(parts, 2) + time_pos_.slice(0, 0, steps).unsqueeze(1);
    int64_t per_step = x.size(2), width = x.size(3);
    // block-causal attention over the flattened sequence [B, S*K, P]
    auto mask = wm::nn::block_causal_mask(steps, per_step).to(x.device());
    x = norm_->forward(wm::nn::run_blocks_masked(blocks_, x.reshape({batch, steps * per_step, width}), mask));
    // the frame slots of each step predict the next frame
    auto frame_slots = x.view({batch, steps, per_step, width}).slice(2, per_step - tokens_);
    auto next = wm::nn::linear(frame_slots, head_->weight, head_->bias);
    if (residual_) next = next + latents;
    return at::layer_norm(next, {latent_dim_});
  }

 private:
  int64_t tokens_, latent_dim_, max_steps_;
  bool residual_;
  torch::nn::Linear action_embed_{nullptr}, state_embed_{nullptr}, latent_embed_{nullptr}, head_{nullptr};
  torch::nn::ModuleList blocks_;
  torch::nn::LayerNorm norm_{nullptr};
  at::Tensor time_pos_, space_pos_;
};
TORCH_MODULE(Predictor);

class VJepaAc : public wm::Model, public wm::Policy {
 public:
  static wm::Schema schema() {
    wm::Schema schema;
    wm::plan::CemOptions planning;
    planning.horizon = 3, planning.samples = 128, planning.elites = 12, planning.iterations = 4;
    planning.momentum = 0.15, planning.initial_std = 1.0;
    return wm::nn::with_frozen_encoder_params(
        wm::plan::add_cem_params(schema, planning)
            .integer("action_size", 2, "width of the continuous actions (the scaled ones)").at_least(1)
            .strings("extra_action_keys", {},
                     "batch keys [B, T-1, K] concatenated, unscaled, after the continuous actions "
                     "(the webdataset plugin's multi-hot `buttons`)")
            .integer("extra_action_size", 0, "total width K of extra_action_keys (the action "
                                             "embedding takes action_size + K inputs)").at_least(0)
            .integer("state_size", 0, "width of the per-frame state (0: no state token)").at_least(0)
            .integer("dim", 128, "predictor width").at_least(8)
            .integer("depth", 4, "predictor blocks").at_least(1)
            .integer("heads", 4, "predictor attention heads").at_least(1)
            .integer("max_steps", 16, "longest sequence of time steps (clip frames, or context + plan)").at_least(2)
            .integer("auto_steps", 2, "autoregressive rollout steps in the loss").at_least(1)
            .real("loss_exp", 1.0, "the loss is mean |error|^loss_exp / loss_exp (1: L1, the reference)")
            .range(0.5, 4.0)
            .boolean("residual", true,
                     "predict the change from each step's own latent (zero-initialised head: "
                     "training starts at copy-last-latent); false: the reference's direct output")
            .path("action_scaler", "a fit_action_scaler file (YAML/JSON) that standardises "
                                   "actions, in training and planning (none: actions as recorded)")
            .real("action_low", -1.0, "planning: smallest action value")
            .real("action_high", 1.0, "planning: largest action value"));
  }

  explicit VJepaAc(const wm::Params& p)
      : action_size_(p.get<int64_t>("action_size")),
        state_size_(p.get<int64_t>("state_size")),
        auto_steps_(p.get<int64_t>("auto_steps")),
        loss_exp_(p.get<double>("loss_exp")),
        extra_keys_(p.get<wm::StringList>("extra_action_keys")),
        extra_size_(p.get<int64_t>("extra_action_size")) {
    if (extra_keys_.empty() != (extra_size_ == 0))
      throw p.error(extra_keys_.empty() ? "extra_action_size" : "extra_action_keys",
                    "extra_action_keys and extra_action_size go together: the keys and their "
                    "total width");
    encoder_ = wm::nn::FrozenFrameEncoder(p);
    predictor_ = Predictor(p, encoder_->dim(), encoder_->tokens());
    load_action_scaler(p);
    cem_.low = p.get<double>("action_low");
    cem_.high = p.get<double>("action_high");
    cem_ = wm::plan::cem_options(p, cem_);
    if (cem_.low >= cem_.high) throw p.error("action_high", "must exceed action_low");
  }

  std::vector<std::string> required_keys() const override {
    std::vector<std::string> keys = {"video", "actions"};
    if (state_size_ > 0) keys.push_back("state");
    keys.insert(keys.end(), extra_keys_.begin(), extra_keys_.end());
    return keys;
  }

  wm::LossOutput loss(const wm::Batch& batch) override {
    const auto& video = batch.at("video");
    auto latents = encoder_->forward(video);
    auto loss = wm::nn::latent_prediction_loss(predictor(), latents, actions_of(batch, video.size(1) - 1),
                                               states_of(batch), std::min(auto_steps_, video.size(1) - 1),
                                               loss_exp_);
    wm::LossOutput out;
    out.loss = loss.total();
    out.logs = {{"teacher_forcing", loss.teacher_forcing.item<double>()},
                {"rollout", loss.rollout.item<double>()}};
    out.tokens = latents.size(0) * latents.size(1) * latents.size(2);
    return out;
  }

  // teacher-forced next-frame latents {prediction, target [B, T-1, N, D]} and copy_last (latent t
  // as the guess of t+1)
  wm::TensorMap predict(const wm::Batch& batch) override {
    torch::NoGradGuard no_grad;
    const auto& video = batch.at("video");
    auto latents = encoder_->forward(video);
    int64_t frames = video.size(1);
    auto predicted = predictor_->forward(latents.slice(1, 0, frames - 1), actions_of(batch, frames - 1),
                                         sliced(states_of(batch), frames - 1));
    return {{"prediction", predicted},
            {"target", latents.slice(1, 1)},
            {"copy_last", latents.slice(1, 0, frames - 1)}};
  }

  // the mean token latent of each clip's frames, for probes: [B, D]
  wm::TensorMap encode(const wm::Batch& batch) override {
    return {{"features", encoder_->forward(batch.at("video")).mean({1, 2})}};
  }

  wm::NamedTensors parameters() const override { return wm::named_parameters(*predictor_); }
  wm::NamedTensors state() const override {
    auto all = wm::named_state(*predictor_);
    for (auto& [name, tensor] : wm::named_state(*encoder_)) all.emplace_back("encoder." + name, tensor);
    return all;
  }
  void set_training(bool training) override { predictor_->train(training); }
  void to_device(const std::string& device) override {
    encoder_->to(torch::Device(device));
    predictor_->to(torch::Device(device));
    action_mean_ = action_mean_.to(torch::Device(device));
    action_std_ = action_std_.to(torch::Device(device));
  }

  // MPC step: context frames video [B, C, 3, H, W], the C-1 actions executed between them, the
  // context states, a goal frame [B, 3, H, W] -> the first action of the CEM plan per clip
  wm::TensorMap act(const wm::Batch& batch) override {
    torch::NoGradGuard no_grad;
    const auto& video = batch.at("video");
    auto goal = batch.at("goal");
    if (goal.scalar_type() == torch::kUInt8) goal = goal.to(torch::kFloat32) / 255.0;
    int64_t clips = video.size(0), context = video.size(1);
    auto latents = encoder_->forward(video);
    auto goal_latents = encoder_->forward(goal.unsqueeze(1)).select(1, 0);  // [B, N, D]
    // planned steps hold no buttons; past ones carry the batch's when it has them
    auto past = context > 1 ? actions_of(batch, context - 1, /*planning=*/true)
                            : torch::zeros({clips, 0, action_size_ + extra_size_}, latents.options());
    auto states = states_of(batch);
    std::vector<at::Tensor> actions, energies;
    for (int64_t b = 0; b < clips; ++b) {
      auto energy = [&](const at::Tensor& candidates) {  // [S, H, A] raw -> [S]
        int64_t samples = candidates.size(0);
        auto planned = normalise(candidates.to(latents.device()));
        if (extra_size_ > 0)
          planned = torch::cat({planned, torch::zeros({samples, planned.size(1), extra_size_},
                                                      planned.options())}, 2);
        auto all = torch::cat({past[b].unsqueeze(0).expand({samples, -1, -1}), planned}, 1);
        auto state = states.defined() ? states[b].unsqueeze(0).expand({samples, -1, -1}) : states;
        auto imagined = wm::nn::imagine(predictor(), latents[b].unsqueeze(0).expand({samples, -1, -1, -1}),
                                        all, state, cem_.horizon);
        return (imagined.select(1, cem_.horizon - 1) - goal_latents[b]).abs().mean({1, 2}).cpu();
      };
      auto result = wm::plan::cem(energy, action_size_, cem_);
      actions.push_back(result.mean[0]);
      energies.push_back(torch::tensor(result.energy, torch::kFloat32));
    }
    return {{"action", torch::stack(actions)}, {"plan_energy", torch::stack(energies)}};
  }

 private:
  wm::nn::LatentPredictor predictor() {
    return [this](const at::Tensor& z, const at::Tensor& a, const at::Tensor& s) {
      return predictor_->forward(z, a, s);
    };
  }

  // the scaler's mean and std as tensors, so planning can standardise candidates on any device
  void load_action_scaler(const wm::Params& p) {
    action_mean_ = torch::zeros({action_size_});
    action_std_ = torch::ones({action_size_});
    const auto& file = p.get<std::string>("action_scaler");
    if (file.empty()) return;
    wm::io::ActionScaler scaler;
    try {
      scaler = wm::io::ActionScaler::load(file);
    } catch (const wm::Error& e) {
      throw p.error("action_scaler", e.what());
    }
    if (scaler.size() != action_size_)
      throw p.error("action_scaler", file + " scales " + std::to_string(scaler.size()) +
                                         " action dimensions, the model has action_size = " +
                                         std::to_string(action_size_));
    action_mean_ = torch::tensor(scaler.mean, torch::kFloat64).to(torch::kFloat32);
    // StandardScaler divides a constant dimension by 1, not 0
    auto std = torch::tensor(scaler.std, torch::kFloat64).to(torch::kFloat32);
    action_std_ = torch::where(std == 0, torch::ones_like(std), std);
  }

  // normalised actions of the first `steps` transitions, then the extra keys: [B, steps, A + K].
  // Planning tolerates a batch without the extra keys (zeros: nothing held).
  at::Tensor actions_of(const wm::Batch& batch, int64_t steps, bool planning = false) const {
    const auto& actions = batch.at("actions");
    if (actions.dim() != 3 || actions.size(2) != action_size_ || actions.size(1) < steps)
      throw wm::Error("vjepa_ac: actions must be [B, >=" + std::to_string(steps) + ", " +
                      std::to_string(action_size_) + "] (model.params.action_size), got " +
                      wm::describe_tensor(actions));
    auto scaled = normalise(actions.slice(1, 0, steps).to(torch::kFloat32));
    if (extra_keys_.empty()) return scaled;
    std::vector<at::Tensor> parts = {scaled};
    int64_t width = 0;
    for (const auto& key : extra_keys_) {
      if (planning && !batch.tensors.count(key)) {
        parts.push_back(torch::zeros({scaled.size(0), steps, extra_size_ - width}, scaled.options()));
        width = extra_size_;
        break;
      }
      const auto& extra = batch.at(key);
      if (extra.dim() != 3 || extra.size(0) != scaled.size(0) || extra.size(1) < steps)
        throw wm::Error("vjepa_ac: " + key + " must be [B, >=" + std::to_string(steps) +
                        ", K] like actions, got " + wm::describe_tensor(extra));
      parts.push_back(extra.slice(1, 0, steps).to(scaled.device(), torch::kFloat32));
      width += extra.size(2);
    }
    if (width != extra_size_)
      throw wm::Error("vjepa_ac: extra_action_keys (" + wm::join(extra_keys_) + ") hold " +
                      std::to_string(width) + " columns, model.params.extra_action_size is " +
                      std::to_string(extra_size_));
    return torch::cat(parts, 2);
  }
  at::Tensor normalise(const at::Tensor& actions) const { return (actions - action_mean_) / action_std_; }

  at::Tensor states_of(const wm::Batch& batch) const {
    if (state_size_ == 0) return {};
    const auto& states = batch.at("state");
    if (states.dim() != 3 || states.size(2) != state_size_)
      throw wm::Error("vjepa_ac: state must be [B, T, " + std::to_string(state_size_) +
                      "] (model.params.state_size), got " + wm::describe_tensor(states));
    return states.to(torch::kFloat32);
  }
  static at::Tensor sliced(const at::Tensor& tensor, int64_t steps) {
    return tensor.defined() ? tensor.slice(1, 0, steps) : tensor;
  }

  int64_t action_size_, state_size_, auto_steps_;
  double loss_exp_;
  std::vector<std::string> extra_keys_;
  int64_t extra_size_;
  wm::nn::FrozenFrameEncoder encoder_{nullptr};
  Predictor predictor_{nullptr};
  at::Tensor action_mean_, action_std_;
  wm::plan::CemOptions cem_;
};

}  // namespace

WM_PLUGIN(wm::Model, VJepaAc, "vjepa_ac", "1.0.0",
          "V-JEPA 2-AC: action-conditioned latent predictor on a frozen encoder, CEM planning")
