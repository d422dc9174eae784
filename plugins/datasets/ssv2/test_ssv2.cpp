// ssv2 on a generated fixture in the real layout: bracketed templates resolve to labels.json
// ids, the test list has no labels, and missing or corrupt files say what is wrong.
#include <torch/torch.h>

#include "test_support.h"
#include "wm/dataset.h"
#include "wm/error.h"
#include "wm/video/video.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

// a short clip whose frame t is filled with grey level 40 * t: decoded frames are recognisable
torch::Tensor ramp_video(int64_t frames, int64_t height, int64_t width) {
  auto levels = torch::arange(frames, torch::kInt64).mul(40).clamp_max(255).to(torch::kUInt8);
  return levels.view({frames, 1, 1, 1}).expand({frames, 3, height, width}).contiguous();
}

void write_fixture(const test::TempDir& dir) {
  dir.write("labels.json", R"({"Pushing something from left to right": "0",
    "Putting something on something": "1", "Holding something": "2"})");
  dir.write("train.json", R"([
    {"id": "74225", "label": "pushing a cup from left to right",
     "template": "Pushing [something] from left to right", "placeholders": ["a cup"]},
    {"id": "116154", "label": "putting a pen on a book",
     "template": "Putting [something] on [something]", "placeholders": ["a pen", "a book"]}])");
  dir.write("validation.json", R"([{"id": "5", "label": "holding a phone",
    "template": "Holding [something]", "placeholders": ["a phone"]}])");
  dir.write("test.json", R"([{"id": "1420"}, {"id": "9"}])");
  std::filesystem::create_directories(dir.path() / "videos");
  for (const char* id : {"74225", "116154", "5", "1420", "9"})
    video::write(dir.path() / "videos" / (std::string(id) + ".webm"), ramp_video(6, 24, 32),
                 {12, 10, "ultrafast"});
}

std::string params(const test::TempDir& dir, const std::string& extra) {
  return "{root: " + dir.path().string() + ", videos: " + (dir.path() / "videos").string() +
         ", frames: 4, height: 16, width: 16" + extra + "}";
}

TEST(Ssv2, ReadsLabelsTemplatesAndVideosOfTheRealLayout) {
  test::TempDir dir;
  write_fixture(dir);
  auto train = test::make<Dataset>("ssv2", params(dir, ""));
  ASSERT_EQ(train->size(), 2);
  EXPECT_EQ(train->id(1), "116154");
  Sample sample = train->get(1);
  EXPECT_EQ(sample.tensors.at("action_label").item<int64_t>(), 1) << "brackets removed";
  EXPECT_EQ(sample.text, "putting a pen on a book");
  auto video = sample.tensors.at("video");
  EXPECT_EQ(video.sizes(), (std::vector<int64_t>{4, 3, 16, 16}));
  // frames 0..3 of the ramp (clip centred in a 6-frame video starts at frame 1)
  EXPECT_LT(std::abs(video[1].to(torch::kFloat).mean().item<double>() -
                     video[0].to(torch::kFloat).mean().item<double>() - 40), 6);
  auto validation = test::make<Dataset>("ssv2", params(dir, ", subset: validation"));
  EXPECT_EQ(validation->get(0).tensors.at("action_label").item<int64_t>(), 2);
}

TEST(Ssv2, TestListHasIdsOnly) {
  test::TempDir dir;
  write_fixture(dir);
  auto test_set = test::make<Dataset>("ssv2", params(dir, ", subset: test"));
  ASSERT_EQ(test_set->size(), 2);
  Sample sample = test_set->get(0);
  EXPECT_EQ(sample.id, "1420");
  EXPECT_FALSE(sample.tensors.count("action_label"));
  EXPECT_EQ(test_set->keys().size(), 1u);
}

TEST(Ssv2, MissingFilesSayWhatWasExpected) {
  test::TempDir dir;
  EXPECT_THAT(test::error_of([&] { test::make<Dataset>("ssv2", "{root: " + (dir.path() / "no").string() + "}"); }),
              HasSubstr("expected the Something-Something v2 layout"));
  EXPECT_THAT(test::error_of([&] { test::make<Dataset>("ssv2", "{root: " + dir.path().string() + "}"); }),
              HasSubstr("cannot read " + (dir.path() / "labels.json").string()));
  write_fixture(dir);
  dir.write("train.json", R"([{"id": "1", "label": "x", "template": "Juggling [something]"}])");
  EXPECT_THAT(test::error_of([&] { test::make<Dataset>("ssv2", params(dir, "")); }),
              HasSubstr("template 'Juggling [something]' is not in labels.json"));
}

TEST(Ssv2, CorruptOrMissingVideosRaiseDataError) {
  test::TempDir dir;
  write_fixture(dir);
  auto file = dir.path() / "videos/74225.webm";
  std::filesystem::resize_file(file, 100);  // cut inside the container header
  std::filesystem::remove(dir.path() / "videos/116154.webm");
  auto train = test::make<Dataset>("ssv2", params(dir, ""));
  EXPECT_THROW(train->get(0), DataError);
  EXPECT_THAT(test::error_of([&] { train->get(1); }), HasSubstr("missing video"));
  EXPECT_THROW(train->get(1), DataError);
}

}  // namespace
}  // namespace wm

namespace wm {
namespace {

// an experiment names ssv2 with a split and a subset and runs end to end
TEST(Ssv2, RunsInAnExperimentWithSplitAndSubset) {
  test::TempDir dir;
  write_fixture(dir);
  std::string entries;
  for (int i = 0; i < 12; ++i) {
    std::string id = "9" + std::to_string(i);
    std::filesystem::copy_file(dir.path() / "videos/5.webm", dir.path() / "videos" / (id + ".webm"));
    entries += std::string(i ? "," : "") + "{\"id\": \"" + id + "\", \"label\": \"holding a cup\", "
               "\"template\": \"Holding [something]\", \"placeholders\": [\"a cup\"]}";
  }
  dir.write("validation.json", "[" + entries + "]");
  dir.write("exp.yaml", R"(experiment: ssv2_run
threads: 1
data:
  val: {plugin: ssv2, split: train, fractions: [0.6, 0.4, 0.0], subset: 0.8,
        params: {root: ., videos: videos, subset: validation, frames: 3, height: 16, width: 16}}
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
procedure: [{evaluate: {data: val, batch_size: 2, preview: 0}}]
)");
  int code;
  std::string output = test::run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, ::testing::ContainsRegex("data.val: ssv2 \\([1-9][0-9]* of 12 samples\\)"));
  std::ifstream metrics(dir.path() / "run/metrics.jsonl");
  EXPECT_THAT(std::string(std::istreambuf_iterator<char>(metrics), {}), HasSubstr("psnr"));
}

TEST(Ssv2, PassesTheContractChecks) {
  test::TempDir dir;
  write_fixture(dir);
  testing::CheckOptions options;
  options.params = params(dir, "");
  EXPECT_THAT(testing::conformance("ssv2", options), ::testing::IsEmpty());
}

}  // namespace
}  // namespace wm
