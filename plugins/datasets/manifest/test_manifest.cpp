// manifest: a CSV of path,label[,start,end] with relative paths, named or integer labels.
#include <torch/torch.h>

#include "test_support.h"
#include "wm/dataset.h"
#include "wm/error.h"
#include "wm/video/video.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

TEST(Manifest, RelativePathsNamedLabelsAndSegments) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "data/clips");
  video::write(dir.path() / "data/clips/a.mp4", test::grey_ramp(20, 16), {10, 12, "ultrafast"});
  video::write(dir.path() / "data/clips/b, with comma.webm", test::grey_ramp(20, 16), {10, 12, "ultrafast"});
  dir.write("data/list.csv", "path,label,start,end\nclips/a.mp4,wave,1.0,1.4\n"
                             "\"clips/b, with comma.webm\",clap,0,0\n");
  auto dataset = test::make<Dataset>("manifest", "{csv: " + (dir.path() / "data/list.csv").string() +
                                                     ", frames: 2}");
  ASSERT_EQ(dataset->size(), 2);
  EXPECT_EQ(dataset->id(1), "clips/b, with comma.webm");
  Sample first = dataset->get(0);
  EXPECT_EQ(first.text, "wave");
  EXPECT_EQ(first.tensors.at("action_label").item<int64_t>(), 1) << "clap < wave";
  // [1.0, 1.4] s at 10 fps, a 0.2 s clip centred: frame 11 (grey 88)
  EXPECT_NEAR(first.tensors.at("video")[0].to(torch::kFloat).mean().item<double>(), 88, 5);
  EXPECT_EQ(dataset->get(1).tensors.at("video").sizes(), (std::vector<int64_t>{2, 3, 16, 16}));
}

TEST(Manifest, IntegerLabelsAreKept) {
  test::TempDir dir;
  video::write(dir.path() / "x.mp4", test::grey_ramp(4, 16), {10, 12, "ultrafast"});
  dir.write("list.csv", "x.mp4,17\nx.mp4,3\n");
  auto dataset = test::make<Dataset>("manifest", "{csv: " + (dir.path() / "list.csv").string() +
                                                     ", frames: 2}");
  EXPECT_EQ(dataset->get(0).tensors.at("action_label").item<int64_t>(), 17);
}

TEST(Manifest, BadRowsAndMissingFilesSayWhatWasExpected) {
  test::TempDir dir;
  EXPECT_THAT(test::error_of([&] { test::make<Dataset>("manifest", "{csv: " + (dir.path() / "none.csv").string() + "}"); }),
              HasSubstr("expected a CSV of path,label[,start,end] rows"));
  dir.write("bad.csv", "a.mp4,1,2\n");
  EXPECT_THAT(test::error_of([&] { test::make<Dataset>("manifest", "{csv: " + (dir.path() / "bad.csv").string() + "}"); }),
              HasSubstr("bad.csv:1: expected path,label or path,label,start,end; got 3 fields"));
  dir.write("list.csv", "gone.mp4,1\nbroken.mp4,2\n");
  dir.write("broken.mp4", "not a video");
  auto dataset = test::make<Dataset>("manifest", "{csv: " + (dir.path() / "list.csv").string() + "}");
  EXPECT_THAT(test::error_of([&] { dataset->get(0); }), HasSubstr("missing video"));
  EXPECT_THROW(dataset->get(0), DataError);
  EXPECT_THROW(dataset->get(1), DataError);
}

}  // namespace
}  // namespace wm

namespace wm {
namespace {

TEST(Manifest, RunsInAnExperimentWithSplitAndSubset) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "clips");
  video::write(dir.path() / "clips/a.mp4", test::grey_ramp(20, 16), {10, 12, "ultrafast"});
  // 6 listed videos x 2 segments: a split keeps both segments of a video together
  std::string rows = "path,label,start,end\n";
  for (int i = 0; i < 12; ++i) {
    std::string video = "clips/" + std::string(1, static_cast<char>('a' + i / 2)) + ".mp4";
    if (i / 2 > 0 && i % 2 == 0) std::filesystem::copy_file(dir.path() / "clips/a.mp4", dir.path() / video);
    rows += video + "," + std::string(i % 2 ? "wave" : "clap") + "," + std::to_string(0.1 * i) +
            "," + std::to_string(0.1 * i + 0.3) + "\n";
  }
  dir.write("list.csv", rows);
  dir.write("exp.yaml", R"(experiment: manifest_run
threads: 1
data:
  clips: {plugin: manifest, split: train, fractions: [0.6, 0.4, 0.0], subset: 0.8,
          params: {csv: list.csv, frames: 3}}
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
procedure: [{evaluate: {data: clips, batch_size: 2, preview: 0}}]
)");
  int code;
  std::string output = test::run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, ::testing::ContainsRegex("data.clips: manifest \\([1-9][0-9]* of 12 samples\\)"));
  EXPECT_THAT(output, ::testing::ContainsRegex("data.clips: [1-9][0-9]* samples in [1-6] groups \\(split by group\\)"));
  auto manifest = test::make<Dataset>("manifest", "{csv: " + (dir.path() / "list.csv").string() + ", frames: 3}");
  EXPECT_EQ(manifest->id(3).rfind("clips/b.mp4@0.3", 0), 0u) << manifest->id(3);
  EXPECT_EQ(manifest->group(3), "clips/b.mp4");
}

TEST(Manifest, PassesTheContractChecks) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "clips");
  video::write(dir.path() / "clips/a.mp4", test::grey_ramp(20, 16), {10, 12, "ultrafast"});
  video::write(dir.path() / "clips/b.webm", test::grey_ramp(20, 16), {10, 12, "ultrafast"});
  dir.write("list.csv", "path,label,start,end\nclips/a.mp4,wave,1.0,1.4\nclips/b.webm,clap,0,0\n");
  testing::CheckOptions options;
  options.params = "{csv: " + (dir.path() / "list.csv").string() + ", frames: 2}";
  EXPECT_THAT(testing::conformance("manifest", options), ::testing::IsEmpty());
}

}  // namespace
}  // namespace wm
