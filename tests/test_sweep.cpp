// Sweeps expand to a grid and end in a summary table.
#include <fstream>
#include <sstream>

#include "sweep.h"
#include "config_node.h"
#include "config_resolve.h"
#include "param_binding.h"
#include "test_support.h"

namespace wm {
namespace {

using ::testing::HasSubstr;
using test::error_of;

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(Sweep, ExpandsTheGridLastKeyFastest) {
  ConfigNode sweep = parse_yaml("{data.train.subset: [0.1, 0.5], seed: [0, 1, 2]}", "exp.yaml");
  auto points = expand_sweep(&sweep);
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(points[0].name, "data.train.subset=0.1,seed=0");
  EXPECT_EQ(points[1].name, "data.train.subset=0.1,seed=1");
  EXPECT_EQ(points[5].name, "data.train.subset=0.5,seed=2");
  EXPECT_EQ(points[5].values[1].second.scalar, "2");
}

TEST(Sweep, NoBlockIsOnePlainRun) {
  auto points = expand_sweep(nullptr);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_TRUE(points[0].values.empty());
}

TEST(Sweep, EmptyValueListIsAnError) {
  ConfigNode sweep = parse_yaml("{seed: []}", "exp.yaml");
  EXPECT_THAT(error_of([&] { expand_sweep(&sweep); }),
              HasSubstr("exp.yaml:1:8: sweep.seed: expected a non-empty list of values"));
}

TEST(Sweep, AListOfGridsRunsThemInTurnInTheFirstGridsKeyOrder) {
  // a baseline curve, then three conditions at one N (and that N's baseline point only once)
  ConfigNode sweep = parse_yaml("- {aug: [none], n: [50, 100, 200]}\n"
                                "- {n: [100], aug: [none, crop, flip]}\n", "exp.yaml");
  auto points = expand_sweep(&sweep);
  std::vector<std::string> names;
  for (const auto& point : points) names.push_back(point.name);
  EXPECT_EQ(names, (std::vector<std::string>{"aug=none,n=50", "aug=none,n=100", "aug=none,n=200",
                                             "aug=crop,n=100", "aug=flip,n=100"}));
  ASSERT_EQ(points[3].values.size(), 2u);
  EXPECT_EQ(points[3].values[0].first, "aug");
  EXPECT_EQ(points[3].values[1].second.scalar, "100");
}

TEST(Sweep, EveryGridOfAListNamesTheSameKeys) {
  ConfigNode missing = parse_yaml("- {aug: [none], n: [50]}\n- {aug: [crop]}\n", "exp.yaml");
  EXPECT_THAT(error_of([&] { expand_sweep(&missing); }),
              HasSubstr("exp.yaml:2:3: sweep.1: this grid has no 'n'; every grid of a sweep list names "
                        "the same keys (the first names aug, n)"));
  ConfigNode extra = parse_yaml("- {aug: [none]}\n- {aug: [crop], seed: [1]}\n", "exp.yaml");
  EXPECT_THAT(error_of([&] { expand_sweep(&extra); }), HasSubstr("sweep.seed: not in the first grid"));
  ConfigNode empty = parse_yaml("[]", "exp.yaml");
  EXPECT_THAT(error_of([&] { expand_sweep(&empty); }), HasSubstr("or a non-empty list of them"));
}

TEST(Sweep, AValueStandingForAMapCanBeReadThroughInAnyOrder) {
  // the sweep sets `preset` to a reference to a map; data reads two keys of that map, and the
  // data section comes before global_vars in the file
  ConfigNode config = parse_yaml(
      "data: {train: {transforms: '${global_vars.preset.transforms}',\n"
      "               batch_transforms: '${global_vars.preset.batch}'}}\n"
      "global_vars:\n"
      "  preset: '${global_vars.presets.mixup}'\n"
      "  presets: {mixup: {transforms: [], batch: [{mixup: {alpha: 0.2}}]}}\n", "exp.yaml");
  interpolate(config);
  const ConfigNode* batch = find_path(config, "data.train.batch_transforms.0.mixup.alpha");
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->scalar, "0.2");
  EXPECT_TRUE(find_path(config, "data.train.transforms")->is_sequence());
  ConfigNode cycle = parse_yaml("a: '${a.b}'\n", "exp.yaml");
  EXPECT_THAT(error_of([&] { interpolate(cycle); }), HasSubstr("${a.b}: no such key"));
}

TEST(Sweep, SummaryHasOneRowPerPointAndEveryMetric) {
  test::TempDir dir;
  ConfigNode sweep = parse_yaml("{seed: [0, 1]}", "exp.yaml");
  auto points = expand_sweep(&sweep);
  std::vector<RunOutcome> outcomes(2);
  outcomes[0] = {dir.path() / "seed=0", true, false, "", 1.25, {{"evaluate/psnr", 30.5}}};
  outcomes[1] = {dir.path() / "seed=1", false, false, "boom", 0.5, {}};
  write_summary(dir.path(), points, outcomes);
  EXPECT_EQ(read(dir.path() / "summary.csv"),
            "run,seed,status,seconds,evaluate/psnr\nseed=0,0,ok,1.2,30.5\nseed=1,1,failed,0.5,\n");
  EXPECT_THAT(read(dir.path() / "summary.md"), HasSubstr("| seed=0 | 0 | ok | 1.2 | 30.5 |"));
}

}  // namespace
}  // namespace wm
