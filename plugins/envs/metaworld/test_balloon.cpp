// Seed protocol P7 in miniature (configs/balloon.yaml at CI size): nsca trained on babbling in the
// balloon world (buoyancy 2) and the control (0); the balloon's prior weight falls monotonically
// over its 20 logged points while the control's ends at or above prior_init, by a margin above
// the balloon's. Needs the nsca plugin.
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "test_support.h"
#include "wm/io/json.h"

namespace wm {
namespace {

using ::testing::HasSubstr;
namespace json = io::json;

// 2 worlds x 6 babbling episodes of 60 steps; 60 training steps, w logged every 3
constexpr const char* kMiniature = R"(experiment: balloon_ci
seed: 0
threads: 1
env: {plugin: metaworld, params: {task: pick-place, spawn: drop, max_episode_steps: 60, buoyancy: 2}}
data:
  babble: {plugin: webdataset, split: all,
           params: {shards: "${run.dir}/babble/shard-*.tar", video_ext: none, action_fields: action,
                    signals: state, clips: all, frames: 8}}
model: {plugin: nsca, params: {inputs: state, prior: physics, prior_init: 0.9, learn_prior_weight: true,
                               hidden: 64, layers: 2, policy_hidden: 32, policy_layers: 1}}
procedure:
  - collect: {episodes: 6, policy: babble, video: false, out: "${run.dir}/babble"}
  - train: {data: babble, steps: 60, batch_size: 16, lr: 3.0e-3, min_lr: 3.0e-3, log_every: 3,
            checkpoint_every: 60}
sweep:
  env.params.buoyancy: [2, 0]
analysis:
  - curves:
      name: balloon
      column: train/prior_weight
      by: [env.params.buoyancy]
      at: [3, 30, 60]
      at_label: w
      trend: true
      log_y: false
      rules:
        - {when: "rho(2) < -0.9 && min(0) >= 0.8", say: "balloon falls, control holds"}
        - {otherwise: "no"}
)";

TEST(Balloon, MiniaturePriorWeightFallsInTheBalloonWorldWhileTheControlHolds) {
  if (!std::filesystem::exists(std::filesystem::path(WM_TEST_PLUGIN_DIR) / "wm_nsca.so"))
    GTEST_SKIP() << "the nsca plugin is not built";
  test::TempDir dir;
  dir.write("balloon_ci.yaml", kMiniature);
  int exit_code = 0;
  std::string output = test::run_wmhost("run balloon_ci.yaml --out run", dir.path(), exit_code);
  ASSERT_EQ(exit_code, 0) << output;
  auto analysis = dir.path() / "run" / "analysis";
  json::Value result = json::parse(test::read_text(analysis / "balloon.json"));
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> curves;
  for (const auto& group : result.find("groups")->items()) {
    std::vector<double> x, w;
    for (const auto& v : group.find("x")->items()) x.push_back(v.as_number());
    for (const auto& v : group.find("mean")->items()) w.push_back(v.as_number());
    curves[group.find("group")->as_string()] = {x, w};
  }
  ASSERT_EQ(curves.size(), 2u) << test::read_text(analysis / "balloon.md");
  const auto& [x, balloon] = curves.at("2");
  const auto& control = curves.at("0").second;
  ASSERT_EQ(balloon.size(), 20u) << "w logged every 3 of 60 steps";
  EXPECT_LT(balloon.back(), balloon.front());
  EXPECT_GE(*std::min_element(control.begin(), control.end()), 0.8);
  // the prior agrees with the control world, so its w ends at least at prior_init, and clearly
  // above the balloon's (the old mixed-only loss let both fall alike, by ~0.04)
  EXPECT_GE(control.back(), 0.9);
  EXPECT_GT(control.back() - balloon.back(), 0.08) << test::read_text(analysis / "balloon.md");
  // Spearman's rho by scipy on the logged series, and the analysis' own verdict from it
  auto list = [](const std::vector<double>& values) {
    std::string text = "[";
    char number[40];
    for (double v : values) std::snprintf(number, sizeof number, "%.17g,", v), text += number;
    return text + "]";
  };
  std::string script = "from scipy.stats import spearmanr\nprint(repr(float(spearmanr(" + list(x) + ", " +
                       list(balloon) + ").correlation)))\n";
  double rho = std::stod(test::run_python(dir, script));
  EXPECT_LT(rho, -0.9) << test::read_text(analysis / "balloon.md");
  EXPECT_THAT(test::read_text(analysis / "balloon.md"), HasSubstr("**verdict: balloon falls, control holds**"));
}

TEST(Balloon, ShippedConfigIsValid) {
  int exit_code = 0;
  std::string output = test::run_wmhost(std::string("validate ") + WM_TEST_SOURCE_DIR + "/configs/balloon.yaml",
                                        std::filesystem::temp_directory_path(), exit_code);
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_THAT(output, HasSubstr("2 runs"));
}

}  // namespace
}  // namespace wm
