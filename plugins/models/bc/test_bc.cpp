// bc on its own: the input statistics against sklearn's StandardScaler, the Gaussian NLL against
// scipy, training and acting read the same (observation t, action t) pairs, the frozen encoder
// of `obs: video` stays bit-identical through training, and bad widths or params are named.
#include <torch/torch.h>

#include <sstream>

#include "engine/adamw.h"
#include "test_support.h"
#include "wm/env.h"
#include "wm/model.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

// state [B, T, S] and actions [B, T-1, A] drawn from a seeded normal, with chosen columns
Batch state_batch(int64_t clips, int64_t frames, int64_t state_size, int64_t action_size, int64_t seed) {
  auto generator = at::detail::createCPUGenerator(static_cast<uint64_t>(seed));
  Batch batch;
  auto state = at::randn({clips, frames, state_size}, generator) * 3.0 + 1.5;
  state.select(2, 1).fill_(0.25);  // a constant slot, like Meta-World's absent second object
  batch.tensors["state"] = state;
  batch.tensors["actions"] = at::rand({clips, frames - 1, action_size}, generator) * 2.0 - 1.0;
  return batch;
}

// a tensor as numbers numpy parses back: "1.5,2,..." (float64 round trip)
std::string csv_of(const at::Tensor& tensor) {
  auto values = tensor.to(at::kDouble).contiguous().flatten();
  std::ostringstream out;
  out.precision(17);
  for (int64_t i = 0; i < values.numel(); ++i) out << (i ? "," : "") << values[i].item<double>();
  return out.str();
}

at::Tensor named(const Model& model, const std::string& name) {
  for (const auto& [key, tensor] : model.state())
    if (key == name) return tensor;
  ADD_FAILURE() << "no tensor " << name;
  return {};
}

//---- standardisation ----

TEST(Bc, InputStatisticsMatchSklearnsStandardScalerOnTheFirstFitSamplePairs) {
  auto model = test::make<Model>("bc", "{state_size: 5, action_size: 3, fit_samples: 130}");
  model->set_training(true);
  // 3 batches of 8 clips x 6 pairs = 48 pairs each: the statistics stop after 130 pairs
  std::vector<at::Tensor> seen;
  for (int64_t seed = 0; seed < 4; ++seed) {
    Batch batch = state_batch(8, 7, 5, 3, seed);
    seen.push_back(batch.at("state").slice(1, 0, 6).reshape({-1, 5}));
    model->loss(batch);
  }
  auto first = at::cat(seen).slice(0, 0, 130);
  test::TempDir dir;
  test::write_raw(dir.path() / "x.raw", first);
  std::string reference = test::run_python(dir, R"(
import sys, numpy as np
from sklearn.preprocessing import StandardScaler
x = np.fromfile(sys.argv[1] + "/x.raw", dtype=np.float64).reshape(130, 5)
s = StandardScaler().fit(x)
print(",".join(repr(v) for v in np.concatenate([s.mean_, s.scale_])))
)");
  std::vector<double> expected;
  std::stringstream stream(reference);
  for (std::string item; std::getline(stream, item, ',');) expected.push_back(std::stod(item));
  ASSERT_EQ(expected.size(), 10u);
  auto mean = named(*model, "input_mean"), var = named(*model, "input_var");
  EXPECT_EQ(named(*model, "input_count").item<double>(), 130.0);
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(mean[i].item<double>(), expected[i], 1e-9) << "mean " << i;
    double scale = std::sqrt(var[i].item<double>());
    if (i == 1) {
      EXPECT_EQ(expected[5 + i], 1.0) << "sklearn divides a constant column by 1";
      EXPECT_LT(scale, 1e-6);
    } else {
      EXPECT_NEAR(scale, expected[5 + i], 1e-9) << "scale " << i;
    }
  }
  // the standardised inputs, as encode gives them: constant slot 0 after centring
  Batch probe = state_batch(2, 2, 5, 3, 9);
  auto features = model->encode(probe).at("features");
  auto x = probe.at("state").select(1, 0);
  for (int64_t i : {0, 2, 4})
    EXPECT_NEAR((features.select(1, i) - (x.select(1, i) - expected[i]) / expected[5 + i]).abs().max().item<double>(),
                0.0, 1e-5);
  EXPECT_NEAR(features.select(1, 1).abs().max().item<double>(), 0.0, 1e-6);

  // evaluation batches never move the statistics
  auto fresh = test::make<Model>("bc", "{state_size: 5, action_size: 3}");
  fresh->set_training(false);
  fresh->loss(state_batch(4, 3, 5, 3, 1));
  EXPECT_EQ(named(*fresh, "input_count").item<double>(), 0.0);
}

//---- the Gaussian negative log-likelihood ----

TEST(Bc, GaussianNllEqualsScipysNormalLogDensity) {
  torch::manual_seed(3);
  auto model = test::make<Model>("bc", "{state_size: 4, action_size: 2, gaussian: true, "
                                       "log_std_init: -0.7, hidden: 16}");
  model->set_training(false);  // no statistics: the raw inputs
  Batch batch = state_batch(5, 4, 4, 2, 7);
  auto loss = model->loss(batch);
  auto out = model->predict(batch);
  ASSERT_EQ(out.at("prediction").sizes(), (std::vector<int64_t>{5, 3, 2}));
  EXPECT_TRUE(out.at("target").equal(batch.at("actions")));
  EXPECT_NEAR(out.at("action_std").mean().item<double>(), std::exp(-0.7), 1e-6);
  test::TempDir dir;
  std::string reference = test::run_python(dir, R"(
import sys, numpy as np
from scipy.stats import norm
mu = np.array([float(v) for v in sys.argv[2].split(",")])
a = np.array([float(v) for v in sys.argv[3].split(",")])
print(repr(-norm.logpdf(a, loc=mu, scale=np.exp(-0.7)).mean()), repr(((a - mu) ** 2).mean()))
)", csv_of(out.at("prediction")) + " " + csv_of(batch.at("actions")));
  std::stringstream stream(reference);
  double nll = 0, mse = 0;
  stream >> nll >> mse;
  EXPECT_NEAR(loss.loss.item<double>(), nll, 1e-5);
  EXPECT_NEAR(loss.logs.at("nll"), nll, 1e-5);
  EXPECT_NEAR(loss.logs.at("mse"), mse, 1e-6);
  // the log-std is a trained parameter and gets a gradient
  loss.loss.backward();
  at::Tensor log_std;
  for (const auto& [name, tensor] : model->parameters())
    if (name == "log_std") log_std = tensor;
  ASSERT_TRUE(log_std.defined());
  EXPECT_GT(log_std.grad().abs().sum().item<double>(), 0.0);
}

//---- training and acting read the same pairs ----

TEST(Bc, ActingOnTheHistoryUpToFrameTGivesThePredictionForPairT) {
  torch::manual_seed(0);
  auto model = test::make<Model>("bc", "{state_size: 4, action_size: 2, hidden: 32}");
  model->set_training(true);
  Batch batch = state_batch(3, 5, 4, 2, 2);
  model->loss(batch);  // fits the statistics
  model->set_training(false);
  auto prediction = model->predict(batch).at("prediction");  // [3, 4, 2]
  auto* policy = dynamic_cast<Policy*>(model.get());
  ASSERT_NE(policy, nullptr);
  for (int64_t t = 0; t < 4; ++t) {
    Batch history;  // what EpisodePolicy::ask_model sends: states up to t, the actions between
    history.tensors = {{"state", batch.at("state").slice(1, std::max<int64_t>(0, t - 1), t + 1)},
                       {"actions", batch.at("actions").slice(1, std::max<int64_t>(0, t - 1), t)}};
    auto action = policy->act(history).at("action");
    ASSERT_EQ(action.sizes(), (std::vector<int64_t>{3, 2}));
    EXPECT_TRUE(torch::allclose(action, prediction.select(1, t), 1e-6, 1e-6)) << "pair " << t;
    EXPECT_LE(action.abs().max().item<double>(), 1.0) << "tanh output";
  }
}

TEST(Bc, TrainingFitsTheDemoActionsOfAStateFunction) {
  torch::manual_seed(1);
  auto model = test::make<Model>("bc", "{state_size: 4, action_size: 2, hidden: 64}");
  Batch batch = state_batch(16, 5, 4, 2, 4);
  // the demo action after frame t is a function of state t (and not of state t+1)
  auto s = batch.at("state");
  auto a = torch::stack({torch::tanh(s.select(2, 0) - 1.5), torch::tanh(0.3 * (s.select(2, 2) - s.select(2, 3)))}, 2);
  batch.tensors["actions"] = a.slice(1, 0, 4).contiguous();
  train::AdamW optimizer(model->parameters(), {0.9, 0.999, 1e-8, 0.0});
  model->set_training(true);
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    auto out = model->loss(batch);
    if (step == 0) first = out.logs.at("mse");
    last = out.logs.at("mse");
    out.loss.backward();
    optimizer.step(3e-3);
    optimizer.zero_grad();
  }
  EXPECT_LT(last, 0.05 * first) << first << " -> " << last;
  EXPECT_LT(last, 2e-3);
}

//---- obs: video ----

TEST(Bc, TheFrozenEncoderIsBitIdenticalAfterTrainingOnFrames) {
  torch::manual_seed(0);
  Batch batch = test::batch_of("synthetic", "{size: 16, frames: 3, objects: 1, push: 0.02}", 8);
  auto model = test::make<Model>("bc", "{obs: video, image_size: 16, patch: 4, encoder_dim: 16, "
                                       "encoder_depth: 1, encoder_heads: 2, action_size: 2, hidden: 32}");
  auto required = model->required_keys();
  EXPECT_EQ(required, (std::vector<std::string>{"video", "actions"}));
  auto snapshot = [&](bool encoder) {
    std::vector<at::Tensor> all;
    for (const auto& [name, tensor] : model->state())
      if ((name.rfind("encoder.", 0) == 0) == encoder) all.push_back(tensor.flatten().to(at::kDouble).clone());
    return torch::cat(all);
  };
  for (const auto& [name, tensor] : model->parameters()) EXPECT_EQ(name.rfind("encoder", 0), std::string::npos) << name;
  auto encoder_before = snapshot(true), head_before = snapshot(false);
  ASSERT_GT(encoder_before.numel(), 1000);
  train::AdamW optimizer(model->parameters(), {0.9, 0.999, 1e-8, 0.05});
  model->set_training(true);
  double first = 0, last = 0;
  for (int step = 0; step < 40; ++step) {
    auto out = model->loss(batch);
    if (step == 0) first = out.loss.item<double>();
    last = out.loss.item<double>();
    out.loss.backward();
    optimizer.step(3e-3);
    optimizer.zero_grad();
  }
  EXPECT_LT(last, first);
  EXPECT_TRUE(torch::equal(snapshot(true), encoder_before)) << "the encoder is frozen";
  EXPECT_FALSE(torch::equal(snapshot(false), head_before)) << "the MLP learned";

  // acting on an env's uint8 frames of another size (resized) and without a time axis
  model->set_training(false);
  auto* policy = dynamic_cast<Policy*>(model.get());
  Batch frames;
  auto large = at::upsample_nearest2d(batch.at("video").select(1, 0), {32, 32});
  frames.tensors["pixels"] = (large * 255).round().to(torch::kUInt8);
  auto action = policy->act(frames).at("action");
  EXPECT_EQ(action.sizes(), (std::vector<int64_t>{8, 2}));
  Batch wrong;
  wrong.tensors["video"] = batch.at("video");
  EXPECT_THAT(test::error_of([&] { policy->act(wrong); }), HasSubstr("env_frame_key"));
}

//---- errors ----

TEST(Bc, AStateWidthThatDoesNotMatchNamesTheKey) {
  auto model = test::make<Model>("bc", "{state_size: 39, action_size: 2}");
  // the env: point_mass observes state [6] and takes 2 actions
  auto env = test::make<Env>("point_mass", "{}");
  auto* policy = dynamic_cast<Policy*>(model.get());
  std::string error = test::error_of([&] { policy->attach(*env); });
  EXPECT_THAT(error, HasSubstr("state_size"));
  EXPECT_THAT(error, HasSubstr("state [6]"));
  EXPECT_THROW(policy->attach(*env), ConfigError);
  auto wide = test::make<Model>("bc", "{state_size: 6, action_size: 4}");
  EXPECT_THAT(test::error_of([&] { dynamic_cast<Policy*>(wide.get())->attach(*env); }),
              HasSubstr("action_size"));
  auto fits = test::make<Model>("bc", "{state_size: 6, action_size: 2}");
  EXPECT_NO_THROW(dynamic_cast<Policy*>(fits.get())->attach(*env));

  // a batch of another width, in training and when acting
  Batch batch = state_batch(2, 3, 5, 2, 0);
  EXPECT_THAT(test::error_of([&] { model->loss(batch); }), HasSubstr("model.params.state_size is 39"));
  EXPECT_THAT(test::error_of([&] { policy->act(batch); }), HasSubstr("model.params.state_size is 39"));
  Batch one_frame = state_batch(2, 1, 39, 2, 0);
  EXPECT_THAT(test::error_of([&] { model->loss(one_frame); }), HasSubstr("frames >= 2"));
}

TEST(Bc, BadParamsAreConfigErrors) {
  for (const char* params : {"{hidden: 0}", "{layers: 0}", "{obs: pixels}", "{log_std_init: 5}",
                             "{fit_samples: 0}", "{pool: max}", "{obs: video, patch: 5}",
                             "{gaussian: maybe}", "{widht: 3}"}) {
    EXPECT_THROW(test::make<Model>("bc", params), ConfigError) << params;
  }
}

}  // namespace
}  // namespace wm
