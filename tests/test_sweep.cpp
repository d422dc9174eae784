// Sweeps expand to a grid and end in a summary table.
#include <fstream>
#include <sstream>

#include "sweep.h"
#include "config_node.h"
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
