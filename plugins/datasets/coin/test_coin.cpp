// coin on a generated COIN.json and nested video folders: one sample per step segment, the clip
// comes from inside the segment, and missing videos are left out with a warning.
#include <torch/torch.h>

#include <map>
#include <set>

#include "engine/dataset_split.h"
#include "test_support.h"
#include "wm/dataset.h"
#include "wm/error.h"
#include "wm/video/video.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

void write_fixture(const test::TempDir& dir) {
  dir.write("COIN.json", R"({"database": {
    "-0og5p2Q8_U": {"recipe_type": 12, "class": "MakeSandwich", "subset": "training",
      "start": 0.0, "end": 3.0, "duration": 3.0, "video_url": "https://www.youtube.com/embed/-0og5p2Q8_U",
      "annotation": [{"id": "45", "segment": [1.0, 2.0], "label": "cut bread"},
                     {"id": "46", "segment": [0.0, 0.5], "label": "spread butter"}]},
    "QWe2ht8p7A4": {"recipe_type": 3, "class": "ChangeTire", "subset": "testing",
      "annotation": [{"id": "7", "segment": [0.2, 1.8], "label": "loosen nuts"}]},
    "gone_video_": {"recipe_type": 3, "class": "ChangeTire", "subset": "training",
      "annotation": [{"id": "8", "segment": [0.0, 1.0], "label": "jack up"}]}}})");
  std::filesystem::create_directories(dir.path() / "videos/MakeSandwich");
  std::filesystem::create_directories(dir.path() / "videos/ChangeTire");
  video::write(dir.path() / "videos/MakeSandwich/-0og5p2Q8_U.mp4", test::grey_ramp(30, 32), {10, 12, "ultrafast"});
  video::write(dir.path() / "videos/ChangeTire/QWe2ht8p7A4.webm", test::grey_ramp(20, 32), {10, 12, "ultrafast"});
}

std::string params(const test::TempDir& dir, const std::string& extra = "") {
  return "{annotations: " + (dir.path() / "COIN.json").string() + ", videos: " +
         (dir.path() / "videos").string() + ", frames: 4, height: 16" + extra + "}";
}

TEST(Coin, OneSamplePerAnnotatedSegmentWithStepAndTask) {
  test::TempDir dir;
  write_fixture(dir);
  auto training = test::make<Dataset>("coin", params(dir));
  ASSERT_EQ(training->size(), 2) << "the video that is not on disk is left out";
  EXPECT_EQ(training->id(0), "-0og5p2Q8_U/0");
  Sample sample = training->get(0);
  EXPECT_EQ(sample.tensors.at("action_label").item<int64_t>(), 45);
  EXPECT_EQ(sample.tensors.at("task").item<int64_t>(), 12);
  EXPECT_EQ(sample.text, "cut bread");
  auto video = sample.tensors.at("video");
  EXPECT_EQ(video.sizes(), (std::vector<int64_t>{4, 3, 16, 16}));
  // segment [1 s, 2 s] at 10 fps, a 0.4 s clip centred: starts at frame 13 (grey 104)
  EXPECT_NEAR(video[0].to(torch::kFloat).mean().item<double>(), 104, 5);
  auto testing = test::make<Dataset>("coin", params(dir, ", subset: testing"));
  ASSERT_EQ(testing->size(), 1);
  EXPECT_EQ(testing->get(0).tensors.at("action_label").item<int64_t>(), 7) << "found as .webm";
}

TEST(Coin, MissingFilesSayWhatWasExpected) {
  test::TempDir dir;
  EXPECT_THAT(test::error_of([&] { test::make<Dataset>("coin", params(dir)); }),
              HasSubstr("expected COIN.json"));
  write_fixture(dir);
  std::filesystem::remove_all(dir.path() / "videos/MakeSandwich");
  EXPECT_THAT(test::error_of([&] { test::make<Dataset>("coin", params(dir)); }),
              HasSubstr("no segments of subset 'training' have a video: 2 videos listed"));
}

TEST(Coin, CorruptVideoRaisesDataError) {
  test::TempDir dir;
  write_fixture(dir);
  dir.write("videos/MakeSandwich/-0og5p2Q8_U.mp4", "this is not an mp4 file at all");
  auto training = test::make<Dataset>("coin", params(dir));
  EXPECT_THROW(training->get(1), DataError);
}

}  // namespace
}  // namespace wm

namespace wm {
namespace {

TEST(Coin, RunsInAnExperimentWithSplitAndSubset) {
  test::TempDir dir;
  write_fixture(dir);
  std::string steps;
  for (int i = 0; i < 12; ++i)
    steps += std::string(i ? "," : "") + "{\"id\": \"" + std::to_string(40 + i) +
             "\", \"segment\": [" + std::to_string(0.2 * i) + ", " + std::to_string(0.2 * i + 0.5) +
             "], \"label\": \"step " + std::to_string(i) + "\"}";
  dir.write("COIN.json", "{\"database\": {\"-0og5p2Q8_U\": {\"recipe_type\": 12, \"subset\": "
                         "\"training\", \"annotation\": [" + steps + "]}}}");
  dir.write("exp.yaml", R"(experiment: coin_run
threads: 1
data:
  steps: {plugin: coin, split: val, fractions: [0.4, 0.6, 0.0], subset: 0.8, split_by: sample,
          params: {annotations: COIN.json, videos: videos, frames: 3, height: 16}}
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
procedure: [{evaluate: {data: steps, batch_size: 2, preview: 0}}]
)");
  int code;
  std::string output = test::run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, ::testing::ContainsRegex("data.steps: coin \\([1-9][0-9]* of 12 samples\\)"));
  // one video: split by sample (its segments alone), each segment is a group of its own
  EXPECT_THAT(output, ::testing::ContainsRegex("data.steps: [1-9][0-9]* samples in [1-9][0-9]* groups \\(split by sample\\)"));
}

// 6 videos x 5 step segments, all in the training subset
void write_six_videos(const test::TempDir& dir) {
  std::string database;
  for (int v = 0; v < 6; ++v) {
    std::string steps;
    for (int i = 0; i < 5; ++i)
      steps += std::string(i ? "," : "") + "{\"id\": \"" + std::to_string(40 + i) + "\", \"segment\": [" +
               std::to_string(0.5 * i) + ", " + std::to_string(0.5 * i + 0.4) + "], \"label\": \"s\"}";
    std::string video = "video_" + std::to_string(v) + "xyz";  // 11 characters, like a youtube id
    database += std::string(v ? "," : "") + "\"" + video + "\": {\"recipe_type\": 1, \"subset\": " +
                "\"training\", \"annotation\": [" + steps + "]}";
    std::filesystem::create_directories(dir.path() / "videos/Task");
    video::write(dir.path() / ("videos/Task/" + video + ".mp4"), test::grey_ramp(30, 16), {10, 12, "ultrafast"});
  }
  dir.write("COIN.json", "{\"database\": {" + database + "}}");
}

// for each split seed: how many of train/val/test hold segments of each video
std::vector<std::map<std::string, int>> splits_per_video(std::shared_ptr<Dataset> coin,
                                                         const std::string& split_by) {
  std::vector<std::map<std::string, int>> seeds;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    std::map<std::string, std::set<std::string>> seen;
    int64_t total = 0;
    for (const char* which : {"train", "val", "test"}) {
      SplitSpec spec;
      spec.split = which, spec.seed = seed, spec.split_by = split_by;
      SplitDataset part(coin, spec);
      total += part.size();
      for (int64_t i = 0; i < part.size(); ++i) {
        std::string id = part.id(i);
        seen[id.substr(0, id.find('/'))].insert(which);
      }
    }
    EXPECT_EQ(total, 30) << "every segment in exactly one split";
    std::map<std::string, int> count;
    for (const auto& [video, splits] : seen) count[video] = static_cast<int>(splits.size());
    seeds.push_back(count);
  }
  return seeds;
}

TEST(Coin, SegmentsOfOneVideoShareASplit) {
  test::TempDir dir;
  write_six_videos(dir);
  auto coin = test::make<Dataset>("coin", params(dir));
  ASSERT_EQ(coin->size(), 30);
  EXPECT_EQ(coin->id(7), "video_1xyz/2");
  EXPECT_EQ(coin->group(7), "video_1xyz");
  for (const auto& count : splits_per_video(coin, "group")) {
    ASSERT_EQ(count.size(), 6u);
    for (const auto& [video, splits] : count) EXPECT_EQ(splits, 1) << video;
  }
  // hashing each segment instead leaks: some video lands in two or three splits
  int leaks = 0;
  for (const auto& count : splits_per_video(coin, "sample"))
    for (const auto& [video, splits] : count) leaks += splits > 1;
  EXPECT_GT(leaks, 0);
}

TEST(Coin, PassesTheContractChecks) {
  test::TempDir dir;
  write_fixture(dir);
  testing::CheckOptions options;
  options.params = params(dir);
  EXPECT_THAT(testing::conformance("coin", options), ::testing::IsEmpty());
}

}  // namespace
}  // namespace wm
