// State-only episodes (no camera, no FFmpeg): collect writes only <key>.jsonl members, and the
// webdataset plugin reads back exactly the states a rollout of the same seeds sees.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "test_support.h"
#include "wm/dataset.h"
#include "wm/env.h"
#include "wm/io/webdataset.h"

namespace wm {
namespace {

namespace fs = std::filesystem;

TEST(MetaWorldStateOnly, RecordsOnlyShardsHoldTheStatesARolloutSees) {
  test::TempDir dir;
  dir.write("collect.yaml", R"(experiment: state_only
seed: 2
env: {plugin: metaworld, params: {task: pick-place, max_episode_steps: 30}}
procedure:
  - collect: {episodes: 3, policy: expert, video: false, episodes_per_shard: 2, out: shards,
              first_episode: 5}
)");
  int exit_code = 0;
  std::string output = test::run_wmhost("run collect.yaml +threads=1 --out run", dir.path(), exit_code);
  ASSERT_EQ(exit_code, 0) << output;

  // every member of every shard is a .jsonl record file
  auto shards = io::expand_shard_pattern((dir.path() / "shards/*.tar").string());
  ASSERT_EQ(shards.size(), 2u);
  int64_t members = 0;
  for (const auto& shard : shards)
    for (const auto& sample : io::index_shard(shard)) {
      for (const auto& [extension, member] : sample.members) {
        EXPECT_EQ(extension, "jsonl") << sample.key;
        ++members;
      }
    }
  EXPECT_EQ(members, 3);

  // the rollout of the same seeds: reset(seed * 1000003 + first_episode + i), the expert acting
  auto env = test::make<Env>("metaworld", "{task: pick-place, max_episode_steps: 30}");
  auto* expert = dynamic_cast<ScriptedPolicy*>(env.get());
  ASSERT_NE(expert, nullptr);
  std::vector<at::Tensor> rollouts;
  for (uint64_t episode = 0; episode < 3; ++episode) {
    std::vector<at::Tensor> states{env->reset(2u * 1000003u + 5u + episode).at("state").clone()};
    for (int step = 0; step < 30; ++step) {
      StepResult result = env->step(expert->act("expert"));
      states.push_back(result.observation.at("state").clone());
      if (result.terminated || result.truncated) break;
    }
    rollouts.push_back(torch::stack(states));
  }
  int64_t frames = rollouts[0].size(0);
  ASSERT_EQ(frames, 31);
  auto data = test::make<Dataset>("webdataset", "{shards: '" + (dir.path() / "shards/*.tar").string() +
                                                    "', video_ext: none, action_fields: action, signals: "
                                                    "'state, reward, success', frames: 31}");
  ASSERT_EQ(data->size(), 3);
  for (int64_t i = 0; i < 3; ++i) {
    Sample sample = data->get(i);
    EXPECT_EQ(sample.tensors.count("video"), 0u);
    const at::Tensor& state = sample.tensors.at("state");
    ASSERT_EQ(state.sizes(), (std::vector<int64_t>{31, 39}));
    EXPECT_EQ(state.scalar_type(), torch::kFloat);
    EXPECT_TRUE(state.equal(rollouts[static_cast<size_t>(i)].to(torch::kFloat)))
        << "episode " << i << ": largest difference "
        << (state - rollouts[static_cast<size_t>(i)]).abs().max().item<double>();
    EXPECT_EQ(sample.tensors.at("actions").sizes(), (std::vector<int64_t>{30, 4}));
  }
}

TEST(MetaWorldStateOnly, VideoNeedsAFrameObservation) {
  test::TempDir dir;
  dir.write("collect.yaml", R"(experiment: no_camera
env: {plugin: metaworld, params: {task: reach, max_episode_steps: 5}}
procedure:
  - collect: {episodes: 1, policy: expert, out: shards}
)");
  int exit_code = 0;
  test::run_wmhost("run collect.yaml +threads=1 --out run", dir.path(), exit_code);
  EXPECT_EQ(exit_code, 1);
  std::ifstream in(dir.path() / "run/log.txt");
  std::string log((std::istreambuf_iterator<char>(in)), {});
  EXPECT_THAT(log, ::testing::HasSubstr("the env has no `pixels` observation"));
  EXPECT_THAT(log, ::testing::HasSubstr("video: false"));
}

}  // namespace
}  // namespace wm
