// nsca's acceptance checks (spec P3): the physics prior against the real metaworld env (hand
// motion, a falling object), a frozen prior weight, the full model's size, the `prior: none`
// baseline's parameters, bad parameters, and the CEM planner on a reward with a known optimum.
#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <regex>
#include <filesystem>
#include <map>
#include <set>

#include "engine/adamw.h"
#include "test_support.h"
#include "wm/env.h"
#include "wm/model.h"

namespace wm {
namespace {

//---- helpers ----

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// the model's one-step prediction of the next state from one transition
at::Tensor predict_next(Model& model, const at::Tensor& state, const at::Tensor& action) {
  Batch batch;
  batch.tensors["state"] = torch::stack({state, state}).unsqueeze(0);  // T = 2; the second is unused
  batch.tensors["actions"] = action.view({1, 1, -1});
  return model.predict(batch).at("prediction")[0][0];
}

// one-step hand errors of a pure-prior model (w = 1) on random actions, each held for `hold`
// steps, on transitions whose hand is at least 8 cm from the object
struct HandErrors {
  std::vector<double> prior, lag_free;
};
HandErrors hand_errors(int hold) {
  auto env = test::make<Env>("metaworld", "{task: pick-place}");
  auto model = test::make<Model>("nsca", "{prior_init: 1, learn_prior_weight: false}");
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<float> uniform(-1, 1);
  HandErrors errors;
  for (uint64_t episode = 0; episode < 10; ++episode) {
    auto state = env->reset(500 + episode).at("state");
    auto action = torch::zeros({4});
    for (int t = 0; t < 100; ++t) {
      if (t % hold == 0) action = torch::tensor({uniform(rng), uniform(rng), uniform(rng), uniform(rng)});
      auto next = env->step(action).observation.at("state");
      auto hand = state.slice(0, 0, 3);
      bool away = (hand - state.slice(0, 4, 7)).norm().item<double>() > 0.08;
      if (t >= 2 && away) {
        auto predicted = predict_next(*model, state, action);
        errors.prior.push_back((predicted.slice(0, 0, 3) - next.slice(0, 0, 3)).norm().item<double>());
        // the spec's lag-free hand: hand + 0.01 a
        auto lag_free = hand + 0.01 * action.slice(0, 0, 3);
        errors.lag_free.push_back((lag_free - next.slice(0, 0, 3)).norm().item<double>());
      }
      state = next;
    }
  }
  return errors;
}

//---- P3 acceptance 1: the hand ----

TEST(Nsca, PriorHandErrorIsBelowOneMillimetreOnHeldRandomActions) {
  auto errors = hand_errors(5);
  ASSERT_GT(errors.prior.size(), 500u);
  EXPECT_LT(median(errors.prior), 1e-3) << "lag-free hand model: " << median(errors.lag_free);
  std::printf("held random actions: prior hand error median %.3f mm (lag-free %.3f mm) over %zu steps\n",
              1e3 * median(errors.prior), 1e3 * median(errors.lag_free), errors.prior.size());
}

TEST(Nsca, PriorHandBeatsTheLagFreeModelOnPerStepRandomActions) {
  // a new random action every step: the weld's hidden lag bounds any P(s, a) (best linear: 1.3 mm)
  auto errors = hand_errors(1);
  EXPECT_LT(median(errors.prior), 1.5e-3);
  EXPECT_LT(median(errors.prior), 0.25 * median(errors.lag_free));
  std::printf("per-step random actions: prior hand error median %.3f mm (lag-free %.3f mm)\n",
              1e3 * median(errors.prior), 1e3 * median(errors.lag_free));
}

//---- P3 acceptance 2: a falling object ----

TEST(Nsca, PriorObjectFallErrorIsBelowTwoMillimetres) {
  auto env = test::make<Env>("metaworld", "{task: pick-place, spawn: drop}");
  auto model = test::make<Model>("nsca", "{prior_init: 1, learn_prior_weight: false}");
  std::vector<double> errors, fall;
  for (uint64_t episode = 0; episode < 5; ++episode) {
    auto state = env->reset(900 + episode).at("state");
    auto open = torch::tensor({0.f, 0.f, 0.f, -1.f});
    double start = state[6].item<double>();
    for (int t = 0; t < 20; ++t) {
      auto next = env->step(open).observation.at("state");
      auto predicted = predict_next(*model, state, open);
      errors.push_back(std::abs(predicted[6].item<double>() - next[6].item<double>()));
      state = next;
    }
    fall.push_back(start - state[6].item<double>());
  }
  EXPECT_GT(median(fall), 0.1) << "the object must actually fall (metres over 20 steps)";
  EXPECT_LT(median(errors), 2e-3);
  std::printf("drop: object z error median %.2f um, max %.2f mm, fall %.1f cm\n", 1e6 * median(errors),
              1e3 * *std::max_element(errors.begin(), errors.end()), 100 * median(fall));
}

TEST(Nsca, PriorFingersStopAtTheObjectTheyHold) {
  // spawn `drop` starts with the object held: a closing grip stays at the object's width (the
  // servo alone would close by 0.083 a step, an error 10x the per-slot spread of babbling data)
  auto env = test::make<Env>("metaworld", "{task: pick-place, spawn: drop}");
  auto model = test::make<Model>("nsca", "{prior_init: 1, learn_prior_weight: false}");
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> uniform(-0.3f, 0.3f);
  std::vector<double> errors, gaps;
  for (uint64_t episode = 0; episode < 5; ++episode) {
    auto state = env->reset(700 + episode).at("state");
    for (int t = 0; t < 20; ++t) {
      auto action = torch::tensor({uniform(rng), uniform(rng), uniform(rng), 1.f});
      auto next = env->step(action).observation.at("state");
      errors.push_back(std::abs(predict_next(*model, state, action)[3].item<double>() - next[3].item<double>()));
      gaps.push_back(next[3].item<double>());
      state = next;
    }
  }
  EXPECT_GT(median(gaps), 0.3) << "the fingers must be holding the object";
  EXPECT_LT(median(errors), 2e-3);
  EXPECT_LT(*std::max_element(errors.begin(), errors.end()), 0.02);
  std::printf("held object: gap error median %.5f, max %.5f (gap %.3f)\n", median(errors),
              *std::max_element(errors.begin(), errors.end()), median(gaps));
}

//---- P3 acceptance 3: a frozen weight ----

// random transitions of the env, as a training batch [B, 2, 39] / [B, 1, 4]
Batch random_transitions(int64_t count) {
  auto env = test::make<Env>("metaworld", "{task: pick-place}");
  std::vector<at::Tensor> states, actions;
  auto state = env->reset(3).at("state");
  torch::manual_seed(4);
  for (int64_t i = 0; i < count; ++i) {
    auto action = torch::rand({4}) * 2 - 1;
    auto next = env->step(action).observation.at("state");
    states.push_back(torch::stack({state, next}));
    actions.push_back(action.unsqueeze(0));
    state = i % 50 == 49 ? env->reset(4 + i).at("state") : next;
  }
  Batch batch;
  batch.tensors["state"] = torch::stack(states);
  batch.tensors["actions"] = torch::stack(actions);
  return batch;
}

double logged_weight(Model& model, const Batch& batch) {
  torch::NoGradGuard no_grad;
  return model.loss(batch).logs.at("prior_weight");
}

TEST(Nsca, FrozenPriorWeightStaysExactlyAtItsInitialValue) {
  Batch batch = random_transitions(64);
  for (bool learn : {false, true}) {
    torch::manual_seed(0);
    auto model = test::make<Model>("nsca", learn ? "{prior_init: 0.9}" : "{prior_init: 0.9, learn_prior_weight: false}");
    model->set_training(true);
    train::AdamW optimizer(model->parameters(), {0.9, 0.999, 1e-8, 0.01});
    float before = static_cast<float>(logged_weight(*model, batch));
    EXPECT_NEAR(before, 0.9, 1e-6);
    for (int step = 0; step < 1000; ++step) {
      optimizer.zero_grad();
      model->loss(batch).loss.backward();
      optimizer.step(1e-3);
    }
    float after = static_cast<float>(logged_weight(*model, batch));
    if (!learn)
      EXPECT_EQ(std::memcmp(&before, &after, sizeof(float)), 0) << before << " vs " << after;
    else
      EXPECT_NE(before, after) << "a learnable weight must move";  // the mechanism is live
  }
}

TEST(Nsca, TheEnginesAdamWNeverDecaysTheLearnablePriorWeight) {
  // with zero gradients AdamW moves a tensor only by weight decay: ρ (1-D) stays, matrices shrink
  auto model = test::make<Model>("nsca", "{prior_init: 0.9}");
  auto parameters = model->parameters();
  train::AdamW optimizer(parameters, {0.9, 0.999, 1e-8, 0.5});
  std::map<std::string, at::Tensor> before;
  for (auto& [name, tensor] : parameters) {
    before[name] = tensor.detach().clone();
    tensor.mutable_grad() = torch::zeros_like(tensor);
  }
  optimizer.step(0.1);
  for (const auto& [name, tensor] : parameters) {
    if (name == "prior_rho")
      EXPECT_TRUE(torch::equal(tensor, before[name])) << "weight decay reached prior_rho";
    else if (tensor.dim() == 2 && before[name].abs().sum().item<double>() > 0)
      EXPECT_FALSE(torch::equal(tensor, before[name])) << name << " should decay";
  }
}

TEST(Nsca, TrainingLowersTheDynamicsAndBcErrors) {
  Batch batch = random_transitions(64);
  torch::manual_seed(0);
  auto model = test::make<Model>("nsca", "{prior_init: 0.5}");
  model->set_training(true);
  train::AdamW optimizer(model->parameters(), {0.9, 0.999, 1e-8, 0.01});
  auto first = model->loss(batch);
  for (int step = 0; step < 200; ++step) {
    optimizer.zero_grad();
    model->loss(batch).loss.backward();
    optimizer.step(1e-3);
  }
  auto last = model->loss(batch);
  EXPECT_LT(last.logs.at("dyn_mse"), 0.5 * first.logs.at("dyn_mse"));
  EXPECT_LT(last.logs.at("bc_mse"), 0.5 * first.logs.at("bc_mse"));
  for (const char* key : {"dyn_mse_prior_only", "dyn_mse_learned_only", "prior_weight"})
    EXPECT_TRUE(last.logs.count(key)) << key;
  // the prior alone is far better than the untrained learned branch on the env's own physics
  EXPECT_LT(first.logs.at("dyn_mse_prior_only"), first.logs.at("dyn_mse_learned_only"));
}

//---- the prior weight says which branch predicts better ----

// random-action transitions whose next states are the prior's own prediction (a world the
// prior knows exactly), or that with the object rising 4 mm a step whatever happens (a balloon
// the prior gets wrong)
Batch synthetic_world(bool buoyant) {
  Batch batch = random_transitions(256);
  auto prior = test::make<Model>("nsca", "{prior_init: 1, learn_prior_weight: false}");
  auto next = prior->predict(batch).at("prior_only").select(1, 0);
  if (buoyant) next.select(1, 6).copy_(batch.tensors["state"].select(1, 0).select(1, 6) + 0.004);
  batch.tensors["state"].select(1, 1).copy_(next);
  return batch;
}

struct Trained {
  LossOutput first, last;
};
Trained train_on(const Batch& batch, const std::string& params, int steps) {
  torch::manual_seed(0);
  auto model = test::make<Model>("nsca", "{hidden: 64, layers: 2, policy_hidden: 32, policy_layers: 1, " + params + "}");
  model->set_training(true);
  train::AdamW optimizer(model->parameters(), {0.9, 0.999, 1e-8, 0.01});
  Trained out;
  for (int step = 0; step < steps; ++step) {
    optimizer.zero_grad();
    auto loss = model->loss(batch);
    if (step == 0) out.first = loss;
    loss.loss.backward();
    optimizer.step(3e-3);
  }
  torch::NoGradGuard no_grad;
  out.last = model->loss(batch);
  return out;
}

TEST(Nsca, PriorWeightHoldsWhereThePriorIsRightAndTheLearnedBranchStillLearns) {
  auto run = train_on(synthetic_world(false), "prior_init: 0.9", 300);
  const auto& logs = run.last.logs;
  EXPECT_GE(logs.at("prior_weight"), 0.9);
  EXPECT_LT(logs.at("dyn_mse_prior_only"), 1e-6) << "the world is the prior's own";
  // L trains on its own error, not on the mix's: it must learn the world without the prior
  EXPECT_LT(logs.at("dyn_mse_learned_only"), 0.2 * run.first.logs.at("dyn_mse_learned_only"));
  std::printf("exact prior: w %.4f, learned-only %.4f -> %.4f\n", logs.at("prior_weight"),
              run.first.logs.at("dyn_mse_learned_only"), logs.at("dyn_mse_learned_only"));
}

TEST(Nsca, PriorWeightFallsWhereThePriorIsWrongAndTheLearnedBranchStandsAlone) {
  // under the mixed loss alone, L learned the residual scaled by 1 / (1 − w) and w barely moved
  auto run = train_on(synthetic_world(true), "prior_init: 0.9", 500);
  const auto& logs = run.last.logs;
  EXPECT_LT(logs.at("prior_weight"), 0.5);
  EXPECT_LT(logs.at("dyn_mse_learned_only"), logs.at("dyn_mse_prior_only"));
  EXPECT_LE(logs.at("dyn_mse"), logs.at("dyn_mse_prior_only"));
  std::printf("buoyant: w %.4f, learned-only %.4f, prior-only %.4f, mixed %.4f\n", logs.at("prior_weight"),
              logs.at("dyn_mse_learned_only"), logs.at("dyn_mse_prior_only"), logs.at("dyn_mse"));
}

TEST(Nsca, PerGroupWeightsFallOnlyForTheGroupThePriorGetsWrong) {
  auto run = train_on(synthetic_world(true), "prior_init: 0.9, prior_groups: per_group", 500);
  const auto& logs = run.last.logs;
  EXPECT_LT(logs.at("prior_weight/object"), 0.5);
  EXPECT_GE(logs.at("prior_weight/hand"), 0.9);
  EXPECT_GE(logs.at("prior_weight/fingers"), 0.9);
  std::printf("buoyant, per group: hand %.4f, fingers %.4f, object %.4f\n", logs.at("prior_weight/hand"),
              logs.at("prior_weight/fingers"), logs.at("prior_weight/object"));
}

TEST(Nsca, PriorWeightPushedToOneComesBackDown) {
  // a world the prior knows for 100 steps (w rises to the clamp at 1), then a buoyant one: a
  // plain min(1, softplus(ρ)) passes no gradient above 1, and w would stay at 1 for good
  torch::manual_seed(0);
  auto model = test::make<Model>("nsca", "{hidden: 64, layers: 2, policy_hidden: 32, policy_layers: 1, prior_init: 0.99}");
  model->set_training(true);
  train::AdamW optimizer(model->parameters(), {0.9, 0.999, 1e-8, 0.01});
  Batch exact = synthetic_world(false), buoyant = synthetic_world(true);
  double peak = 0;
  for (int step = 0; step < 400; ++step) {
    optimizer.zero_grad();
    auto loss = model->loss(step < 100 ? exact : buoyant);
    if (step < 100) peak = std::max(peak, loss.logs.at("prior_weight"));
    loss.loss.backward();
    optimizer.step(3e-3);
  }
  torch::NoGradGuard no_grad;
  EXPECT_EQ(peak, 1.0);
  EXPECT_LT(model->loss(buoyant).logs.at("prior_weight"), 0.9);
}

TEST(Nsca, PerGroupWeightsAreLoggedPerGroup) {
  auto model = test::make<Model>("nsca", "{prior_groups: per_group, prior_init: 0.5}");
  torch::NoGradGuard no_grad;
  auto logs = model->loss(random_transitions(8)).logs;
  for (const char* group : {"hand", "fingers", "object"})
    EXPECT_NEAR(logs.at(std::string("prior_weight/") + group), 0.5, 1e-6) << group;
}

//---- P3 acceptance 4 and 5: sizes ----

int64_t count_of(const NamedTensors& tensors) {
  int64_t total = 0;
  for (const auto& [name, tensor] : tensors) total += tensor.numel();
  return total;
}

TEST(Nsca, FullMultimodalModelHasFifteenToSeventeenMillionParameters) {
  auto model = test::make<Model>("nsca", "{inputs: state+pixels, size: full}");
  int64_t count = count_of(model->parameters());
  EXPECT_GE(count, 15000000);
  EXPECT_LE(count, 17000000);
  std::printf("size full: %lld parameters\n", static_cast<long long>(count));
  // and it runs: a 128x128 frame per transition
  auto tiny = test::make<Model>("nsca", "{inputs: state+pixels, size: tiny}");
  Batch batch = random_transitions(2);
  batch.tensors["pixels"] = torch::randint(0, 255, {2, 2, 3, 128, 128}, torch::kUInt8);
  auto out = tiny->loss(batch);
  EXPECT_TRUE(std::isfinite(out.loss.item<double>()));
}

TEST(Nsca, NoPriorHasExactlyTheLearnedBranchAndThePolicy) {
  auto none = test::make<Model>("nsca", "{prior: none}");
  auto physics = test::make<Model>("nsca", "{prior: physics}");
  std::set<std::string> prefixes;
  for (const auto& [name, tensor] : none->parameters()) prefixes.insert(name.substr(0, name.find('.')));
  EXPECT_EQ(prefixes, (std::set<std::string>{"learned", "policy"}));
  // 43 -> 256 -> 256 -> 256 -> 18 and 39 -> 256 -> 256 -> 4
  int64_t learned = (43 * 256 + 256) + 2 * (256 * 256 + 256) + (256 * 18 + 18);
  int64_t policy = (39 * 256 + 256) + (256 * 256 + 256) + (256 * 4 + 4);
  EXPECT_EQ(count_of(none->parameters()), learned + policy);
  EXPECT_EQ(count_of(physics->parameters()), learned + policy + 1);  // + ρ
}

//---- bad parameters ----

TEST(Nsca, BadParametersAreErrorsNamingTheKey) {
  for (const char* value : {"0", "-0.1", "1.5"})
    EXPECT_THAT(test::error_of([&] { test::make<Model>("nsca", std::string("{prior_init: ") + value + "}"); }),
                ::testing::HasSubstr("prior_init"))
        << value;
  EXPECT_THAT(test::error_of([] { test::make<Model>("nsca", "{size: full}"); }), ::testing::HasSubstr("size"));
  // cem needs the reward of states: point_mass has none
  auto model = test::make<Model>("nsca", "{planner: cem}");
  auto env = test::make<Env>("point_mass");
  auto* policy = dynamic_cast<Policy*>(model.get());
  ASSERT_NE(policy, nullptr);
  EXPECT_THAT(test::error_of([&] { policy->attach(*env); }), ::testing::HasSubstr("planner"));
  // an env whose state is not 39 wide
  auto plain = test::make<Model>("nsca", "{}");
  EXPECT_THAT(test::error_of([&] { dynamic_cast<Policy*>(plain.get())->attach(*env); }),
              ::testing::HasSubstr("state_size"));
}

//---- the planner ----

// a 39-D world whose reward is minus the hand's distance to a fixed point (a known optimum)
class ReachDouble : public Env, public StateReward {
 public:
  EnvSpec spec() const override {
    EnvSpec spec;
    spec.action_size = 4;
    spec.observation = {{"state", "float32", "[39]", ""}};
    return spec;
  }
  TensorMap reset(uint64_t) override { return {}; }
  StepResult step(const at::Tensor&) override { return {}; }
  int64_t state_size() const override { return 39; }
  at::Tensor reward_from_state(const at::Tensor& state) const override {
    auto target = torch::tensor({0.2f, 0.7f, 0.2f});
    return -(state.narrow(-1, 0, 3) - target).norm(2, -1);
  }
};

TEST(Nsca, CemPlannerMovesTheHandTowardsTheRewardsOptimum) {
  torch::manual_seed(0);
  auto model = test::make<Model>("nsca", "{prior_init: 1, learn_prior_weight: false, planner: cem, "
                                         "plan_horizon: 5, plan_samples: 64, plan_elites: 8}");
  ReachDouble env;
  auto* policy = dynamic_cast<Policy*>(model.get());
  policy->attach(env);
  auto state = torch::zeros({39});
  state[0] = 0.0, state[1] = 0.7, state[2] = 0.2, state[3] = 0.8;  // hand 20 cm left of the target
  state[18] = 0.0, state[19] = 0.7, state[20] = 0.2;
  state[4] = -0.3, state[5] = 0.6, state[6] = 0.02, state[22] = -0.3, state[23] = 0.6, state[24] = 0.02;
  Batch batch;
  batch.tensors["state"] = state.view({1, 1, 39});
  auto out = policy->act(batch);
  auto action = out.at("action")[0];
  EXPECT_GT(action[0].item<double>(), 0.5) << action;  // towards +x
  EXPECT_LT(action.slice(0, 1, 3).abs().max().item<double>(), 0.5) << action;
  EXPECT_TRUE(out.count("plan_energy"));
}

TEST(Nsca, CemPlannerActsInTheRealMetaworldEnv) {
  // reach: the reward pulls the fingertips to the goal, which the pure prior can imagine
  torch::manual_seed(0);
  auto model = test::make<Model>("nsca", "{prior_init: 1, learn_prior_weight: false, planner: cem, "
                                         "plan_horizon: 5, plan_samples: 64, plan_elites: 8}");
  auto env = test::make<Env>("metaworld", "{task: reach}");
  auto* policy = dynamic_cast<Policy*>(model.get());
  policy->attach(*env);
  auto state = env->reset(7).at("state");
  double start = (state.slice(0, 0, 3) - torch::tensor({0.f, 0.f, 0.03f}) - state.slice(0, 36, 39)).norm().item<double>();
  for (int step = 0; step < 40; ++step) {
    Batch batch;
    batch.tensors["state"] = state.view({1, 1, 39});
    auto action = policy->act(batch).at("action")[0];
    ASSERT_TRUE(torch::isfinite(action).all().item<bool>());
    state = env->step(action).observation.at("state");
  }
  double end = (state.slice(0, 0, 3) - torch::tensor({0.f, 0.f, 0.03f}) - state.slice(0, 36, 39)).norm().item<double>();
  EXPECT_LT(end, 0.5 * start) << "fingertips to goal: " << start << " m -> " << end << " m";
}

}  // namespace
}  // namespace wm

//---- P4: the lethality protocol in miniature ----

namespace wm {
namespace {

// configs/lethality.yaml with 2 arms x 2 seeds x 2 demos, 200 steps, 4 episodes, no planner
constexpr const char* kMiniature = R"(experiment: lethality_ci
seed: 0
threads: 1
global_vars:
  arms:
    prior_09: {plugin: nsca, params: {prior: physics, prior_init: 0.9, planner: none}}
    random_init: {plugin: nsca, params: {prior: none, planner: none}}
env: {plugin: metaworld, params: {task: pick-place, terminate_on_success: true, max_episode_steps: 150}}
data:
  demos: {plugin: webdataset, split: all,
          params: {shards: "${run.dir}/demos/shard-*.tar", video_ext: none, action_fields: action,
                   signals: state, clips: all, frames: 8}}
model: "${global_vars.arms.prior_09}"
procedure:
  - collect: {episodes: 2, policy: expert, video: false, out: "${run.dir}/demos"}
  - train: {data: demos, steps: 200, batch_size: 8, lr: 1.0e-3, log_every: 50, checkpoint_every: 200}
  - rollout: {name: nsca, policy: model, episodes: 4, first_episode: 100000, context: 1}
  - rollout: {name: expert, policy: expert, episodes: 4, first_episode: 100000}
sweep:
  model: ["${global_vars.arms.prior_09}", "${global_vars.arms.random_init}"]
  seed: [0, 1]
analysis:
  - aggregate: {name: lethality, by: model, columns: ["rollout[nsca]/success_rate", "rollout[expert]/success_rate"]}
  - compare: {name: lethality_compare, by: model, column: "rollout[nsca]/success_rate",
              pairs: [[random_init, prior_09]], test: welch}
  - decide:
      name: lethality_decision
      rules:
        - {when: "rel(prior_09, random_init) > 0.20", say: "the prior helps"}
        - {otherwise: "the prior does not help"}
)";

TEST(NscaLethality, MiniatureRunsEndToEndWithDisjointDemoAndEvaluationStarts) {
  test::TempDir dir;
  dir.write("lethality_ci.yaml", kMiniature);
  int exit_code = 0;
  std::string output = test::run_wmhost("run lethality_ci.yaml --out run", dir.path(), exit_code);
  ASSERT_EQ(exit_code, 0) << output;
  auto run = dir.path() / "run";
  std::string table = test::read_text(run / "analysis" / "lethality.md");
  EXPECT_THAT(table, ::testing::HasSubstr("prior_09"));
  EXPECT_THAT(table, ::testing::HasSubstr("random_init"));
  EXPECT_THAT(test::read_text(run / "analysis" / "lethality_compare.md"), ::testing::HasSubstr("random_init"));
  EXPECT_THAT(test::read_text(run / "analysis" / "lethality_decision.md"), ::testing::HasSubstr("the prior"));
  // the training logged the prior's weight and the three dynamics errors
  std::string metrics = test::read_text(run / "model=prior_09,seed=1" / "metrics.jsonl");
  for (const char* key : {"prior_weight", "dyn_mse_prior_only", "dyn_mse_learned_only", "bc_mse"})
    EXPECT_THAT(metrics, ::testing::HasSubstr(key));
  // the contract checks on these demos (hidden 64: two instances' 256-wide products may differ
  // in the last bits with 2 BLAS threads, which the checks' equality would flag)
  testing::CheckOptions options;
  options.params = "{hidden: 64, policy_hidden: 64}";
  options.data = "webdataset";
  options.data_params = "{shards: '" + (run / "model=prior_09,seed=0" / "demos/shard-*.tar").string() +
                        "', video_ext: none, action_fields: action, signals: state, clips: all, frames: 4}";
  EXPECT_THAT(testing::conformance("nsca", options), ::testing::IsEmpty());
  // the expert's ceiling on the evaluation starts is at least 95 %, in every run
  for (const char* point : {"model=prior_09,seed=0", "model=random_init,seed=1"}) {
    std::string status = test::read_text(run / point / "status.json");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(status, match, std::regex(R"re("rollout\[expert\]/success_rate": *([0-9.eE+-]+))re")))
        << point << ": " << status;
    EXPECT_GE(std::stod(match[1].str()), 0.95) << point;
  }

  // demo starts are the resets of seeds s*1000003 + 0, 1; evaluation starts those of
  // s*1000003 + 100000 + 0..3: the sets are disjoint and every demo start is a demo seed's
  auto env = test::make<Env>("metaworld", "{task: pick-place}");
  for (uint64_t seed : {0u, 1u}) {
    auto point = run / ("model=prior_09,seed=" + std::to_string(seed));
    auto demos = test::make<Dataset>("webdataset", "{shards: '" + (point / "demos/shard-*.tar").string() +
                                                       "', video_ext: none, action_fields: action, "
                                                       "signals: state, frames: 2}");
    ASSERT_EQ(demos->size(), 2);
    std::vector<at::Tensor> demo_seeds, evaluation_seeds;
    for (uint64_t i = 0; i < 2; ++i) demo_seeds.push_back(env->reset(seed * 1000003u + i).at("state").clone());
    for (uint64_t i = 0; i < 4; ++i)
      evaluation_seeds.push_back(env->reset(seed * 1000003u + 100000u + i).at("state").clone());
    for (int64_t d = 0; d < demos->size(); ++d) {
      auto start = demos->get(d).tensors.at("state")[0];
      bool from_demo_seed = false, from_evaluation_seed = false;
      for (const auto& s : demo_seeds) from_demo_seed |= torch::equal(start, s);
      for (const auto& s : evaluation_seeds) from_evaluation_seed |= torch::equal(start, s);
      EXPECT_TRUE(from_demo_seed) << "demo " << d << " of seed " << seed;
      EXPECT_FALSE(from_evaluation_seed) << "demo " << d << " of seed " << seed;
    }
  }
}

TEST(NscaLethality, ShippedConfigIsValid) {
  int exit_code = 0;
  std::string output = test::run_wmhost(std::string("validate ") + WM_TEST_SOURCE_DIR + "/configs/lethality.yaml",
                                        std::filesystem::temp_directory_path(), exit_code);
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_THAT(output, ::testing::HasSubstr("20 runs"));
}

TEST(NscaDemos, ShippedConfigIsValid) {
  int exit_code = 0;
  std::string output = test::run_wmhost(std::string("validate ") + WM_TEST_SOURCE_DIR + "/configs/nsca_demos.yaml",
                                        std::filesystem::temp_directory_path(), exit_code);
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_THAT(output, ::testing::HasSubstr("30 runs"));
}

TEST(NscaDemos, MiniatureComparesThePriorWithRandomInitAtEachDemoCount) {
  // the shipped config on 3 and 4 demos, 2 seeds, 100 steps, 2 episodes, no planner
  test::TempDir dir;
  dir.write("demos_ci.yaml", std::string("base: ") + WM_TEST_SOURCE_DIR + "/configs/nsca_demos.yaml\n" + R"(
global_vars: {steps: 100, episodes: 2, planner: none}
sweep:
  global_vars.demos: [3, 4]
  model: ["${global_vars.arms.physics}", "${global_vars.arms.none}"]
  seed: [0, 1]
)");
  int exit_code = 0;
  std::string output = test::run_wmhost("run demos_ci.yaml --out run", dir.path(), exit_code);
  ASSERT_EQ(exit_code, 0) << output;
  auto analysis = dir.path() / "run" / "analysis";
  // the seed's table: one physics-against-none row per number of demos, each with its own verdict
  std::string compare = test::read_text(analysis / "demos_compare.csv");
  EXPECT_THAT(compare, ::testing::HasSubstr("\n3,rollout[nsca]/success_rate,physics,none,"));
  EXPECT_THAT(compare, ::testing::HasSubstr("\n4,rollout[nsca]/success_rate,physics,none,"));
  std::string decision = test::read_text(analysis / "demos_decision.md");
  EXPECT_THAT(decision, ::testing::HasSubstr("**verdict at global_vars.demos = 3: "));
  EXPECT_THAT(decision, ::testing::HasSubstr("**verdict at global_vars.demos = 4: "));
  EXPECT_THAT(test::read_text(analysis / "demos.md"), ::testing::HasSubstr("| 4 | none |"));
}

}  // namespace
}  // namespace wm
