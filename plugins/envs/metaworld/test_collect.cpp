#include <torch/torch.h>

#include <filesystem>
#include <fstream>

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

// one config, one run: collect into ${run.dir}/demos, then train vjepa_ac on what was collected
// (the data entries are built when train first needs them)
TEST(MetaWorldCollect, CollectAndTrainInOneRun) {
  test::TempDir dir;
  dir.write("protocol.yaml", R"(experiment: collect_then_train
seed: 1
env: {plugin: metaworld, params: {task: pick-place, camera: corner, width: 32, height: 32,
                                  max_episode_steps: 24}}
data:
  train: {plugin: webdataset, split: train, fractions: [0.5, 0.5, 0.0],
          params: {shards: "${run.dir}/demos/*.tar", action_fields: action, signals: state,
                   frames: 4, stride: 2}}
  val: {plugin: webdataset, split: val, fractions: [0.5, 0.5, 0.0], params: "${data.train.params}"}
model:
  plugin: vjepa_ac
  params: {image_size: 32, patch: 8, encoder_dim: 16, encoder_depth: 1, encoder_heads: 2,
           action_size: 4, state_size: 39, dim: 16, depth: 1, heads: 2, auto_steps: 1,
           max_steps: 4}
metrics: [{plugin: latent_cosine}]
procedure:
  - collect: {episodes: 8, policy: expert, episodes_per_shard: 4, out: "${run.dir}/demos"}
  - train: {steps: 3, batch_size: 2, log_every: 1}
  - evaluate: {data: val, batch_size: 2}
)");
  int exit_code = 0;
  // nothing exists yet: validation accepts the shards an earlier step writes
  std::string output = test::run_wmhost("validate protocol.yaml", dir.path(), exit_code);
  ASSERT_EQ(exit_code, 0) << output;
  output = test::run_wmhost("run protocol.yaml +threads=1 --out run", dir.path(), exit_code);
  ASSERT_EQ(exit_code, 0) << output;
  EXPECT_TRUE(fs::exists(dir.path() / "run/demos/shard-000001.tar"));
  EXPECT_TRUE(fs::exists(dir.path() / "run/checkpoints/step-00000003.pt"));
  EXPECT_TRUE(fs::exists(dir.path() / "run/evaluate_val.csv"));
  std::ifstream in(dir.path() / "run/log.txt");
  std::string log((std::istreambuf_iterator<char>(in)), {});
  EXPECT_THAT(log, ::testing::HasSubstr("collect: 8 episodes"));
  EXPECT_THAT(log, ::testing::ContainsRegex("data.train: webdataset \\([0-9]+ of 8 samples\\)"));
}

// the shipped one-config protocol validates before anything is collected
TEST(MetaWorldCollect, TheShippedProtocolValidatesFromACleanCheckout) {
  test::TempDir dir;
  int exit_code = 0;
  std::string output = test::run_wmhost(
      std::string("validate '") + WM_TEST_SOURCE_DIR + "/configs/metaworld_world_model.yaml'", dir.path(),
      exit_code);
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_THAT(output, ::testing::HasSubstr("steps: collect train evaluate"));
}

}  // namespace
}  // namespace wm
