#include <torch/torch.h>

#include <filesystem>

#include "test_support.h"
#include "wm/dataset.h"

namespace wm {
namespace {

namespace fs = std::filesystem;

// env -> data -> model closes in YAML: collect writes shards that the webdataset plugin reads
TEST(MetaWorldCollect, ExpertEpisodesLoadThroughTheWebdatasetPlugin) {
  test::TempDir dir;
  dir.write("collect.yaml", R"(experiment: collect_test
seed: 1
env: {plugin: metaworld, params: {task: pick-place, camera: corner, width: 32, height: 32,
                                  max_episode_steps: 40}}
procedure:
  - collect: {episodes: 3, policy: expert, episodes_per_shard: 2, out: shards}  # next to the YAML
)");
  int exit_code = 0;
  std::string output = test::run_wmhost("run collect.yaml +threads=1 --out run", dir.path(), exit_code);
  ASSERT_EQ(exit_code, 0) << output;
  EXPECT_TRUE(fs::exists(dir.path() / "shards/shard-000000.tar"));
  EXPECT_TRUE(fs::exists(dir.path() / "shards/shard-000001.tar"));

  std::string shards = (dir.path() / "shards/*.tar").string();
  auto data = test::make<Dataset>("webdataset", "{shards: '" + shards +
                                                    "', action_fields: action, signals: 'state, reward, success', frames: 8}");
  ASSERT_EQ(data->size(), 3);
  Sample sample = data->get(0);
  EXPECT_EQ(sample.tensors.at("video").sizes(), (std::vector<int64_t>{8, 3, 32, 32}));
  EXPECT_EQ(sample.tensors.at("actions").sizes(), (std::vector<int64_t>{7, 4}));
  EXPECT_EQ(sample.tensors.at("state").sizes(), (std::vector<int64_t>{8, 39}));
  EXPECT_EQ(sample.tensors.at("reward").sizes(), (std::vector<int64_t>{8}));
  // the expert's first move is up and towards the puck, with the gripper open
  EXPECT_EQ(sample.tensors.at("actions")[0][3].item<float>(), -1.f);
  EXPECT_EQ(sample.tensors.at("reward")[0].item<float>(), 0.f) << "frame 0 received no reward";
  EXPECT_GT(sample.tensors.at("reward")[1].item<float>(), 0.f);
}

}  // namespace
}  // namespace wm
