// bc end to end on Meta-World reach through the real binary (skipped without MuJoCo): the
// webdataset pairs (frames: 2, clips: all) hold state t with the action taken at state t, and a
// policy cloned from 50 state-only expert demos succeeds on 20 starts none of the demos had.
#include <torch/torch.h>

#include <fstream>
#include <regex>

#include "test_support.h"
#include "wm/dataset.h"
#include "wm/env.h"
#include "wm/io/checkpoint.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

bool have_metaworld() { return test::plugins().find("metaworld") != nullptr; }

std::string run(const test::TempDir& dir, const std::string& config, const std::string& out) {
  dir.write(out + ".yaml", config);
  int code = 0;
  std::string output = test::run_wmhost("run " + out + ".yaml +threads=1 --out " + out, dir.path(), code);
  EXPECT_EQ(code, 0) << output;
  return output;
}

// success_rate per row label of rollout.csv
std::map<std::string, double> success_rates(const fs::path& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> columns;
  std::stringstream header(line);
  for (std::string cell; std::getline(header, cell, ',');) columns.push_back(cell);
  auto at = std::find(columns.begin(), columns.end(), "success_rate") - columns.begin();
  std::map<std::string, double> rates;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    if (static_cast<size_t>(at) < cells.size()) rates[cells[0]] = std::stod(cells[static_cast<size_t>(at)]);
  }
  return rates;
}

TEST(BcReach, FrameTwoClipsPairStateTWithTheActionTakenThere) {
  if (!have_metaworld()) GTEST_SKIP() << "no MuJoCo: the metaworld env was not built";
  test::TempDir dir;
  run(dir, R"(experiment: pairs
seed: 4
env: {plugin: metaworld, params: {task: reach, max_episode_steps: 25}}
procedure:
  - collect: {episodes: 2, policy: expert, video: false, out: demos}
)", "run");
  auto data = test::make<Dataset>("webdataset", "{shards: '" + (dir.path() / "demos/*.tar").string() +
                                                    "', video_ext: none, action_fields: action, "
                                                    "signals: state, frames: 2, clips: all}");
  // 26 records per episode: clips start at frames 0, 2, ..., 24
  ASSERT_EQ(data->size(), 2 * 13);
  // replay each episode in the env: the expert's action at state t is the clip's action row 0
  auto env = test::make<Env>("metaworld", "{task: reach, max_episode_steps: 25}");
  auto* expert = dynamic_cast<ScriptedPolicy*>(env.get());
  int64_t checked = 0, next_differs = 0;
  // ids: <shard>/<key>, plus @<first frame> for clips after the first
  static const std::regex id(R"(episode-0*([0-9]+)(@([0-9]+))?$)");
  for (int64_t i = 0; i < data->size(); ++i) {
    Sample sample = data->get(i);
    std::smatch match;
    ASSERT_TRUE(std::regex_search(sample.id, match, id)) << sample.id;
    int64_t episode = std::stoll(match[1]), start = match[3].matched ? std::stoll(match[3]) : 0;
    at::Tensor state = env->reset(4u * 1000003u + static_cast<uint64_t>(episode)).at("state");
    at::Tensor action = expert->act("expert");
    for (int64_t t = 0; t < start; ++t) {
      state = env->step(action).observation.at("state");
      action = expert->act("expert");
    }
    const auto& states = sample.tensors.at("state");
    const auto& actions = sample.tensors.at("actions");
    ASSERT_EQ(states.sizes(), (std::vector<int64_t>{2, 39}));
    ASSERT_EQ(actions.sizes(), (std::vector<int64_t>{1, 4}));
    EXPECT_TRUE(states[0].equal(state)) << sample.id;
    EXPECT_TRUE(torch::allclose(actions[0], action, 1e-6, 1e-7)) << sample.id << ": " << actions[0] << action;
    // the action chosen one state later differs while the hand moves: the check can fail
    StepResult next = env->step(action);
    EXPECT_TRUE(states[1].equal(next.observation.at("state"))) << sample.id;
    next_differs += !torch::allclose(actions[0], expert->act("expert"), 1e-4, 1e-4);
    ++checked;
  }
  EXPECT_EQ(checked, 26);
  EXPECT_GE(next_differs, 10);
}

// 50 expert demos (starts 0..49), 2000 steps; 20 evaluation starts from 1000 on. The same model
// is rolled out before training, so "untrained" is exactly the weights training starts from.
TEST(BcReach, FiftyExpertDemosReachEightyPercentOnUnseenStartsAndUntrainedStaysAtTen) {
  if (!have_metaworld()) GTEST_SKIP() << "no MuJoCo: the metaworld env was not built";
  test::TempDir dir;
  std::string output = run(dir, R"(experiment: bc_reach_acceptance
seed: 0
env: {plugin: metaworld, params: {task: reach, max_episode_steps: 150}}
data:
  demos: {plugin: webdataset, params: {shards: "${run.dir}/demos/*.tar", video_ext: none,
                                       action_fields: action, signals: state, frames: 2, clips: all}}
model: {plugin: bc, params: {obs: state, state_size: 39, action_size: 4}}
procedure:
  - rollout: {name: untrained, policy: model, episodes: 20, first_episode: 1000, context: 1}
  - collect: {episodes: 50, policy: expert, video: false, out: "${run.dir}/demos",
              steps_after_success: 20}
  - train: {data: demos, steps: 2000, batch_size: 64, lr: 1.0e-3, log_every: 500,
            checkpoint_every: 2000}
  - rollout: {name: trained, policy: model, episodes: 20, first_episode: 1000, context: 1}
  - rollout: {name: expert, policy: expert, episodes: 20, first_episode: 1000}
)", "run");
  auto rates = success_rates(dir.path() / "run/rollout.csv");
  ASSERT_EQ(rates.size(), 3u) << test::read_text(dir.path() / "run/rollout.csv");
  EXPECT_GE(rates.at("trained"), 0.8) << output;
  EXPECT_LE(rates.at("untrained"), 0.1) << output;
  EXPECT_EQ(rates.at("expert"), 1.0);
  EXPECT_THAT(test::read_text(dir.path() / "run/log.txt"), HasSubstr("collect: 50 episodes"));
  // the input statistics travel in the checkpoint: the first 10000 training pairs
  std::map<std::string, at::Tensor> saved;
  for (auto& [name, tensor] : io::load_tensors(dir.path() / "run/checkpoints/step-00002000.pt"))
    saved[name] = tensor;
  ASSERT_TRUE(saved.count("model/input_count") && saved.count("model/input_mean"));
  EXPECT_EQ(saved.at("model/input_count").item<double>(), 10000.0);
  EXPECT_EQ(saved.at("model/input_mean").size(0), 39);
}

}  // namespace
}  // namespace wm
