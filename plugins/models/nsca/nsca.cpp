// nsca: a world model that mixes an analytic physics prior with a learned residual, plus a
// policy learned from demonstrations (spec P3, seed 001's AdaptivePhysicsPrior). On the 39-D
// metaworld state s and the 4-D action a it predicts slots 0-17 of the next state as
//   ŝ' = w · P(s, a) + (1 − w) · (s + L(s, a)),   w = min(1, softplus(ρ)),
// copies slots 0-17 into 18-35 (the env's "previous step") and keeps 36-38 (the goal). P is
// physics_prior.h, L is learned_branch.h. ρ starts at softplus⁻¹(prior_init); it is one value
// or one per group (hand, fingers, object), learnable or frozen. L is trained on its own error
// (s + L ≈ s'), ρ on the mixed error with both predictions detached, so w says which branch
// predicts better (README: "Why w is trained apart from L"). The policy head acts directly
// (`planner: none`) or seeds a CEM planner whose cost is the env's task reward of imagined states.
#include <torch/torch.h>

#include <cmath>

#include "learned_branch.h"
#include "physics_prior.h"
#include "planner.h"
#include "wm/sdk.h"

namespace {

using nsca::kPredicted;

// slot -> group (hand 0-2, fingers 3, object 4-17)
at::Tensor slot_groups() {
  std::vector<int64_t> groups(kPredicted, 2);
  groups[0] = groups[1] = groups[2] = 0, groups[3] = 1;
  return torch::tensor(groups, torch::kInt64);
}
const char* const kGroupNames[] = {"hand", "fingers", "object"};

class Nsca : public wm::TorchModel, public wm::Policy {
 public:
  static wm::Schema schema() {
    wm::Schema schema;
    schema.choice("inputs", "state", {"state", "state+pixels"},
                  "state: the learned branch is an MLP on (state, action); state+pixels: a ViT on the "
                  "current frame fused with state and action tokens (sized by `size`)")
        .choice("size", "tiny", {"tiny", "full"},
                "state+pixels only: tiny (dim 64, depth 2, for CI) or full (dim 384, ViT depth 7, "
                "2 fusion blocks: ~16M parameters, the seed's model); state inputs take tiny")
        .integer("state_size", 39, "width of the `state` vector (metaworld: 39)").at_least(36)
        .integer("action_size", 4, "width of the actions (metaworld: 4)").at_least(1)
        .text("pixels_key", "pixels", "state+pixels: the batch key of the frames [B, T, 3, H, W]")
        .choice("prior", "physics", {"physics", "none"},
                "physics: mix the analytic prior in; none: the learned branch alone (the seed's "
                "random-init baseline)")
        .real("prior_init", 0.9, "initial prior weight w, in (0, 1]")
        .boolean("learn_prior_weight", true, "train ρ (AdamW, no weight decay); false: w stays at prior_init")
        .choice("prior_groups", "one", {"one", "per_group"},
                "one weight, or one each for hand, fingers and object")
        .integer("hidden", 256, "learned branch (state): units per layer").at_least(1)
        .integer("layers", 3, "learned branch (state): SiLU layers").at_least(1)
        .integer("policy_hidden", 256, "policy head: units per layer").at_least(1)
        .integer("policy_layers", 2, "policy head: GELU layers").at_least(1)
        .real("bc_weight", 1.0, "loss = dynamics MSE (per-slot standardised) + bc_weight * BC MSE").at_least(0)
        .integer("norm_batches", 20, "training batches the standardisation statistics are fitted on").at_least(1)
        .real("std_floor", 1e-3, "smallest standard deviation a slot is divided by").at_least(1e-12)
        .choice("planner", "none", {"none", "cem"},
                "none: act with the policy head; cem: plan on imagined states by the env's task "
                "reward (needs an env with wm::StateReward, e.g. metaworld); the first mean is "
                "the policy head's actions along the imagined states");
    wm::plan::CemOptions planning;  // spec P3's
    planning.horizon = 10, planning.samples = 256, planning.elites = 25, planning.iterations = 4;
    planning.momentum = 0.1, planning.initial_std = 0.5;
    wm::plan::add_cem_params(schema, planning);
    return nsca::add_prior_params(schema);
  }

  explicit Nsca(const wm::Params& p)
      : params_(p),
        state_size_(p.get<int64_t>("state_size")),
        action_size_(p.get<int64_t>("action_size")),
        pixels_(p.get<std::string>("inputs") == "state+pixels"),
        pixels_key_(p.get<std::string>("pixels_key")),
        physics_(p.get<std::string>("prior") == "physics"),
        bc_weight_(p.get<double>("bc_weight")),
        norm_batches_(p.get<int64_t>("norm_batches")),
        std_floor_(p.get<double>("std_floor")),
        planner_(p.get<std::string>("planner") == "cem"),
        constants_(nsca::prior_constants(p)) {
    double prior_init = p.get<double>("prior_init");
    if (!(prior_init > 0 && prior_init <= 1))
      throw p.error("prior_init", "must be in (0, 1] (w = min(1, softplus(ρ)) starts there), got " +
                                      std::to_string(prior_init));
    if (!pixels_ && p.get<std::string>("size") == "full")
      throw p.error("size", "`full` is the multimodal model (a ViT on the frame): set inputs: "
                            "state+pixels; state inputs use the MLP (size: tiny)");
    if (physics_ && state_size_ != 39)
      throw p.error("state_size", "the physics prior reads metaworld's 39-D state layout, got " +
                                      std::to_string(state_size_));
    root_ = std::make_shared<torch::nn::Module>("nsca");
    build_learned(p);
    policy_ = nsca::make_policy(*root_, state_size_, p.get<int64_t>("policy_hidden"),
                                p.get<int64_t>("policy_layers"), action_size_);
    if (physics_) build_prior_weight(p, prior_init);
    // standardisation statistics, fitted on the first norm_batches training batches
    auto zeros = [&](int64_t n) { return torch::zeros({n}, torch::kFloat64); };
    input_sum_ = root_->register_buffer("input_sum", zeros(state_size_ + action_size_));
    input_square_ = root_->register_buffer("input_square", zeros(state_size_ + action_size_));
    delta_sum_ = root_->register_buffer("delta_sum", zeros(kPredicted));
    delta_square_ = root_->register_buffer("delta_square", zeros(kPredicted));
    seen_ = root_->register_buffer("seen", zeros(2));  // rows, batches
    set_module(root_);
    cem_ = wm::plan::cem_options(p);
    int64_t count = 0;
    for (const auto& [name, tensor] : parameters()) count += tensor.numel();
    wm::log().info("nsca: {} parameters (inputs {}, size {}, prior {})", count, p.get<std::string>("inputs"),
                   p.get<std::string>("size"), p.get<std::string>("prior"));
  }

  std::vector<std::string> required_keys() const override {
    std::vector<std::string> keys = {"state", "actions"};
    if (pixels_) keys.push_back(pixels_key_);
    return keys;
  }

  //---- training ----

  wm::LossOutput loss(const wm::Batch& batch) override {
    auto pairs = transitions(batch);
    if (root_->is_training()) fit_statistics(pairs);
    Stats stats = statistics();
    auto parts = step(pairs.state, pairs.action, pairs.frames, stats);
    auto target = pairs.next.slice(1, 0, kPredicted);
    auto error = [&](const at::Tensor& prediction) {
      return ((prediction - target) / stats.delta_std).pow(2).mean();
    };
    // L learns s' on its own; w learns the mix of the two predictions as they stand (both
    // detached), so only ρ feels the mixed error and w says which branch predicts better
    auto learned = error(parts.learned);
    auto dynamics = learned, objective = learned;
    if (physics_) {
      dynamics = error(mix(trained_weights(), parts.prior.detach(), parts.learned.detach()));
      objective = learned + dynamics;
    }
    auto bc = (policy_(stats.state(pairs.state)) - pairs.action.clamp(-1, 1)).pow(2).mean();
    wm::LossOutput out;
    out.loss = objective + bc_weight_ * bc;
    out.tokens = pairs.state.size(0);
    torch::NoGradGuard no_grad;
    out.logs = {{"dyn_mse", dynamics.item<double>()},
                {"dyn_mse_learned_only", learned.item<double>()},
                {"bc_mse", bc.item<double>()}};
    if (physics_) {
      out.logs["dyn_mse_prior_only"] = error(parts.prior).item<double>();
      auto w = weights();
      if (w.numel() == 1)
        out.logs["prior_weight"] = w.item<double>();
      else
        for (int64_t g = 0; g < 3; ++g) out.logs[std::string("prior_weight/") + kGroupNames[g]] = w[g].item<double>();
    }
    return out;
  }

  //---- evaluation ----

  // the next states of every transition [B, T-1, S], the prior's and the learned branch's
  // alone, and the policy's actions
  wm::TensorMap predict(const wm::Batch& batch) override {
    torch::NoGradGuard no_grad;
    auto pairs = transitions(batch);
    Stats stats = statistics();
    auto parts = step(pairs.state, pairs.action, pairs.frames, stats);
    auto shape = [&](const at::Tensor& slots) {
      return assemble(pairs.state, slots).view({pairs.clips, -1, state_size_});
    };
    wm::TensorMap out = {{"prediction", shape(parts.mixed)},
                         {"target", pairs.next.view({pairs.clips, -1, state_size_})},
                         {"learned_only", shape(parts.learned)},
                         {"action", policy_(stats.state(pairs.state)).view({pairs.clips, -1, action_size_})}};
    if (physics_) out["prior_only"] = shape(parts.prior);
    return out;
  }

  //---- acting ----

  void attach(const wm::Env& env) override {
    reward_ = dynamic_cast<const wm::StateReward*>(&env);
    if (planner_ && !reward_)
      throw params_.error("planner", "`cem` scores imagined states by the task reward, and this env "
                                     "has no reward-from-state capability (wm::StateReward); use "
                                     "planner: none, or an env that has it (metaworld)");
    for (const auto& key : env.spec().observation)
      if (key.name == "state" && key.shape != "[" + std::to_string(state_size_) + "]")
        throw params_.error("state_size", "the env's state is " + key.shape + ", the model reads [" +
                                              std::to_string(state_size_) + "]");
    if (planner_ && reward_->state_size() != state_size_)
      throw params_.error("state_size", "the env's reward reads " + std::to_string(reward_->state_size()) +
                                            "-D states, the model predicts " + std::to_string(state_size_));
  }

  wm::TensorMap act(const wm::Batch& batch) override {
    torch::NoGradGuard no_grad;
    const auto& history = batch.at("state");
    if (history.dim() != 3 || history.size(2) != state_size_)
      throw wm::Error("nsca: state must be [B, C, " + std::to_string(state_size_) +
                      "] (model.params.state_size), got " + wm::describe_tensor(history));
    auto state = history.select(1, history.size(1) - 1).to(torch::kFloat32);
    Stats stats = statistics();
    if (!planner_) return {{"action", policy_(stats.state(state))}};
    if (!reward_) throw params_.error("planner", "`cem` needs the env: rollout attaches it before acting");
    at::Tensor frame;
    if (pixels_) frame = frames_of(batch.at(pixels_key_).select(1, batch.at(pixels_key_).size(1) - 1));
    std::vector<at::Tensor> actions, energies;
    for (int64_t b = 0; b < state.size(0); ++b) {
      auto dynamics = [&](const at::Tensor& s, const at::Tensor& a) {
        auto f = frame.defined() ? frame[b].unsqueeze(0).expand({s.size(0), -1, -1, -1}) : frame;
        return assemble(s, step(s, a, f, stats).mixed);
      };
      auto policy = [&](const at::Tensor& s) { return policy_(stats.state(s)); };
      auto reward = [&](const at::Tensor& s) { return reward_->reward_from_state(s).to(s.dtype()); };
      auto result = nsca::plan(state[b], action_size_, dynamics, policy, reward, cem_);
      actions.push_back(result.action.to(state.device()));
      energies.push_back(torch::tensor(result.energy, torch::kFloat32));
    }
    return {{"action", torch::stack(actions)}, {"plan_energy", torch::stack(energies)}};
  }

 private:
  struct Transitions {
    at::Tensor state, action, next, frames;  // [N, S], [N, A], [N, S], [N, 3, H, W] or undefined
    int64_t clips = 0;
  };
  struct Step {
    at::Tensor mixed, prior, learned;  // [N, 18] each
  };
  // the standardisation in force: inputs [S + A] and changes of slots 0-17
  struct Stats {
    at::Tensor input_mean, input_std, delta_mean, delta_std;
    int64_t state_size = 0;
    at::Tensor inputs(const at::Tensor& state, const at::Tensor& action) const {
      return (torch::cat({state, action}, 1) - input_mean) / input_std;
    }
    at::Tensor state(const at::Tensor& s) const {
      return (s - input_mean.slice(0, 0, state_size)) / input_std.slice(0, 0, state_size);
    }
  };

  //---- construction ----

  void build_learned(const wm::Params& p) {
    if (!pixels_) {
      learned_ = nsca::make_state_mlp(*root_, state_size_, action_size_, p.get<int64_t>("hidden"),
                                      p.get<int64_t>("layers"), kPredicted);
      return;
    }
    nsca::FusionShape shape;
    if (p.get<std::string>("size") == "tiny") shape.dim = 64, shape.depth = 2, shape.heads = 2;
    learned_ = nsca::make_pixel_fusion(*root_, state_size_, action_size_, shape, kPredicted);
  }

  // ρ = softplus⁻¹(prior_init), in double then rounded once; a 1-D tensor, so the training
  // engine's AdamW puts it in its no-weight-decay group
  void build_prior_weight(const wm::Params& p, double prior_init) {
    int64_t groups = p.get<std::string>("prior_groups") == "one" ? 1 : 3;
    double rho = prior_init >= 1 ? std::log(std::expm1(1.0)) : std::log(std::expm1(prior_init));
    auto value = torch::full({groups}, rho, torch::kFloat32);
    if (p.get<bool>("learn_prior_weight"))
      rho_ = root_->register_parameter("prior_rho", value);
    else
      rho_ = root_->register_buffer("prior_rho", value);
    group_of_slot_ = groups == 1 ? torch::zeros({kPredicted}, torch::kInt64) : slot_groups();
  }

  //---- the model ----

  at::Tensor weights() const { return torch::clamp_max(torch::softplus(rho_), 1.0); }

  // w for the loss: the same value, but the clamp at 1 is one-sided for the gradient. Above
  // the clamp a plain min() passes no gradient, so a ρ pushed past it while L is still
  // untrained would stay there for good; here the gradient that lowers w always reaches ρ,
  // the one that would raise it further is dropped.
  at::Tensor trained_weights() const {
    auto soft = torch::softplus(rho_);
    if (!soft.requires_grad()) return soft.clamp_max(1.0);
    auto w = soft - (soft - 1).clamp_min(0).detach();
    auto above = (soft >= 1).detach();
    w.register_hook([above](at::Tensor grad) { return torch::where(above & (grad < 0), torch::zeros_like(grad), grad); });
    return w;
  }

  // per-group weights [G] spread over the slots, then w · prior + (1 − w) · learned
  at::Tensor mix(const at::Tensor& w, const at::Tensor& prior, const at::Tensor& learned) const {
    auto slots = w.index_select(0, group_of_slot_.to(prior.device()));
    return slots * prior + (1 - slots) * learned;
  }

  // (state [N, S], action [N, A], frames) -> slots 0-17 mixed, prior-only, learned-only
  Step step(const at::Tensor& state, const at::Tensor& action, const at::Tensor& frames, const Stats& stats) const {
    auto inputs = stats.inputs(state, action);
    auto delta = learned_(inputs.slice(1, 0, state_size_), inputs.slice(1, state_size_), frames);
    Step out;
    out.learned = state.slice(1, 0, kPredicted) + delta * stats.delta_std + stats.delta_mean;
    if (!physics_) {
      out.mixed = out.learned;
      return out;
    }
    out.prior = nsca::physics_prior(state, action, constants_);
    out.mixed = mix(weights(), out.prior, out.learned);
    return out;
  }

  // the full next state: predicted slots, the current 0-17 as "previous", the rest unchanged
  at::Tensor assemble(const at::Tensor& state, const at::Tensor& slots) const {
    return torch::cat({slots, state.slice(1, 0, kPredicted), state.slice(1, 2 * kPredicted)}, 1);
  }

  //---- data ----

  Transitions transitions(const wm::Batch& batch) const {
    const auto& states = batch.at("state");
    const auto& actions = batch.at("actions");
    if (states.dim() != 3 || states.size(2) != state_size_ || states.size(1) < 2)
      throw params_.error("state_size", "nsca: state must be [B, T >= 2, " + std::to_string(state_size_) +
                                            "], got " + wm::describe_tensor(states));
    int64_t clips = states.size(0), steps = states.size(1) - 1;
    if (actions.dim() != 3 || actions.size(0) != clips || actions.size(1) < steps || actions.size(2) != action_size_)
      throw params_.error("action_size", "nsca: actions must be [B, " + std::to_string(steps) + ", " +
                                             std::to_string(action_size_) + "], got " + wm::describe_tensor(actions));
    Transitions t;
    t.clips = clips;
    auto s = states.to(torch::kFloat32);
    t.state = s.slice(1, 0, steps).reshape({-1, state_size_});
    t.next = s.slice(1, 1).reshape({-1, state_size_});
    t.action = actions.slice(1, 0, steps).to(torch::kFloat32).reshape({-1, action_size_});
    if (pixels_) {
      auto video = batch.at(pixels_key_);
      if (video.dim() != 5 || video.size(1) < steps)
        throw params_.error("pixels_key", "nsca: " + pixels_key_ + " must be [B, T, 3, H, W], got " +
                                              wm::describe_tensor(video));
      t.frames = frames_of(video.slice(1, 0, steps).flatten(0, 1));
    }
    return t;
  }

  static at::Tensor frames_of(const at::Tensor& frames) {
    return frames.scalar_type() == torch::kUInt8 ? frames.to(torch::kFloat32) / 255.0 : frames.to(torch::kFloat32);
  }

  //---- standardisation ----

  void fit_statistics(const Transitions& t) {
    if (seen_[1].item<double>() >= static_cast<double>(norm_batches_)) return;
    torch::NoGradGuard no_grad;
    auto inputs = torch::cat({t.state, t.action}, 1).to(torch::kFloat64);
    auto delta = (t.next - t.state).slice(1, 0, kPredicted).to(torch::kFloat64);
    input_sum_.add_(inputs.sum(0).to(input_sum_.device()));
    input_square_.add_(inputs.pow(2).sum(0).to(input_sum_.device()));
    delta_sum_.add_(delta.sum(0).to(delta_sum_.device()));
    delta_square_.add_(delta.pow(2).sum(0).to(delta_sum_.device()));
    seen_[0].add_(static_cast<double>(inputs.size(0)));
    seen_[1].add_(1.0);
  }
  std::pair<at::Tensor, at::Tensor> moments(const at::Tensor& sum, const at::Tensor& square) const {
    double n = seen_[0].item<double>();
    if (n < 2) return {torch::zeros_like(sum).to(torch::kFloat32), torch::ones_like(sum).to(torch::kFloat32)};
    auto mean = sum / n;
    auto std = (square / n - mean.pow(2)).clamp_min(0).sqrt().clamp_min(std_floor_);
    return {mean.to(torch::kFloat32), std.to(torch::kFloat32)};
  }
  Stats statistics() const {
    Stats stats;
    std::tie(stats.input_mean, stats.input_std) = moments(input_sum_, input_square_);
    std::tie(stats.delta_mean, stats.delta_std) = moments(delta_sum_, delta_square_);
    stats.state_size = state_size_;
    return stats;
  }

  wm::Params params_;
  int64_t state_size_, action_size_;
  bool pixels_;
  std::string pixels_key_;
  bool physics_;
  double bc_weight_;
  int64_t norm_batches_;
  double std_floor_;
  bool planner_;
  nsca::PriorConstants constants_;
  std::shared_ptr<torch::nn::Module> root_;
  nsca::Branch learned_;
  std::function<at::Tensor(const at::Tensor&)> policy_;
  at::Tensor rho_, group_of_slot_;
  at::Tensor input_sum_, input_square_, delta_sum_, delta_square_, seen_;
  wm::plan::CemOptions cem_;
  const wm::StateReward* reward_ = nullptr;
};

}  // namespace

WM_PLUGIN(wm::Model, Nsca, "nsca", "1.0.0",
          "NSCA: analytic physics prior mixed with a learned residual by a learnable weight, a BC "
          "policy head and an optional CEM planner on the task reward of imagined states")
