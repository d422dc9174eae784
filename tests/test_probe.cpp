// Linear probes: the fits recover known linear relations (tests/test_probe_parity.cpp checks them
// against scikit-learn), and the `probe` and
// `rollout` procedures write their tables from a real run.
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include <torch/torch.h>

#include "test_support.h"
#include "procedures/linear_probe.h"

namespace wm {
namespace {

namespace fs = std::filesystem;

TEST(LinearProbe, RecoversAKnownLinearMapOnHeldOutRows) {
  torch::manual_seed(0);
  auto x = torch::randn({600, 6});
  auto weight = torch::randn({3, 6}), bias = torch::tensor({0.5, -1.0, 2.0});
  auto y = torch::addmm(bias, x, weight.t());
  auto probe = eval::fit_ridge(x.slice(0, 0, 400), y.slice(0, 0, 400), 1e-3, /*standardize=*/false);
  EXPECT_GT(eval::r2_score(probe(x.slice(0, 400)), y.slice(0, 400)), 0.99);
  EXPECT_TRUE(torch::allclose(probe.weight, weight.to(torch::kDouble), 0, 1e-4)) << probe.weight;
  EXPECT_TRUE(torch::allclose(probe.bias, bias.to(torch::kDouble), 0, 1e-4)) << probe.bias;
}

TEST(LinearProbe, ClassifiesLabelsThatAreALinearFunctionOfTheFeatures) {
  torch::manual_seed(1);
  auto x = torch::randn({800, 4});
  auto labels = torch::mm(x, torch::randn({4, 5})).argmax(1);
  auto probe = eval::fit_logistic(x.slice(0, 0, 600), labels.slice(0, 0, 600), 5, 100.0);
  auto logits = probe(x.slice(0, 600));
  EXPECT_GT(eval::top_k_accuracy(logits, labels.slice(0, 600), 1), 0.9);
  EXPECT_DOUBLE_EQ(eval::top_k_accuracy(logits, labels.slice(0, 600), 5), 1.0);
}

TEST(LinearProbe, RSquaredIsOneForThePerfectGuessAndZeroForTheMean) {
  auto y = torch::tensor({{1.0, 2.0}, {3.0, 5.0}, {4.0, 11.0}});
  EXPECT_DOUBLE_EQ(eval::r2_score(y, y), 1.0);
  EXPECT_NEAR(eval::r2_score(y.mean(0, true).expand_as(y), y), 0.0, 1e-12);
}

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int wmhost(const std::string& args, const fs::path& cwd) {
  std::string command = "cd '" + cwd.string() + "' && OMP_WAIT_POLICY=PASSIVE '" + WM_TEST_WMHOST +
                        "' " + args + " > out.txt 2>&1";
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ProbeProcedure, WritesOneRowPerProbeMetricWithItsBaseline) {
  test::TempDir dir;
  dir.write("exp.yaml", R"(
experiment: probe_test
threads: 1
data:
  train: {plugin: synthetic, split: train, params: {samples: 60, frames: 4, size: 16, objects: 1}}
  val: {plugin: synthetic, split: val, fractions: [0.5, 0.5, 0.0], params: {samples: 60, frames: 4, size: 16, objects: 1}}
model: {plugin: single_stream, params: {image_size: 16, patch: 4, dim: 16, depth: 1, heads: 2, change_dim: 8, decoder_dim: 16, decoder_depth: 1, max_gap: 2}}
procedure:
  - probe: {flow_grid: 2, cs: [0.01, 1], alphas: [1, 100]}
)");
  ASSERT_EQ(wmhost("run exp.yaml --out run", dir.path()), 0) << read(dir.path() / "out.txt");
  std::string table = read(dir.path() / "run" / "probe.md");
  for (const char* row : {"| action | accuracy |", "| action | top5 |", "| regression | r2 |",
                          "| regression | mse |", "| order | accuracy |", "| flow | epe_px |"})
    EXPECT_THAT(table, ::testing::HasSubstr(row));
  EXPECT_THAT(read(dir.path() / "run" / "probe.csv"),
              ::testing::StartsWith("probe,metric,value,baseline,hyperparameter,chosen\n"));
  EXPECT_THAT(read(dir.path() / "run" / "probe.csv"), ::testing::ContainsRegex("\naction,accuracy,[0-9.e-]+,[0-9.e-]+,C,(0.01|1)\n"));
  EXPECT_THAT(read(dir.path() / "run" / "metrics.jsonl"), ::testing::HasSubstr("\"flow_alpha\": "));
  EXPECT_THAT(read(dir.path() / "run" / "log.txt"), ::testing::HasSubstr("probe action: validation accuracy by C: 0.01 "));
  EXPECT_THAT(read(dir.path() / "run" / "metrics.jsonl"), ::testing::HasSubstr("\"order_accuracy_baseline\": 0.5"));
}

TEST(ProbeProcedure, UnknownProbeNamesTheKeyAndSuggests) {
  test::TempDir dir;
  dir.write("exp.yaml", R"(
experiment: probe_test
data: {train: {plugin: synthetic}, val: {plugin: synthetic}}
model: {plugin: copy_last}
procedure: [{probe: {probes: "action,flwo"}}]
)");
  EXPECT_EQ(wmhost("validate exp.yaml", dir.path()), 2);
  EXPECT_THAT(read(dir.path() / "out.txt"), ::testing::HasSubstr("unknown probe 'flwo'; did you mean 'flow'?"));
}

TEST(ProbeProcedure, ARegularisationThatIsNotPositiveIsAConfigError) {
  test::TempDir dir;
  dir.write("exp.yaml", R"(
experiment: probe_test
data: {train: {plugin: synthetic}, val: {plugin: synthetic}}
model: {plugin: copy_last}
procedure: [{probe: {cs: [1, 0]}}]
)");
  EXPECT_EQ(wmhost("validate exp.yaml", dir.path()), 2);
  EXPECT_THAT(read(dir.path() / "out.txt"), ::testing::HasSubstr("procedure.0.probe.cs: values must be > 0, got 0"));
}

TEST(RolloutProcedure, AModelPolicyPlansInDiscPushAndTheTableHasARowPerPolicy) {
  test::TempDir dir;
  dir.write("exp.yaml", R"(
experiment: rollout_test
threads: 1
model: {plugin: vjepa_ac, params: {image_size: 16, patch: 8, encoder_dim: 16, encoder_depth: 1, encoder_heads: 2, dim: 16, depth: 1, heads: 2, plan_horizon: 2, plan_samples: 8, plan_elites: 2, plan_iterations: 1}}
env: {plugin: disc_push, params: {size: 16, max_episode_steps: 3, goal_steps: 3}}
procedure:
  - rollout: {policy: random, episodes: 2}
  - rollout: {policy: model, episodes: 2, context: 2}
)");
  ASSERT_EQ(wmhost("run exp.yaml --out run", dir.path()), 0) << read(dir.path() / "out.txt");
  std::string table = read(dir.path() / "run" / "rollout.md");
  EXPECT_THAT(table, ::testing::HasSubstr("| policy | episodes | return_mean"));
  EXPECT_THAT(table, ::testing::HasSubstr("final_distance_mean"));
  EXPECT_THAT(table, ::testing::HasSubstr("| random | 2 |"));
  EXPECT_THAT(table, ::testing::HasSubstr("| model | 2 |"));
}

TEST(RolloutProcedure, AModelThatIsNotAPolicyIsNamed) {
  test::TempDir dir;
  dir.write("exp.yaml", R"(
experiment: rollout_test
threads: 1
model: {plugin: copy_last}
env: {plugin: disc_push, params: {size: 16, max_episode_steps: 2}}
procedure: [{rollout: {policy: model, episodes: 1}}]
)");
  EXPECT_EQ(wmhost("run exp.yaml --out run", dir.path()), 1);
  EXPECT_THAT(read(dir.path() / "run" / "log.txt"), ::testing::HasSubstr("model 'copy_last' does not (it is not a policy"));
}

}  // namespace
}  // namespace wm
