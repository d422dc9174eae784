// coin on a generated COIN.json and nested video folders: one sample per step segment, the clip
// comes from inside the segment, and missing videos are left out with a warning.
#include <torch/torch.h>

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
  steps: {plugin: coin, split: val, fractions: [0.4, 0.6, 0.0], subset: 0.8,
          params: {annotations: COIN.json, videos: videos, frames: 3, height: 16}}
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
procedure: [{evaluate: {data: steps, batch_size: 2, preview: 0}}]
)");
  int code;
  std::string output = test::run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, ::testing::ContainsRegex("data.steps: coin \\([1-9][0-9]* of 12 samples\\)"));
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
