// `wmhost run` with an `analysis:` list and `wmhost analyze` through the real binary: what a
// researcher types and reads, and the files written again byte for byte.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "test_support.h"

namespace wm {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using test::read_text;


//---- wmhost run and wmhost analyze ----

using Result = test::CliResult;
using test::wmhost;

const char* kSweep = R"Y(experiment: analysed
data:
  val: {plugin: synthetic, split: all, params: {samples: 8, frames: 4, size: 16, seed: 0}}
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
procedure:
  - evaluate: {data: val, batch_size: 4}
sweep:
  data.val.params.samples: [8, 16]
  data.val.params.seed: [0, 1]
analysis:
  - aggregate: {by: data.val.params.samples, over: data.val.params.seed, columns: ["evaluate*/psnr"]}
  - compare: {by: data.val.params.samples, column: "evaluate*/psnr", pairs: [[16, 8]]}
  - decide:
      rules:
        - {when: "n(8) == 2 && n(16) == 2", say: "both sizes ran twice"}
        - {otherwise: "a point is missing"}
)Y";

TEST(AnalysisCli, RunPrintsTheTablesAndAnalyzeRewritesTheSameFiles) {
  test::TempDir dir;
  dir.write("exp.yaml", kSweep);
  Result run = wmhost("run exp.yaml --out sweep", dir.path());
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  std::string printed = run.out + run.err;
  EXPECT_THAT(printed, HasSubstr("analysis aggregate: 1 column over data.val.params.seed, by data.val.params.samples"));
  EXPECT_THAT(printed, HasSubstr("analysis decide: verdict: both sizes ran twice"));
  fs::path out = dir.path() / "sweep/analysis";
  std::vector<std::string> files = {"aggregate.md", "aggregate.csv", "aggregate.json", "aggregate.svg",
                                    "compare.md", "compare.json", "decide.md", "decide.json"};
  std::map<std::string, std::string> first;
  for (const auto& file : files) {
    ASSERT_TRUE(fs::exists(out / file)) << file;
    first[file] = read_text(out / file);
  }
  EXPECT_THAT(first["aggregate.md"], ContainsRegex("\\| 8 \\| [0-9.]+ \\| [0-9.e-]+ \\| [0-9.e-]+ \\| \\[[^]]+\\] \\| 2 \\|"));

  // every step's table in one file beside summary.md
  std::string all = read_text(dir.path() / "sweep/analysis.md");
  EXPECT_THAT(all, ContainsRegex("^# Analysis of sweep\n\n4 runs\n\n## aggregate\n"));
  EXPECT_THAT(all, HasSubstr("\n## decide\n\n**verdict: both sizes ran twice**"));

  // again from the finished folder, without training: byte-identical files
  fs::remove_all(out);
  Result again = wmhost("analyze sweep", dir.path());
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("analysis: 3/3 steps written to sweep/analysis"));
  for (const auto& file : files) EXPECT_EQ(read_text(out / file), first[file]) << file;
  EXPECT_EQ(read_text(dir.path() / "sweep/analysis.md"), all);

  // another analysis of the same runs
  dir.write("more.yaml", "experiment: more\nanalysis: [{aggregate: {name: by_seed, by: data.val.params.seed, over: none}}]\n");
  Result more = wmhost("analyze sweep --config more.yaml", dir.path());
  ASSERT_EQ(more.code, 0) << more.err;
  EXPECT_THAT(read_text(out / "by_seed.md"), HasSubstr("| data.val.params.seed | column | mean |"));
}

TEST(AnalysisCli, ASingleRunIsAOnePointSweep) {
  test::TempDir dir;
  std::string single = kSweep;
  single = single.substr(0, single.find("sweep:")) +
           "analysis:\n  - aggregate: {columns: [\"evaluate*/psnr\"], stats: [mean, n]}\n";
  dir.write("single.yaml", single);
  Result run = wmhost("run single.yaml --out one", dir.path());
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  std::string md = read_text(dir.path() / "one/analysis/aggregate.md");
  EXPECT_THAT(md, ContainsRegex("\\| mean \\| n \\| values \\(by seed\\) \\|\n\\|---:\\|---:\\|---:\\|\n\\| [0-9.]+ \\| 1 \\|"));
  fs::remove_all(dir.path() / "one/analysis");
  ASSERT_EQ(wmhost("analyze one", dir.path()).code, 0);
  EXPECT_EQ(read_text(dir.path() / "one/analysis/aggregate.md"), md);
}

TEST(AnalysisCli, AnalyzeNamesWhatIsMissing) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "empty");
  Result missing = wmhost("analyze empty", dir.path());
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr("error: no empty/summary.csv"));
  dir.write("done/summary.csv", "run,seed,status,seconds,acc\ns0,0,ok,1,0.5\n");
  dir.write("done/sweep.yaml", "experiment: done\n");
  EXPECT_THAT(wmhost("analyze done", dir.path()).err, HasSubstr("done/sweep.yaml has no `analysis:` steps"));
  dir.write("bad.yaml", "experiment: done\nanalysis: [{aggregate: {columns: [acc], stats: [mean, sdd]}}]\n");
  EXPECT_THAT(wmhost("analyze done --config bad.yaml", dir.path()).err,
              ContainsRegex("bad.yaml:2:[0-9]+: analysis.0.aggregate.stats: unknown statistic 'sdd'; did you mean 'sd'\\?"));
  dir.write("wrong.yaml", "experiment: done\nanalysis: [{aggregate: {columns: [acc2]}}]\n");
  Result wrong = wmhost("analyze done --config wrong.yaml", dir.path());
  EXPECT_EQ(wrong.code, 1);
  EXPECT_THAT(wrong.out + wrong.err, HasSubstr("no column 'acc2'"));
}

TEST(AnalysisCli, DescribeAndListShowTheSteps) {
  test::TempDir dir;
  Result list = wmhost("list analysis", dir.path());
  EXPECT_EQ(list.code, 0);
  EXPECT_THAT(list.out, ContainsRegex("analysis:\n  aggregate "));
  EXPECT_THAT(list.out, HasSubstr("  curves "));
  Result fit = wmhost("describe fit", dir.path());
  EXPECT_THAT(fit.out, HasSubstr("fit (analysis step, under analysis:)"));
  EXPECT_THAT(fit.out, ContainsRegex("\n  thresholds +float list +\\[0.8, 0.9, 0.95\\]"));
  EXPECT_THAT(wmhost("describe experiment", dir.path()).out, ContainsRegex("\n  analysis +list "));
}

// spec D10 acceptance 3: configs/learning_curve.yaml's own `fit`, on its sweep cut to one N (three
// seeds there), refuses instead of fitting a curve through one point
TEST(AnalysisCli, LearningCurveFitRefusesASweepCutToOnePoint) {
  test::TempDir dir;
  std::string csv = "run,data.train.subset,seed,status,seconds,train[train]/train_size,evaluate[test]/psnr\n";
  for (int seed = 0; seed < 3; ++seed)
    csv += "\"data.train.subset=1600,seed=" + std::to_string(seed) + "\",1600," + std::to_string(seed) +
           ",ok,60,1600," + std::to_string(30.0 + 0.1 * seed) + "\n";
  dir.write("one/summary.csv", csv);
  std::string config = (fs::path(WM_TEST_SOURCE_DIR) / "configs/learning_curve.yaml").string();
  Result result = wmhost("analyze one --config " + config, dir.path());
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.out + result.err, HasSubstr("needs ≥ 3 distinct N (train[train]/train_size), got 1"));
  EXPECT_FALSE(fs::exists(dir.path() / "one/analysis/learning_curve.md"));
}

}  // namespace
}  // namespace wm
