// bc: behaviour cloning, a policy learned from (observation, action) pairs of demonstrations.
// The observation is the env's `state` vector or a frame through a frozen encoder
// (wm/nn/frozen_frame_encoder.h); an MLP (`layers` x `hidden`, GELU) ends in tanh, the action.
// Loss: MSE to the demo action, or (`gaussian: true`) the Gaussian negative log-likelihood with a
// learned per-dimension log-std. Inputs are standardised with statistics fitted on the first
// `fit_samples` training pairs (buffers, so they travel in the checkpoint). As a wm::Policy it
// acts on the last observation of a rollout's history (EpisodePolicy::ask_model).
//
// A clip of T frames holds T-1 pairs: frame t's observation with action row t, the action taken
// after frame t (webdataset's convention: record t carries the action between frames t and t+1).
#include <torch/torch.h>

#include <cmath>
#include <regex>

#include "wm/env.h"
#include "wm/nn/frozen_frame_encoder.h"
#include "wm/sdk.h"

namespace {

constexpr double kHalfLogTwoPi = 0.91893853320467274178;  // log(2 pi) / 2

//---- the network: standardisation, MLP, tanh ----

class PolicyNetImpl : public torch::nn::Module {
 public:
  PolicyNetImpl(int64_t inputs, int64_t actions, int64_t hidden, int64_t layers, bool gaussian,
                double log_std_init) {
    int64_t width = inputs;
    for (int64_t i = 0; i < layers; ++i) {
      hidden_.push_back(register_module("hidden" + std::to_string(i), torch::nn::Linear(width, hidden)));
      width = hidden;
    }
    head_ = register_module("head", torch::nn::Linear(width, actions));
    if (gaussian) log_std_ = register_parameter("log_std", torch::full({actions}, log_std_init));
    // population mean and variance of the inputs, over `input_count` pairs (float64)
    input_mean_ = register_buffer("input_mean", torch::zeros({inputs}, torch::kFloat64));
    input_var_ = register_buffer("input_var", torch::ones({inputs}, torch::kFloat64));
    input_count_ = register_buffer("input_count", torch::zeros({1}, torch::kFloat64));
  }

  // inputs [N, F] -> the tanh action (the Gaussian's mean) [N, A]
  at::Tensor forward(const at::Tensor& inputs) {
    auto x = standardise(inputs);
    for (auto& layer : hidden_) x = torch::gelu(layer->forward(x));
    return torch::tanh(head_->forward(x));
  }

  // the inputs standardised like sklearn's StandardScaler: (x - mean) / std, a constant
  // dimension (std below 1e-6) divided by 1; unchanged before any statistics were fitted
  at::Tensor standardise(const at::Tensor& inputs) const {
    if (input_count_.item<double>() == 0) return inputs;
    auto std = input_var_.sqrt();
    std = torch::where(std < 1e-6, torch::ones_like(std), std);
    return ((inputs.to(torch::kFloat64) - input_mean_) / std).to(inputs.scalar_type());
  }

  // merges the first `limit - input_count` rows of inputs [N, F] into the statistics (Chan et
  // al.'s pairwise update, float64), so they describe the first `limit` pairs seen in training
  void fit(const at::Tensor& inputs, int64_t limit) {
    torch::NoGradGuard no_grad;
    double seen = input_count_.item<double>();
    int64_t take = std::min<int64_t>(inputs.size(0), limit - static_cast<int64_t>(seen));
    if (take <= 0) return;
    auto x = inputs.slice(0, 0, take).to(torch::kFloat64);
    double n = static_cast<double>(take), total = seen + n;
    auto mean = x.mean(0), var = x.var(0, /*unbiased=*/false);
    auto delta = mean - input_mean_;
    auto m2 = input_var_ * seen + var * n + delta.pow(2) * (seen * n / total);
    if (seen == 0) m2 = var * n;
    input_mean_.add_(delta * (n / total));
    input_var_.copy_(m2 / total);
    input_count_.fill_(total);
  }

  // the learned log-std [A], kept in [-7, 2] (std 0.001 .. 7.4)
  at::Tensor log_std() const { return log_std_.clamp(-7.0, 2.0); }
  bool gaussian() const { return log_std_.defined(); }

 private:
  std::vector<torch::nn::Linear> hidden_;
  torch::nn::Linear head_{nullptr};
  at::Tensor log_std_, input_mean_, input_var_, input_count_;
};
TORCH_MODULE(PolicyNet);

// "[39]" -> 39; -1 when the shape is not one number
int64_t vector_width(const std::string& shape) {
  std::smatch match;
  static const std::regex one(R"(^\s*\[\s*([0-9]+)\s*\]\s*$)");
  return std::regex_match(shape, match, one) ? std::stoll(match[1]) : -1;
}

//---- the model ----

class Bc : public wm::Model, public wm::Policy {
 public:
  static wm::Schema schema() {
    return wm::nn::with_frozen_encoder_params(
        wm::Schema{}
            .choice("obs", "state", {"state", "video"},
                    "state: the `state` vector; video: each frame through the frozen encoder")
            .integer("state_size", 39, "obs state: width S of `state` (39: Meta-World); checked "
                                       "against the batch and the env").at_least(1)
            .integer("action_size", 4, "width A of the actions (4: Meta-World); checked against "
                                       "the batch and the env").at_least(1)
            .integer("hidden", 256, "width of each hidden layer").at_least(1)
            .integer("layers", 2, "hidden layers (Linear + GELU each)").at_least(1)
            .boolean("gaussian", false, "false: MSE to the demo action; true: Gaussian negative "
                                        "log-likelihood with a learned per-dimension log-std")
            .real("log_std_init", 0.0, "gaussian: initial log-std of every action dimension")
            .range(-7.0, 2.0)
            .boolean("standardise", true, "standardise the inputs with statistics fitted on the "
                                          "first fit_samples training pairs (saved in the checkpoint)")
            .integer("fit_samples", 10000, "standardise: training pairs the statistics describe")
            .at_least(1)
            .choice("pool", "flatten", {"flatten", "mean"},
                    "obs video: the frame's token grid flattened (N*D inputs, keeps where things "
                    "are) or averaged over tokens (D inputs)")
            .text("video_key", "video", "obs video: the frames' key in training batches [B, T, 3, H, W]")
            .text("env_frame_key", "pixels", "obs video: the frames' key in the env's observations "
                                             "when acting (metaworld: pixels, disc_push: video)"));
  }

  explicit Bc(const wm::Params& p)
      : params_(p),
        video_(p.get<std::string>("obs") == "video"),
        state_size_(p.get<int64_t>("state_size")),
        action_size_(p.get<int64_t>("action_size")),
        standardise_(p.get<bool>("standardise")),
        fit_samples_(p.get<int64_t>("fit_samples")),
        mean_pool_(p.get<std::string>("pool") == "mean"),
        video_key_(p.get<std::string>("video_key")),
        env_frame_key_(p.get<std::string>("env_frame_key")),
        image_size_(p.get<int64_t>("image_size")) {
    int64_t inputs = state_size_;
    if (video_) {
      encoder_ = wm::nn::FrozenFrameEncoder(p);
      inputs = mean_pool_ ? encoder_->dim() : encoder_->tokens() * encoder_->dim();
    }
    net_ = PolicyNet(inputs, action_size_, p.get<int64_t>("hidden"), p.get<int64_t>("layers"),
                     p.get<bool>("gaussian"), p.get<double>("log_std_init"));
  }

  std::vector<std::string> required_keys() const override {
    return {video_ ? video_key_ : "state", "actions"};
  }

  // every (observation t, action t) pair of the clips, flattened: MSE or Gaussian NLL
  wm::LossOutput loss(const wm::Batch& batch) override {
    auto [inputs, targets] = pairs(batch);
    if (standardise_ && net_->is_training()) net_->fit(inputs, fit_samples_);
    auto mean = net_->forward(inputs);
    wm::LossOutput out;
    auto squared = (mean - targets).pow(2);
    out.logs["mse"] = squared.mean().item<double>();
    if (net_->gaussian()) {
      auto log_std = net_->log_std();
      // -log N(a; mu, sigma) per dimension: (a - mu)^2 / (2 sigma^2) + log sigma + log(2 pi) / 2
      out.loss = (0.5 * squared * torch::exp(-2.0 * log_std) + log_std + kHalfLogTwoPi).mean();
      out.logs["nll"] = out.loss.item<double>();
      out.logs["action_std"] = log_std.exp().mean().item<double>();
    } else {
      out.loss = squared.mean();
    }
    out.tokens = inputs.size(0);
    return out;
  }

  // the action for every pair {prediction, target [B, T-1, A]}: predicted vs demo action
  wm::TensorMap predict(const wm::Batch& batch) override {
    torch::NoGradGuard no_grad;
    auto [inputs, targets] = pairs(batch);
    int64_t clips = batch.at("actions").size(0);
    wm::TensorMap out = {{"prediction", net_->forward(inputs).view({clips, -1, action_size_})},
                         {"target", targets.view({clips, -1, action_size_})}};
    if (net_->gaussian())
      out["action_std"] = net_->log_std().exp().expand_as(out["prediction"]).contiguous();
    return out;
  }

  // the standardised observation of each clip's first frame [B, F]: what the MLP reads
  wm::TensorMap encode(const wm::Batch& batch) override {
    torch::NoGradGuard no_grad;
    return {{"features", net_->standardise(observations(batch, video_ ? video_key_ : "state", 1))}};
  }

  // the last observation of the history: state [B, C, S] (or [B, S]), or frames `env_frame_key`
  // [B, C, 3, H, W] (or [B, 3, H, W]) -> {action [B, A]} (the Gaussian's mean)
  wm::TensorMap act(const wm::Batch& batch) override {
    torch::NoGradGuard no_grad;
    std::string key = video_ ? env_frame_key_ : "state";
    if (!batch.tensors.count(key))
      throw wm::Error("bc: the observation has no `" + key + "` (it has: " + keys_of(batch) + ")" +
                      (video_ ? "; name the env's frames with model.params.env_frame_key" : ""));
    auto last = batch.at(key);
    int64_t per_step = video_ ? 4 : 2;  // [B, 3, H, W] or [B, S] without the time axis
    if (last.dim() == per_step + 1) last = last.select(1, last.size(1) - 1);
    return {{"action", net_->forward(observations(last.unsqueeze(1), key))}};
  }

  // the env must observe a state (or frames) and take actions of the widths the model has
  void attach(const wm::Env& env) override {
    wm::EnvSpec spec = env.spec();
    if (spec.action_size != action_size_)
      throw params_.error("action_size", "the env takes " + std::to_string(spec.action_size) +
                                             " action values, model.params.action_size is " +
                                             std::to_string(action_size_));
    std::string key = video_ ? env_frame_key_ : "state";
    std::vector<std::string> names;
    for (const auto& observed : spec.observation) {
      names.push_back(observed.name);
      if (observed.name != key || video_) continue;
      int64_t width = vector_width(observed.shape);
      if (width >= 0 && width != state_size_)
        throw params_.error("state_size", "the env observes state " + observed.shape +
                                              ", model.params.state_size is " +
                                              std::to_string(state_size_));
    }
    if (std::find(names.begin(), names.end(), key) == names.end())
      throw params_.error(video_ ? "env_frame_key" : "obs",
                          "the env has no `" + key + "` observation (it has: " + wm::join(names) + ")");
  }

  wm::NamedTensors parameters() const override { return wm::named_parameters(*net_); }
  wm::NamedTensors state() const override {
    auto all = wm::named_state(*net_);
    if (encoder_)
      for (auto& [name, tensor] : wm::named_state(*encoder_)) all.emplace_back("encoder." + name, tensor);
    return all;
  }
  void set_training(bool training) override { net_->train(training); }
  void to_device(const std::string& device) override {
    net_->to(torch::Device(device));
    if (encoder_) encoder_->to(torch::Device(device));
  }

 private:
  // inputs [B*(T-1), F] of frames 0..T-2 and their actions [B*(T-1), A]
  std::pair<at::Tensor, at::Tensor> pairs(const wm::Batch& batch) {
    const auto& actions = batch.at("actions");
    if (actions.dim() != 3 || actions.size(1) < 1 || actions.size(2) != action_size_)
      throw wm::Error("bc: actions must be [B, T-1 >= 1, " + std::to_string(action_size_) +
                      "] (model.params.action_size), got " + wm::describe_tensor(actions) +
                      (actions.dim() == 3 && actions.size(1) == 0 ? " (clips need frames >= 2)" : ""));
    int64_t steps = actions.size(1);
    auto inputs = observations(batch, video_ ? video_key_ : "state", steps);
    return {inputs, actions.to(inputs.device(), torch::kFloat32).reshape({-1, action_size_})};
  }

  // the first `steps` observations of each clip as MLP inputs [B*steps, F]
  at::Tensor observations(const wm::Batch& batch, const std::string& key, int64_t steps) {
    const auto& all = batch.at(key);
    int64_t want = video_ ? 5 : 3;
    if (all.dim() != want || all.size(1) < steps)
      throw wm::Error("bc: " + key + " must be " + (video_ ? "[B, T, 3, H, W]" : "[B, T, S]") +
                      " with T >= " + std::to_string(steps) + ", got " + wm::describe_tensor(all));
    return observations(all.slice(1, 0, steps), key);
  }
  at::Tensor observations(const at::Tensor& clip, const std::string& key) {
    if (!video_) {
      if (clip.size(2) != state_size_)
        throw wm::Error("bc: " + key + " is " + wm::describe_tensor(clip) + ", " +
                        std::to_string(clip.size(2)) + " values per frame; model.params.state_size is " +
                        std::to_string(state_size_));
      return clip.to(torch::kFloat32).reshape({-1, state_size_});
    }
    // frames in [0, 1] at the encoder's size -> [B, T, N, D] -> [B*T, N*D] or [B*T, D]
    auto frames = clip.scalar_type() == torch::kUInt8 ? clip.to(torch::kFloat32) / 255.0
                                                      : clip.to(torch::kFloat32);
    int64_t clips = frames.size(0), steps = frames.size(1);
    if (frames.size(3) != image_size_ || frames.size(4) != image_size_) {
      namespace F = torch::nn::functional;
      frames = F::interpolate(frames.flatten(0, 1),
                              F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{image_size_, image_size_})
                                  .mode(torch::kBilinear)
                                  .align_corners(false))
                   .view({clips, steps, 3, image_size_, image_size_});
    }
    auto latents = encoder_->forward(frames);
    return mean_pool_ ? latents.mean(2).flatten(0, 1) : latents.flatten(2).flatten(0, 1);
  }

  static std::string keys_of(const wm::Batch& batch) {
    std::vector<std::string> keys;
    for (const auto& [key, tensor] : batch.tensors) keys.push_back(key);
    return wm::join(keys);
  }

  wm::Params params_;
  bool video_;
  int64_t state_size_, action_size_;
  bool standardise_;
  int64_t fit_samples_;
  bool mean_pool_;
  std::string video_key_, env_frame_key_;
  int64_t image_size_;
  wm::nn::FrozenFrameEncoder encoder_{nullptr};
  PolicyNet net_{nullptr};
};

}  // namespace

WM_PLUGIN(wm::Model, Bc, "bc", "1.0.0",
          "behaviour cloning: an MLP policy on states or frozen-encoder frames, MSE or Gaussian NLL")
