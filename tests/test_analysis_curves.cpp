// The curves step's values at chosen steps, Spearman's rho and rules (a verdict read off logged
// series, as configs/balloon.yaml reads the prior weight over training).
#include <cmath>

#include "analysis/analysis.h"
#include "analysis/output.h"
#include "analysis/stats.h"
#include "config_node.h"
#include "test_support.h"
#include "wm/io/json.h"

namespace wm {
namespace {

using ::testing::HasSubstr;
using test::read_text;

const char* kBalloon = R"Y(analysis:
  - curves:
      name: balloon
      column: train/prior_weight
      by: [buoyancy]
      at: [0, 250, 500, 1000]
      at_label: w
      trend: true
      log_y: false
      rules:
        - {when: "at(2, 1000) <= 0.5 && at(0, 1000) >= 0.8", say: "prior override works"}
        - {when: "at(2, 1000) > 0.85", say: "softplus constraint broken"}
        - {otherwise: "partial override"}
)Y";

std::vector<analysis::Step> steps_of(const std::string& yaml) {
  ConfigNode root = parse_yaml(yaml, "exp.yaml");
  return analysis::bind_steps(root.find("analysis"));
}

// buoyancy 2 and 0 x 2 seeds; w logged every 50 steps from 0 to 1000 as `balloon(step)` and
// `control(step)`, seed 1 a little higher
template <class Balloon, class Control>
analysis::SummaryTable write_runs(const test::TempDir& dir, Balloon balloon, Control control) {
  std::string csv = "run,buoyancy,seed,status,seconds\n";
  for (int buoyancy : {2, 0})
    for (int seed : {0, 1}) {
      std::string run = "b" + std::to_string(buoyancy) + "_s" + std::to_string(seed);
      csv += run + "," + std::to_string(buoyancy) + "," + std::to_string(seed) + ",ok,1\n";
      std::string lines;
      for (int step = 0; step <= 1000; step += 50) {
        double w = (buoyancy ? balloon(step) : control(step)) + 0.01 * seed;
        lines += "{\"procedure\": \"train\", \"step\": " + std::to_string(step) + ", \"prior_weight\": " +
                 std::to_string(w) + "}\n";
      }
      dir.write(run + "/metrics.jsonl", lines);
    }
  dir.write("summary.csv", csv);
  return analysis::load_summary(dir.path());
}

TEST(AnalysisCurves, ValuesAtStepsSpearmanAndVerdict) {
  test::TempDir dir;
  auto table = write_runs(dir, [](int step) { return 0.9 - 0.00055 * step; }, [](int) { return 0.9; });
  ASSERT_EQ(analysis::run_steps(table, steps_of(kBalloon)), 0);
  std::string md = read_text(dir.path() / "analysis/balloon.md");
  EXPECT_THAT(md, HasSubstr("| buoyancy |"));
  EXPECT_THAT(md, HasSubstr("| w@0 | w@250 | w@500 | w@1000 |"));
  // balloon: mean over seeds 0.905 at 0, 0.7675 at 250, 0.355 at 1000; a falling line has rho -1
  EXPECT_THAT(md, HasSubstr("| 0.905 | 0.7675 | 0.63 | 0.355 | -1 | prior override works |"));
  EXPECT_THAT(md, HasSubstr("**verdict: prior override works**"));
  EXPECT_THAT(md, HasSubstr("at(2, 1000) = 0.355"));
  auto result = io::json::parse(read_text(dir.path() / "analysis/balloon.json"));
  EXPECT_EQ(result.find("verdict")->as_string(), "prior override works");
}

TEST(AnalysisCurves, VerdictFollowsTheCurves) {
  test::TempDir stuck, partial;
  auto flat = write_runs(stuck, [](int) { return 0.9; }, [](int) { return 0.9; });
  ASSERT_EQ(analysis::run_steps(flat, steps_of(kBalloon)), 0);
  EXPECT_THAT(read_text(stuck.path() / "analysis/balloon.md"), HasSubstr("**verdict: softplus constraint broken**"));
  // a noisy fall: rho still computed as scipy's spearmanr on the mean curve
  auto noisy = write_runs(partial, [](int step) { return 0.9 - 0.0003 * step + (step % 100 ? 0.02 : 0); },
                          [](int) { return 0.9; });
  ASSERT_EQ(analysis::run_steps(noisy, steps_of(kBalloon)), 0);
  std::string md = read_text(partial.path() / "analysis/balloon.md");
  EXPECT_THAT(md, HasSubstr("**verdict: partial override**"));
  std::vector<double> x, w;
  for (int step = 0; step <= 1000; step += 50)
    x.push_back(step), w.push_back(0.905 - 0.0003 * step + (step % 100 ? 0.02 : 0));
  double rho = stats::spearman(x, w);
  EXPECT_LT(rho, -0.9);
  EXPECT_GT(rho, -1.0);
  EXPECT_THAT(md, HasSubstr(analysis::fmt(rho)));
}

TEST(AnalysisCurves, ValueAtAStepIsTheLastLoggedOneBeforeIt) {
  test::TempDir dir;
  auto table = write_runs(dir, [](int step) { return 1.0 - step / 1000.0; }, [](int) { return 0.9; });
  auto steps = steps_of(R"Y(analysis:
  - curves: {column: train/prior_weight, by: [buoyancy], at: [-1, 260], log_y: false}
)Y");
  ASSERT_EQ(analysis::run_steps(table, steps), 0);
  std::string md = read_text(dir.path() / "analysis/curves.md");
  // before the first logged step: a dash; at 260: the value logged at 250 (0.75 + 0.005)
  EXPECT_THAT(md, HasSubstr("| prior_weight@-1 | prior_weight@260 |"));
  EXPECT_THAT(md, HasSubstr("| — | 0.755 |"));
}

TEST(AnalysisCurves, BadRulesFailValidationOrNameTheGroup) {
  EXPECT_THAT(test::error_of([] {
                steps_of("analysis:\n  - curves: {column: train/w, by: [b], rules: [{when: \"last(2) < mean(0)\", say: x}]}\n");
              }),
              HasSubstr("unknown function 'mean'"));
  test::TempDir dir;
  auto table = write_runs(dir, [](int) { return 0.5; }, [](int) { return 0.9; });
  auto steps = steps_of(
      "analysis:\n  - curves: {column: train/prior_weight, by: [buoyancy], rules: [{when: \"last(3) < 0.5\", say: x}]}\n");
  EXPECT_THAT(test::error_of([&] { analysis::run_step(table, steps[0]); }),
              HasSubstr("no curve with buoyancy = 3; buoyancy has: 2, 0"));
}

}  // namespace
}  // namespace wm
