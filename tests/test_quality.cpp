// Quality scores on clips whose answers are known: frame differences, the Laplacian's variance
// against scipy, flow of a sliding texture, and the tiers procedure end to end.
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "test_support.h"
#include "procedures/quality.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// a smooth texture (sum of plane waves) sliding `shift` pixels right per frame: [T, 3, H, W] in [0, 1]
at::Tensor sliding_texture(int64_t frames, int64_t size, double shift) {
  auto y = at::arange(size, at::kDouble).view({-1, 1});
  std::vector<at::Tensor> clip;
  for (int64_t t = 0; t < frames; ++t) {
    auto x = at::arange(size, at::kDouble).view({1, -1}) - shift * t;
    auto grey = 0.5 + 0.2 * at::sin(x * 0.35 + y * 0.2) + 0.15 * at::cos(x * 0.12 - y * 0.41) +
                0.1 * at::sin((x + y) * 0.7);
    clip.push_back(grey.unsqueeze(0).expand({3, size, size}));
  }
  return at::stack(clip).to(at::kFloat);
}

TEST(Quality, FrameDifferenceOfUniformStepsIsTheStep) {
  // frame t is uniformly 10 t grey levels: every pair differs by exactly 10
  auto clip = (at::arange(5, at::kFloat) * 10).view({-1, 1, 1, 1}).expand({5, 3, 6, 6}).to(at::kByte);
  EXPECT_DOUBLE_EQ(eval::frame_difference_motion(clip), 10.0);
  EXPECT_DOUBLE_EQ(eval::frame_difference_motion(clip.slice(0, 0, 1)), 0.0);
  auto still = sliding_texture(4, 32, 0.0);
  EXPECT_DOUBLE_EQ(eval::frame_difference_motion(still), 0.0);
  EXPECT_GT(eval::frame_difference_motion(sliding_texture(4, 32, 2.0)), 5.0);
}

TEST(Quality, LaplacianVarianceEqualsScipys) {
  test::TempDir dir;
  auto clip = at::randint(0, 256, {3, 3, 17, 23}, at::kLong).to(at::kByte);
  test::write_raw(dir.path() / "clip.raw", clip);
  std::string out = test::run_python(dir, R"(
import sys, numpy as np, scipy.ndimage as nd
x = np.fromfile(sys.argv[1] + '/clip.raw').reshape(3, 3, 17, 23)
grey = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
# mode='mirror' reflects without repeating the edge: OpenCV's BORDER_REFLECT_101
print(repr(np.mean([nd.laplace(g, mode='mirror').var() for g in grey])))
)");
  EXPECT_NEAR(eval::laplacian_variance(clip), std::stod(out), 1e-9 * std::stod(out));
}

TEST(Quality, BlurLowersClarity) {
  auto sharp = at::rand({2, 3, 32, 32}, at::kDouble).to(at::kFloat);
  auto blurred = at::avg_pool2d(sharp, 5, 1, 2, false, false);
  EXPECT_GT(eval::laplacian_variance(sharp), 10 * eval::laplacian_variance(blurred));
}

TEST(Quality, FlowOfASlidingTextureIsItsSpeed) {
  eval::QualityOptions options;
  options.flow_side = 48;  // half size: the flow is scaled back to full-size pixels
  EXPECT_NEAR(eval::flow_motion(sliding_texture(5, 96, 2.0), options), 2.0, 0.2);
  EXPECT_NEAR(eval::flow_motion(sliding_texture(5, 96, 0.0), options), 0.0, 0.05);
  auto quality = eval::score_clip(sliding_texture(5, 96, 3.0), options);
  EXPECT_NEAR(quality.flow, 3.0, 0.3);
  EXPECT_EQ(quality.frames, 5);
  EXPECT_EQ(quality.height, 96);
  EXPECT_EQ(quality.width, 96);
}

//---- the tiers procedure ----

int run_wmhost(const std::string& args, const fs::path& cwd) {
  std::string command = "cd '" + cwd.string() + "' && '" + WM_TEST_WMHOST +
                        "' --plugin-path '" + WM_TEST_BROKEN_PLUGIN_DIR + "/clips' " + args +
                        " > out.txt 2>&1";
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines(const fs::path& file) {
  std::istringstream in(read(file));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// clip-i: odd i move, i in {2, 3} mod 4 are blurred; clip-6 cannot be read
const char* kTiers = R"(experiment: tiers
data:
  clips: {plugin: test_clips, params: {samples: 12, unreadable: [6]}, workers: 2}
procedure:
  - tiers: {data: clips, fractions: [0.25, 0.25, 0.25], flow: false}
)";

TEST(Tiers, SortsClipsOfKnownQuality) {
  test::TempDir dir;
  dir.write("exp.yaml", kTiers);
  ASSERT_EQ(run_wmhost("run exp.yaml --out run", dir.path()), 0) << read(dir.path() / "out.txt");
  fs::path tiers = dir.path() / "run/tiers";
  // by combined rank, the moving sharp clips (1, 5, 9) lead; the last two are blurred ones
  auto platinum = lines(tiers / "platinum.txt");
  std::sort(platinum.begin(), platinum.end());
  EXPECT_EQ(platinum, (std::vector<std::string>{"clip-1", "clip-5", "clip-9"}));
  auto bronze = lines(tiers / "bronze.txt");
  EXPECT_EQ(bronze.size(), 2u) << "11 clips: 3, 3, 3 by the fractions, then the rest";
  for (const auto& id : bronze) EXPECT_GE(std::stoi(id.substr(5)) % 4, 2) << id << " is sharp";
  EXPECT_EQ(lines(tiers / "gold.txt").size(), 3u);

  auto csv = lines(tiers / "scores.csv");
  EXPECT_EQ(csv.front(), "id,source,frames,height,width,motion,flow,clarity,occlusion,completeness,score,tier");
  EXPECT_EQ(csv.size(), 12u) << "11 readable clips and a header";
  EXPECT_THAT(read(tiers / "summary.md"), HasSubstr("| platinum | 3 |"));
  EXPECT_TRUE(fs::exists(tiers / "scores.svg"));
  EXPECT_THAT(read(tiers / "skipped.txt"), HasSubstr("clip-6\tclips/clip-6.mp4\ttruncated file"));
  std::string log = read(dir.path() / "run/log.txt");
  EXPECT_THAT(log, HasSubstr("skipped unreadable sample 'clip-6' (clips/clip-6.mp4)"));
  EXPECT_THAT(log, HasSubstr("tiers clips 12/12 (100%)"));
  EXPECT_THAT(read(dir.path() / "run/metrics.jsonl"), HasSubstr("\"skipped_samples\": 1"));
}

// the tier lists select data: data.<name>.ids keeps the listed samples, then split and subset
TEST(Tiers, AListNamedByIdsSelectsTheData) {
  test::TempDir dir;
  dir.write("exp.yaml", kTiers);
  ASSERT_EQ(run_wmhost("run exp.yaml --out run", dir.path()), 0) << read(dir.path() / "out.txt");
  dir.write("gold.yaml", R"(experiment: gold
data:
  clips: {plugin: test_clips, params: {samples: 12, unreadable: [6]}, ids: run/tiers/gold.txt}
procedure:
  - tiers: {data: clips, fractions: [0.5, 0.5, 0.0], flow: false}
)");
  ASSERT_EQ(run_wmhost("run gold.yaml --out gold", dir.path()), 0) << read(dir.path() / "out.txt");
  auto gold = lines(dir.path() / "run/tiers/gold.txt");
  auto scored = lines(dir.path() / "gold/tiers/scores.csv");
  ASSERT_EQ(scored.size(), gold.size() + 1);
  for (size_t i = 1; i < scored.size(); ++i)
    EXPECT_NE(std::find(gold.begin(), gold.end(), scored[i].substr(0, scored[i].find(','))), gold.end())
        << scored[i];
  EXPECT_THAT(read(dir.path() / "gold/log.txt"), HasSubstr("data.clips: 3 samples listed in"));

  dir.write("other.txt", "# ids of another data set\nvideo-1\n");
  EXPECT_EQ(run_wmhost("run gold.yaml --out other data.clips.ids=other.txt", dir.path()), 1);
  EXPECT_THAT(read(dir.path() / "out.txt"), HasSubstr("none of its 1 ids is a sample of this data set"));
  EXPECT_EQ(run_wmhost("validate gold.yaml data.clips.ids=missing.txt", dir.path()), 2);
  EXPECT_THAT(read(dir.path() / "out.txt"), HasSubstr("data.clips.ids"));
}

TEST(Tiers, ThresholdsOnOneScore) {
  test::TempDir dir;
  dir.write("exp.yaml", kTiers);
  ASSERT_EQ(run_wmhost("run exp.yaml --out run procedure.0.tiers.fractions=[] "
                       "+procedure.0.tiers.thresholds=[1.0,0.5,0.25] +procedure.0.tiers.rank_by=flow "
                       "procedure.0.tiers.flow=true",
                       dir.path()), 0) << read(dir.path() / "out.txt");
  // a 2-pixel slide: every moving clip is platinum, every still one bronze
  auto platinum = lines(dir.path() / "run/tiers/platinum.txt");
  EXPECT_EQ(platinum.size(), 6u);
  for (const auto& id : platinum) EXPECT_EQ(std::stoi(id.substr(5)) % 2, 1) << id;
  EXPECT_EQ(lines(dir.path() / "run/tiers/bronze.txt").size(), 5u);
}

TEST(Tiers, RejectsBadRules) {
  test::TempDir dir;
  dir.write("exp.yaml", kTiers);
  EXPECT_EQ(run_wmhost("validate exp.yaml +procedure.0.tiers.thresholds=[1,2,3]", dir.path()), 2);
  EXPECT_THAT(read(dir.path() / "out.txt"), HasSubstr("give either thresholds or fractions"));
  EXPECT_EQ(run_wmhost("validate exp.yaml procedure.0.tiers.fractions=[0.5,0.5,0.5]", dir.path()), 2);
  EXPECT_THAT(read(dir.path() / "out.txt"), HasSubstr("procedure.0.tiers.fractions: add up to more than 1"));
  EXPECT_EQ(run_wmhost("validate exp.yaml procedure.0.tiers.fractions=[0.5]", dir.path()), 2);
  EXPECT_THAT(read(dir.path() / "out.txt"), HasSubstr("needs three values"));
}

}  // namespace
}  // namespace wm
