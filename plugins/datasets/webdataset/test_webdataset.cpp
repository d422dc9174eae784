// webdataset on generated shards in the VPT layout and in the environment-collection layout:
// clips, actions between frames (summed over a stride), multi-hot buttons, per-frame signals,
// shard patterns, and corrupt members reported as DataError.
#include <torch/torch.h>

#include <fstream>
#include <map>
#include <set>

#include "engine/dataset_split.h"
#include "test_support.h"
#include "wm/io/action_scaler.h"
#include "wm/dataset.h"
#include "wm/error.h"
#include "wm/io/tar.h"
#include "wm/video/video.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

// an mp4 of `frames` frames, frame t at grey level 8 * t, as bytes
std::string ramp_mp4(const test::TempDir& dir, int64_t frames) {
  auto levels = torch::arange(frames, torch::kInt64).mul(8).to(torch::kUInt8);
  auto video = levels.view({frames, 1, 1, 1}).expand({frames, 3, 16, 16}).contiguous();
  auto file = dir.path() / "ramp.mp4";
  video::write(file, video, {20, 10, "ultrafast"});
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// VPT records: mouse dx = t, dy = -t, yaw = t^2 / 2, pitch = 0; key w held on even frames
std::string vpt_records(int64_t frames) {
  std::string text;
  for (int64_t t = 0; t < frames; ++t)
    text += "{\"mouse\": {\"dx\": " + std::to_string(t) + ", \"dy\": " + std::to_string(-t) +
            ", \"buttons\": [" + (t == 1 ? "0" : "") + "]}, \"yaw\": " + std::to_string(t * t / 2.0) +
            ", \"pitch\": 0, \"keyboard\": {\"keys\": [" + (t % 2 == 0 ? "\"key.keyboard.w\"" : "") +
            "]}}\n";
  return text;
}

void write_vpt_shards(const test::TempDir& dir, int shards, int samples, int64_t frames) {
  std::string mp4 = ramp_mp4(dir, frames);
  for (int s = 0; s < shards; ++s) {
    char name[32];
    std::snprintf(name, sizeof name, "shard-%06d.tar", s);
    io::TarWriter writer(dir.path() / name);
    for (int k = 0; k < samples; ++k) {
      std::string key = "player" + std::to_string(s) + "-" + std::to_string(k);
      writer.add(key + ".mp4", mp4);
      writer.add(key + ".jsonl", vpt_records(frames));
    }
    writer.close();
  }
}

std::string shards(const test::TempDir& dir, const std::string& pattern = "shard-*.tar") {
  return (dir.path() / pattern).string();
}

TEST(WebDataset, VptShardsGiveVideoActionsAndButtons) {
  test::TempDir dir;
  write_vpt_shards(dir, 2, 3, 10);
  auto dataset = test::make<Dataset>(
      "webdataset", "{shards: \"" + shards(dir) + "\", frames: 4, button_fields: \"mouse.buttons, "
                    "keyboard.keys\", buttons: \"0, key.keyboard.w\"}");
  ASSERT_EQ(dataset->size(), 6);
  EXPECT_EQ(dataset->id(4), "shard-000001.tar/player1-1");
  Sample sample = dataset->get(4);
  EXPECT_EQ(sample.tensors.at("video").sizes(), (std::vector<int64_t>{4, 3, 16, 16}));
  EXPECT_NEAR(sample.tensors.at("video")[3].to(torch::kFloat).mean().item<double>(), 24, 4);
  // row t: dx = t, dy = -t, yaw_diff = ((t+1)^2 - t^2) / 2, pitch_diff = 0
  auto expected = torch::tensor({0.0f, 0.0f, 0.5f, 0.0f, 1.0f, -1.0f, 1.5f, 0.0f, 2.0f, -2.0f, 2.5f, 0.0f})
                      .view({3, 4});
  EXPECT_TRUE(torch::equal(sample.tensors.at("actions"), expected)) << sample.tensors.at("actions");
  EXPECT_TRUE(torch::equal(sample.tensors.at("buttons"),
                           torch::tensor({0.0f, 1.0f, 1.0f, 0.0f, 0.0f, 1.0f}).view({3, 2})));
  EXPECT_EQ(dataset->keys()[1].shape, "[T-1, 4]");
}

TEST(WebDataset, EveryClipWithAStrideSumsTheActionsBetweenFrames) {
  test::TempDir dir;
  write_vpt_shards(dir, 1, 2, 12);
  auto dataset = test::make<Dataset>(
      "webdataset", "{shards: \"" + shards(dir, "shard-{000000..000000}.tar") +
                        "\", frames: 3, stride: 2, clips: all, action_fields: \"mouse.dx, yaw_diff\"}");
  ASSERT_EQ(dataset->size(), 4) << "12 frames hold two clips spanning 5 frames";
  EXPECT_EQ(dataset->id(1), "shard-000000.tar/player0-0@5");
  Sample sample = dataset->get(1);
  auto video = sample.tensors.at("video").to(torch::kFloat);
  EXPECT_NEAR(video[0].mean().item<double>(), 40, 4) << "frame 5";
  EXPECT_NEAR(video[1].mean().item<double>(), 56, 4) << "frame 7";
  // frames 5 -> 7: dx 5 + 6, yaw (49 - 25) / 2
  EXPECT_TRUE(torch::equal(sample.tensors.at("actions"),
                           torch::tensor({11.0f, 12.0f, 15.0f, 16.0f}).view({2, 2})));
}

TEST(WebDataset, ClipStepOverlapsClipsSoFramePairsCoverEveryTransition) {
  test::TempDir dir;
  write_vpt_shards(dir, 1, 1, 12);
  std::string pattern = shards(dir, "shard-{000000..000000}.tar");
  auto apart = test::make<Dataset>("webdataset", "{shards: \"" + pattern + "\", frames: 2, clips: all, "
                                                 "action_fields: \"mouse.dx\"}");
  auto every = test::make<Dataset>("webdataset", "{shards: \"" + pattern + "\", frames: 2, clips: all, "
                                                 "clip_step: 1, action_fields: \"mouse.dx\"}");
  EXPECT_EQ(apart->size(), 6) << "12 frames: pairs (0, 1), (2, 3) ... without clip_step";
  ASSERT_EQ(every->size(), 11) << "12 frames: 11 transitions";
  for (int64_t t = 0; t < 11; ++t) {
    EXPECT_EQ(every->id(t), "shard-000000.tar/player0-0" + (t > 0 ? "@" + std::to_string(t) : ""));
    // the pair starting at frame 2t of `every` is pair t of `apart`
    if (t % 2 == 0)
      EXPECT_TRUE(torch::equal(every->get(t).tensors.at("actions"), apart->get(t / 2).tensors.at("actions")));
  }
  EXPECT_FALSE(torch::equal(every->get(1).tensors.at("actions"), every->get(2).tensors.at("actions")));
  EXPECT_THAT(test::error_of([&] {
                test::make<Dataset>("webdataset", "{shards: \"" + pattern + "\", clip_step: 1}");
              }),
              HasSubstr("clip_step: clip_step spaces the clips of clips: all"));
}

// for 100 split seeds: how many of train/val/test hold clips of each episode, at most
int most_splits_per_episode(std::shared_ptr<Dataset> clips, const std::string& split_by) {
  int most = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    std::map<std::string, std::set<std::string>> seen;
    int64_t total = 0;
    for (const char* which : {"train", "val", "test"}) {
      SplitSpec spec;
      spec.split = which, spec.seed = seed, spec.split_by = split_by;
      SplitDataset part(clips, spec);
      total += part.size();
      for (int64_t i = 0; i < part.size(); ++i) seen[part.group(i)].insert(which);
    }
    EXPECT_EQ(total, clips->size());
    if (split_by == "group") EXPECT_EQ(seen.size(), 12u);
    for (const auto& [episode, splits] : seen) most = std::max(most, static_cast<int>(splits.size()));
  }
  return most;
}

TEST(WebDataset, ClipsOfOneEpisodeShareASplit) {
  test::TempDir dir;
  write_vpt_shards(dir, 3, 4, 24);
  auto clips = test::make<Dataset>("webdataset", "{shards: \"" + shards(dir) + "\", frames: 4, clips: all}");
  ASSERT_EQ(clips->size(), 72) << "3 shards x 4 episodes x 6 clips";
  EXPECT_EQ(clips->id(5), "shard-000000.tar/player0-0@20");
  EXPECT_EQ(clips->group(5), "shard-000000.tar/player0-0");
  EXPECT_EQ(most_splits_per_episode(clips, "group"), 1);
  EXPECT_GT(most_splits_per_episode(clips, "sample"), 1) << "hashing each clip leaks episodes";
}

TEST(WebDataset, EnvironmentShardsCarryActionArraysStateRewardAndSuccess) {
  test::TempDir dir;
  std::string mp4 = ramp_mp4(dir, 5), records;
  for (int t = 0; t < 5; ++t)
    records += "{\"action\": [" + std::to_string(t) + ", 0.5], \"state\": [" + std::to_string(t) +
               ", 1, 2], \"reward\": " + std::to_string(t * 0.25) + ", \"success\": " +
               (t >= 3 ? "true" : "false") + "}\n";
  {
    io::TarWriter writer(dir.path() / "env-000000.tar");
    writer.add("episode-000000.mp4", mp4);
    writer.add("episode-000000.jsonl", records);
    writer.close();
  }
  auto dataset = test::make<Dataset>(
      "webdataset", "{shards: \"" + shards(dir, "env-*.tar") +
                        "\", frames: 5, action_fields: action, signals: \"state, reward, success\"}");
  Sample sample = dataset->get(0);
  EXPECT_EQ(sample.tensors.at("actions").sizes(), (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(sample.tensors.at("actions")[3][0].item<float>(), 3.0f);
  EXPECT_EQ(sample.tensors.at("state").sizes(), (std::vector<int64_t>{5, 3}));
  EXPECT_EQ(sample.tensors.at("reward")[2].item<float>(), 0.5f);
  EXPECT_EQ(sample.tensors.at("success").scalar_type(), torch::kBool);
  EXPECT_TRUE(sample.tensors.at("success")[4].item<bool>());
  EXPECT_FALSE(sample.tensors.at("success")[2].item<bool>());
}

TEST(WebDataset, CorruptMembersRaiseDataErrorFromGet) {
  test::TempDir dir;
  std::string mp4 = ramp_mp4(dir, 6);
  {
    io::TarWriter writer(dir.path() / "shard-000000.tar");
    writer.add("good.mp4", mp4);
    writer.add("good.jsonl", vpt_records(6));
    writer.add("badvideo.mp4", mp4.substr(0, 48));
    writer.add("badvideo.jsonl", vpt_records(6));
    writer.add("short.mp4", mp4);
    writer.add("short.jsonl", vpt_records(2));
    writer.close();
  }
  auto dataset = test::make<Dataset>("webdataset", "{shards: \"" + shards(dir) + "\", frames: 4}");
  ASSERT_EQ(dataset->size(), 3);
  EXPECT_NO_THROW(dataset->get(0));
  EXPECT_THROW(dataset->get(1), DataError);
  EXPECT_THAT(test::error_of([&] { dataset->get(2); }), HasSubstr("2 frame records, a clip from frame 0 needs 4"));
  EXPECT_THROW(dataset->get(2), DataError);
}

TEST(WebDataset, AnUnreadableShardIsSkippedCountedAndNamed) {
  test::TempDir dir;
  write_vpt_shards(dir, 3, 2, 6);
  // shard 1 cut inside its first member's data: its header's size runs past the file's end
  auto cut = dir.path() / "shard-000001.tar";
  std::filesystem::resize_file(cut, 512 + 100);
  auto dataset = test::make<Dataset>("webdataset", "{shards: \"" + shards(dir) + "\", frames: 4}");
  EXPECT_EQ(dataset->size(), 4) << "the two readable shards' samples";
  // the warning names the shard, and the count closes the index
  dir.write("exp.yaml", "experiment: cut\nseed: 0\nthreads: 1\ndata:\n  train: {plugin: webdataset, "
                        "split: all, params: {shards: \"" + shards(dir) + "\", frames: 4}}\n"
                        "model: {plugin: copy_last}\nmetrics: [{plugin: psnr}]\n"
                        "procedure: [evaluate: {data: train}]\n");
  int code = 0;
  std::string output = test::run_wmhost("inspect exp.yaml data.train --batches 1", dir.path(), code);
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("shard-000001.tar"));
  EXPECT_THAT(output, HasSubstr("skipping the shard"));
  EXPECT_THAT(output, HasSubstr("1 of 3 shard(s) skipped as unreadable"));
}

TEST(WebDataset, MissingShardsAndMembersSayWhatWasExpected) {
  test::TempDir dir;
  EXPECT_THAT(test::error_of([&] { test::make<Dataset>("webdataset", "{shards: \"" + shards(dir) + "\"}"); }),
              HasSubstr("no shards match"));
  {
    io::TarWriter writer(dir.path() / "shard-000000.tar");
    writer.add("only.mp4", "x");
    writer.close();
  }
  EXPECT_THAT(test::error_of([&] { test::make<Dataset>("webdataset", "{shards: \"" + shards(dir) + "\"}"); }),
              HasSubstr("no samples with <key>.mp4 and <key>.jsonl members"));
}

}  // namespace
}  // namespace wm

namespace wm {
namespace {

// the V-JEPA-AC workflow: fit a scaler over the shards, then name it in the experiment that
// reads them with a split and a subset
TEST(WebDataset, FitsAScalerThenRunsAnExperimentThatAppliesIt) {
  test::TempDir dir;
  write_vpt_shards(dir, 3, 4, 10);
  dir.write("fit.yaml", R"(experiment: fit
procedure:
  - fit_action_scaler: {shards: "shard-{000000..000002}.tar", holdout: 0, output: vpt_scaler.yaml}
)");
  int code;
  std::string output = test::run_wmhost("run fit.yaml --out fit", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  dir.write("exp.yaml", R"(experiment: webdataset_run
threads: 1
data:
  vpt: {plugin: webdataset, split: train, fractions: [0.6, 0.4, 0.0], subset: 0.8,
        action_scaler: vpt_scaler.yaml, params: {shards: "shard-*.tar", frames: 4}}
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
procedure: [{evaluate: {data: vpt, batch_size: 2, preview: 0}}]
)");
  output = test::run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, ::testing::ContainsRegex("data.vpt: webdataset \\([1-9][0-9]* of 12 samples\\)"));
  // the same data read directly, with the scaler applied the way the host does
  auto dataset = test::make<Dataset>("webdataset", "{shards: \"" + shards(dir) + "\", frames: 10}");
  auto scaler = io::ActionScaler::load(dir.path() / "vpt_scaler.yaml");
  EXPECT_EQ(scaler.count, 12 * 9);
  auto scaled = io::ScaledActionsDataset(dataset, scaler, "vpt_scaler.yaml").get(0).tensors.at("actions");
  EXPECT_NEAR(scaled.mean(0)[0].item<double>(), 0.0, 1e-5) << "every sample has the same records";
  EXPECT_NEAR(scaled.std(0, false)[0].item<double>(), 1.0, 1e-5);
}

TEST(WebDataset, PassesTheContractChecks) {
  test::TempDir dir;
  write_vpt_shards(dir, 2, 3, 10);
  testing::CheckOptions options;
  options.params = "{shards: \"" + shards(dir) + "\", frames: 4, button_fields: \"mouse.buttons, "
                   "keyboard.keys\", buttons: \"0, key.keyboard.w\"}";
  EXPECT_THAT(testing::conformance("webdataset", options), ::testing::IsEmpty());
}

}  // namespace
}  // namespace wm
