// crosstask on a generated fixture in the real layout: task blocks, per-video annotation CSVs,
// video lists with a validation part; one sample per step segment.
#include <torch/torch.h>

#include "test_support.h"
#include "wm/dataset.h"
#include "wm/error.h"
#include "wm/video/video.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

void write_fixture(const test::TempDir& dir) {
  dir.write("tasks_primary.txt",
            "23521\nMake Jello Shots\nhttps://www.wikihow.com/Make-Jello-Shots\n3\n"
            "pour water,stir mixture,pour mixture into cup\n\n"
            "59684\nBuild Simple Floating Shelves\nhttps://www.wikihow.com/Build-Floating-Shelves\n2\n"
            "cut shelf,drill holes\n\n");
  dir.write("tasks_related.txt", "10001\nMake Tea\nhttps://example.org/tea\n1\nboil water\n");
  dir.write("videos.csv", "23521,vidA,https://www.youtube.com/watch?v=vidA\n"
                          "59684,vidB,https://www.youtube.com/watch?v=vidB\n"
                          "23521,vidC,https://www.youtube.com/watch?v=vidC\n");
  dir.write("videos_val.csv", "23521,vidC,https://www.youtube.com/watch?v=vidC\n");
  dir.write("annotations/23521_vidA.csv", "1,0.5,1.5\n3,2.0,2.8\n");
  dir.write("annotations/59684_vidB.csv", "2,0.0,1.0\n");
  dir.write("annotations/23521_vidC.csv", "2,1.0,2.0\n");
  std::filesystem::create_directories(dir.path() / "videos");
  for (const char* id : {"vidA", "vidB", "vidC"})
    video::write(dir.path() / "videos" / (std::string(id) + ".mp4"), test::grey_ramp(30, 24), {10, 12, "ultrafast"});
}

std::string params(const test::TempDir& dir, const std::string& extra = "") {
  return "{root: " + dir.path().string() + ", frames: 3" + extra + "}";
}

TEST(CrossTask, OneSamplePerStepSegmentNumberedAcrossTasks) {
  test::TempDir dir;
  write_fixture(dir);
  auto all = test::make<Dataset>("crosstask", params(dir));
  ASSERT_EQ(all->size(), 4);
  EXPECT_EQ(all->id(1), "23521_vidA/2");
  Sample sample = all->get(1);
  EXPECT_EQ(sample.text, "pour mixture into cup");
  EXPECT_EQ(sample.tensors.at("step").item<int64_t>(), 3);
  EXPECT_EQ(sample.tensors.at("action_label").item<int64_t>(), 2);
  EXPECT_EQ(sample.tensors.at("video").sizes(), (std::vector<int64_t>{3, 3, 24, 24}));
  // segment [2.0, 2.8] s at 10 fps, a 0.3 s clip centred starts at 2.25 s: frame 23 (grey 184)
  EXPECT_NEAR(sample.tensors.at("video")[0].to(torch::kFloat).mean().item<double>(), 184, 5);
  EXPECT_EQ(all->id(2), "23521_vidC/1") << "videos in (task, video) order";
  Sample shelf = all->get(3);
  EXPECT_EQ(shelf.tensors.at("action_label").item<int64_t>(), 3 + 1) << "after the 3 jello steps";
  EXPECT_EQ(shelf.tensors.at("task").item<int64_t>(), 1);
}

TEST(CrossTask, ValidationListSplitsTrainFromVal) {
  test::TempDir dir;
  write_fixture(dir);
  EXPECT_EQ(test::make<Dataset>("crosstask", params(dir, ", subset: val"))->size(), 1);
  EXPECT_EQ(test::make<Dataset>("crosstask", params(dir, ", subset: train"))->size(), 3);
}

TEST(CrossTask, MissingFilesSayWhatWasExpected) {
  test::TempDir dir;
  EXPECT_THAT(test::error_of([&] { test::make<Dataset>("crosstask", params(dir)); }),
              HasSubstr("has no tasks_primary.txt (expected the CrossTask layout"));
  write_fixture(dir);
  dir.write("annotations/23521_vidA.csv", "1;0.5;1.5\n");
  EXPECT_THAT(test::error_of([&] { test::make<Dataset>("crosstask", params(dir)); }),
              HasSubstr("23521_vidA.csv row 1: expected step,start,end"));
}

TEST(CrossTask, TruncatedVideoRaisesDataError) {
  test::TempDir dir;
  write_fixture(dir);
  std::filesystem::resize_file(dir.path() / "videos/vidB.mp4", 64);
  auto all = test::make<Dataset>("crosstask", params(dir));
  EXPECT_THROW(all->get(3), DataError);
}

}  // namespace
}  // namespace wm

namespace wm {
namespace {

TEST(CrossTask, RunsInAnExperimentWithSplitAndSubset) {
  test::TempDir dir;
  write_fixture(dir);
  std::string rows;
  for (int i = 0; i < 12; ++i)
    rows += std::to_string(i % 3 + 1) + "," + std::to_string(0.2 * i) + "," +
            std::to_string(0.2 * i + 0.4) + "\n";
  dir.write("annotations/23521_vidA.csv", rows);
  dir.write("exp.yaml", R"(experiment: crosstask_run
threads: 1
data:
  steps: {plugin: crosstask, split: train, fractions: [0.6, 0.4, 0.0], subset: 0.8,
          params: {root: ., frames: 3, height: 16}}
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
procedure: [{evaluate: {data: steps, batch_size: 2, preview: 0}}]
)");
  int code;
  std::string output = test::run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, ::testing::ContainsRegex("data.steps: crosstask \\([1-9][0-9]* of 14 samples\\)"));
}

TEST(CrossTask, PassesTheContractChecks) {
  test::TempDir dir;
  write_fixture(dir);
  testing::CheckOptions options;
  options.params = params(dir);
  EXPECT_THAT(testing::conformance("crosstask", options), ::testing::IsEmpty());
}

}  // namespace
}  // namespace wm
