// The analysis layer (spec X4): steps on hand-made sweep summaries, their tables and files,
// and the mistakes a researcher makes (`wmhost analyze` itself: test_analysis_cli.cpp).
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "analysis/analysis.h"
#include "analysis/expression.h"
#include "config_node.h"
#include "report/plot.h"
#include "test_support.h"
#include "wm/io/json.h"

namespace wm {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;
using test::read_text;
namespace json = io::json;


// the steps of an `analysis:` YAML, bound as validation binds them
std::vector<analysis::Step> steps_of(const std::string& yaml) {
  ConfigNode root = parse_yaml(yaml, "exp.yaml");
  return analysis::bind_steps(root.find("analysis"));
}

// a summary.csv written into `dir`, read back as the steps read it
analysis::SummaryTable table_of(const test::TempDir& dir, const std::string& csv) {
  dir.write("summary.csv", csv);
  return analysis::load_summary(dir.path());
}

//---- decide ----

const char* kLethality = R"Y(analysis:
  - compare: {by: prior, column: "rollout[model]/success_rate", pairs: [[0.9, 0.5], [0.1, 0.9]]}
  - decide:
      rules:
        - {when: "rel(0.9, 0.5) > 0.20", say: "core hypothesis validated"}
        - {when: "mean(0.1) > mean(0.9)", say: "priors are HURTING"}
        - {otherwise: "prior mechanism too weak"}
)Y";

// 3 priors x 3 seeds with the given success rates per prior
std::string lethality_summary(const std::vector<std::vector<double>>& rates) {
  const char* priors[] = {"0.9", "0.5", "0.1"};
  std::string csv = "run,prior,seed,status,seconds,rollout[model]/success_rate,rollout[random]/success_rate\n";
  for (int p = 0; p < 3; ++p)
    for (int s = 0; s < 3; ++s)
      csv += std::string("\"prior=") + priors[p] + ",seed=" + std::to_string(s) + "\"," + priors[p] + "," +
             std::to_string(s) + ",ok,1.0," + std::to_string(rates[p][s]) + ",0.1\n";
  return csv;
}

std::string verdict_on(const std::vector<std::vector<double>>& rates) {
  test::TempDir dir;
  auto table = table_of(dir, lethality_summary(rates));
  auto steps = steps_of(kLethality);
  EXPECT_EQ(analysis::run_steps(table, steps), 0);
  json::Value result = json::parse(read_text(dir.path() / "analysis/decide.json"));
  EXPECT_THAT(read_text(dir.path() / "analysis/decide.md"), HasSubstr("**verdict: " + result.find("verdict")->as_string()));
  return result.find("verdict")->as_string();
}

TEST(Analysis, DecidePicksTheFirstRuleThatHolds) {
  // 0.9 beats 0.5 by 60 %: rule 1
  EXPECT_EQ(verdict_on({{0.8, 0.82, 0.78}, {0.5, 0.52, 0.48}, {0.3, 0.31, 0.29}}), "core hypothesis validated");
  // no gain, and the weak prior does best: rule 2
  EXPECT_EQ(verdict_on({{0.5, 0.52, 0.48}, {0.5, 0.51, 0.49}, {0.7, 0.72, 0.68}}), "priors are HURTING");
  // a 4 % gain, weak prior worse: the fallback
  EXPECT_EQ(verdict_on({{0.52, 0.53, 0.51}, {0.5, 0.51, 0.49}, {0.4, 0.41, 0.39}}), "prior mechanism too weak");
}

TEST(Analysis, DecideShowsTheValuesItCompared) {
  test::TempDir dir;
  auto table = table_of(dir, lethality_summary({{0.8, 0.82, 0.78}, {0.5, 0.52, 0.48}, {0.3, 0.31, 0.29}}));
  ASSERT_EQ(analysis::run_steps(table, steps_of(kLethality)), 0);
  std::string md = read_text(dir.path() / "analysis/decide.md");
  EXPECT_THAT(md, HasSubstr("rel(0.9, 0.5) = 0.6"));
  EXPECT_THAT(md, HasSubstr("| 1 | rel(0.9, 0.5) > 0.20 | rel(0.9, 0.5) = 0.6 | yes ← |"));
  // the comparison the decision rests on, with Welch's test between the seeds
  json::Value compare = json::parse(read_text(dir.path() / "analysis/compare.json"));
  const json::Value& first = compare.find("rows")->items().at(0);
  EXPECT_NEAR(first.find("diff")->as_number(), 0.3, 1e-12);
  EXPECT_LT(first.find("p")->as_number(), 1e-4);
}

TEST(Analysis, ARuleAskingForAMissingGroupIsNamedAndItsOldFilesGo) {
  test::TempDir dir;
  auto table = table_of(dir, lethality_summary({{0.8, 0.82, 0.78}, {0.5, 0.52, 0.48}, {0.3, 0.31, 0.29}}));
  ASSERT_EQ(analysis::run_steps(table, steps_of(kLethality)), 0);
  ASSERT_TRUE(fs::exists(dir.path() / "analysis/decide.md"));
  // the same step name asks for a prior the sweep never ran
  auto steps = steps_of("analysis:\n  - decide:\n      by: prior\n      column: \"rollout[model]/success_rate\"\n"
                        "      rules:\n        - {when: \"mean(0.7) > 0.5\", say: x}\n");
  EXPECT_EQ(analysis::run_steps(table, steps), 1);
  EXPECT_THAT(read_text(dir.path() / "analysis.md"),
              ContainsRegex("rule 1 \\(analysis.0.decide.rules.0.when at exp.yaml:6:[0-9]+\\) `mean\\(0.7\\) > 0.5`: "
                            "no runs with prior = 0.7"));
  // the earlier verdict is not left behind to be read as this one
  EXPECT_FALSE(fs::exists(dir.path() / "analysis/decide.md"));
  EXPECT_FALSE(fs::exists(dir.path() / "analysis/decide.json"));
}

TEST(Analysis, ExpressionsFollowPrecedenceAndNameTheirMistakes) {
  struct Numbers : analysis::ExpressionScope {
    double name(const std::string& name) const override { return name == "x/y" ? 4 : NAN; }
    double call(const std::string& f, const std::vector<std::string>& args) const override {
      return f == "twice" ? 2 * std::stod(args.at(0)) : NAN;
    }
  } scope;
  EXPECT_EQ(analysis::Expression::parse("1 + 2 * 3 > 6 && !(2 > 3)").evaluate(scope), 1);
  EXPECT_EQ(analysis::Expression::parse("x/y - 1").evaluate(scope), 3);
  EXPECT_EQ(analysis::Expression::parse("twice(-1.5) <= -3 || 0").evaluate(scope), 1);
  EXPECT_EQ(analysis::Expression::parse("missing < 1").evaluate(scope), 0);  // NaN compares false
  EXPECT_EQ(analysis::Expression::parse("1 || 0 && 0").evaluate(scope), 1);  // && binds tighter
  EXPECT_EQ(analysis::Expression::parse("-2 * 3 == 0 - 6 && 8 / 2 / 2 == 2").evaluate(scope), 1);
  EXPECT_EQ(analysis::Expression::parse("!missing").evaluate(scope), 1);  // NaN is not true
  EXPECT_THAT(test::error_of([] { analysis::Expression::parse("1 < 2 < 3"); }),
              HasSubstr("at column 7 of '1 < 2 < 3': unexpected '<'"));
  EXPECT_THAT(test::error_of([] { analysis::Expression::parse("mean(0.9 > 1"); }),
              HasSubstr("at column 10 of 'mean(0.9 > 1': expected ',' or ')'"));
}

//---- aggregate and compare ----

const char* kSeeds = R"(run,lr,seed,status,seconds,evaluate[val]/psnr,fit_action_scaler/std/0,fit_action_scaler/std/1
lr=0.1_seed=0,0.1,0,ok,1.0,20.5,1.0,2.0
lr=0.1_seed=1,0.1,1,ok,1.0,20.7,1.1,2.2
lr=0.1_seed=2,0.1,2,ok,1.0,20.9,1.2,2.4
lr=0.01_seed=0,0.01,0,ok,1.0,22,3.0,1.0
lr=0.01_seed=1,0.01,1,ok,1.0,23,3.0,1.0
lr=0.01_seed=2,0.01,2,failed,1.0,,,
)";

TEST(Analysis, AggregateGivesMeanSdSemAndTheTInterval) {
  test::TempDir dir;
  auto table = table_of(dir, kSeeds);
  ASSERT_EQ(analysis::run_steps(table, steps_of(R"(analysis: [{aggregate: {by: lr, columns: ["evaluate[val]/psnr"]}}])")), 0);
  std::string csv = read_text(dir.path() / "analysis/aggregate.csv");
  // 20.5, 20.7, 20.9: mean 20.7, sd 0.2, sem 0.2/sqrt(3), 95 % CI 20.7 ± t(0.975, 2) sem
  double sem = 0.2 / std::sqrt(3.0), half = 4.302652729911275 * sem;
  json::Value result = json::parse(read_text(dir.path() / "analysis/aggregate.json"));
  const json::Value& first = result.find("rows")->items().at(0);
  EXPECT_EQ(first.find("group")->find("lr")->as_string(), "0.1");
  EXPECT_NEAR(first.find("mean")->as_number(), 20.7, 1e-12);
  EXPECT_NEAR(first.find("sd")->as_number(), 0.2, 1e-12);
  EXPECT_NEAR(first.find("sem")->as_number(), sem, 1e-12);
  EXPECT_NEAR(first.find("ci95")->items()[0].as_number(), 20.7 - half, 1e-9);
  EXPECT_NEAR(first.find("ci95")->items()[1].as_number(), 20.7 + half, 1e-9);
  EXPECT_EQ(first.find("n")->as_number(), 3);
  // the failed run is left out: lr 0.01 has two seeds
  const json::Value& second = result.find("rows")->items().at(1);
  EXPECT_EQ(second.find("n")->as_number(), 2);
  EXPECT_NEAR(second.find("mean")->as_number(), 22.5, 1e-12);
  EXPECT_THAT(read_text(dir.path() / "analysis/aggregate.md"),
              HasSubstr("| lr | mean | sd | sem | 95 % CI | n | values (by seed) |\n|---|---:|"));
  EXPECT_THAT(read_text(dir.path() / "analysis/aggregate.md"), HasSubstr("| 0.1 | 20.7 | 0.2 | 0.1155 | [20.2, 21.2] | 3 | 20.5 20.7 20.9 |"));
  EXPECT_TRUE(fs::exists(dir.path() / "analysis/aggregate.svg"));
}

TEST(Analysis, GroupsThatPoolAnotherSweptKeySaySo) {
  test::TempDir dir;
  std::string csv = "run,lr,width,seed,status,seconds,acc\n";
  for (const char* lr : {"0.1", "0.01"})
    for (const char* width : {"8", "16"})
      for (const char* seed : {"0", "1"})
        csv += std::string("r") + lr + "_" + width + "_" + seed + "," + lr + "," + width + "," + seed + ",ok,1,0.5\n";
  auto table = table_of(dir, csv);
  ASSERT_EQ(analysis::run_steps(table, steps_of("analysis:\n  - aggregate: {by: [lr], columns: [acc]}\n"
                                                "  - compare: {by: lr, column: acc, pairs: [[0.1, 0.01]]}\n"
                                                "  - aggregate: {name: all, columns: [acc]}\n")), 0);
  EXPECT_THAT(read_text(dir.path() / "analysis/aggregate.md"),
              HasSubstr("note: each group also pools runs with different width (add it to `by`"));
  EXPECT_THAT(read_text(dir.path() / "analysis/compare.md"), HasSubstr("each group pools its runs over width, seed"));
  // the default `by` (every key but seed) pools nothing
  EXPECT_THAT(read_text(dir.path() / "analysis/all.md"), Not(HasSubstr("pools")));
}

TEST(Analysis, GlobColumnsCompareEveryMatch) {
  test::TempDir dir;
  auto table = table_of(dir, kSeeds);
  auto steps = steps_of(R"(analysis: [{compare: {by: lr, column: "fit_action_scaler/std/*", reference: 0.01}}])");
  ASSERT_EQ(analysis::run_steps(table, steps), 0);
  json::Value result = json::parse(read_text(dir.path() / "analysis/compare.json"));
  const auto& rows = result.find("rows")->items();
  ASSERT_EQ(rows.size(), 2u);  // std/0 and std/1, each 0.1 against the reference 0.01
  EXPECT_EQ(rows[0].find("column")->as_string(), "fit_action_scaler/std/0");
  EXPECT_EQ(rows[1].find("column")->as_string(), "fit_action_scaler/std/1");
  EXPECT_NEAR(rows[0].find("diff")->as_number(), 1.1 - 3.0, 1e-12);
  EXPECT_NEAR(rows[1].find("rel")->as_number(), (2.2 - 1.0) / 1.0, 1e-12);
  // Welch's t with no spread in the reference: (2.2 - 1)/sqrt(0.04/3)
  EXPECT_NEAR(rows[1].find("t")->as_number(), 1.2 / std::sqrt(0.04 / 3), 1e-9);
}

TEST(Analysis, CompareWithinASecondKeyComparesInsideEachOfItsValues) {
  test::TempDir dir;
  // seed 001's demo-count table: physics against none at each number of demos
  std::string csv = "run,demos,prior,seed,status,seconds,success\n";
  std::map<std::string, std::vector<double>> success = {
      {"5 physics", {0.1, 0.2, 0.3}}, {"5 none", {0.0, 0.1, 0.1}},
      {"100 physics", {0.9, 0.8, 0.85}}, {"100 none", {0.5, 0.6, 0.7}}};
  for (const char* demos : {"5", "100"})
    for (const char* prior : {"physics", "none"})
      for (int seed = 0; seed < 3; ++seed)
        csv += std::string("r") + demos + prior + std::to_string(seed) + "," + demos + "," + prior + "," +
               std::to_string(seed) + ",ok,1," +
               std::to_string(success[std::string(demos) + " " + prior][seed]) + "\n";
  auto table = table_of(dir, csv);
  ASSERT_EQ(analysis::run_steps(table, steps_of("analysis:\n  - compare: {by: prior, within: demos, column: success, "
                                                "pairs: [[physics, none]]}\n"
                                                "  - decide: {rules: [{when: \"diff(physics, none) > 0.2\", say: big},"
                                                " {otherwise: small}]}\n")), 0);
  json::Value result = json::parse(read_text(dir.path() / "analysis/compare.json"));
  const auto& rows = result.find("rows")->items();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].find("demos")->as_string(), "5");
  EXPECT_NEAR(rows[0].find("diff")->as_number(), 0.2 - 0.2 / 3, 1e-12);
  EXPECT_EQ(rows[1].find("demos")->as_string(), "100");
  EXPECT_NEAR(rows[1].find("diff")->as_number(), 0.85 - 0.6, 1e-12);
  EXPECT_EQ(rows[1].find("n_a")->as_number(), 3);
  std::string md = read_text(dir.path() / "analysis/compare.md");
  EXPECT_THAT(md, HasSubstr("| demos | a | b | mean a |"));
  EXPECT_THAT(md, HasSubstr("within each value of demos"));
  EXPECT_THAT(md, Not(HasSubstr("pools its runs over demos")));
  // decide inherits `within` from the compare: one verdict per number of demos
  json::Value decision = json::parse(read_text(dir.path() / "analysis/decide.json"));
  const auto& blocks = decision.find("blocks")->items();
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].find("verdict")->as_string(), "small");  // 0.133 at 5 demos
  EXPECT_EQ(blocks[1].find("verdict")->as_string(), "big");    // 0.25 at 100
  EXPECT_THAT(read_text(dir.path() / "analysis/decide.md"), HasSubstr("**verdict at demos = 100: big**"));
}

TEST(Analysis, CompareMatchesScipysWelchTest) {
  test::TempDir dir;
  auto table = table_of(dir, lethality_summary({{0.8, 0.9, 0.75}, {0.5, 0.62, 0.48}, {0.3, 0.31, 0.29}}));
  ASSERT_EQ(analysis::run_steps(table, steps_of(kLethality)), 0);
  json::Value result = json::parse(read_text(dir.path() / "analysis/compare.json"));
  std::string reference = test::run_python(dir, R"(
from scipy import stats
for a, b in (([0.8, 0.9, 0.75], [0.5, 0.62, 0.48]), ([0.3, 0.31, 0.29], [0.8, 0.9, 0.75])):
    r = stats.ttest_ind(a, b, equal_var=False)
    print(repr(float(r.statistic)), repr(float(r.pvalue)))
)");
  std::istringstream lines(reference);
  for (const auto& row : result.find("rows")->items()) {
    double t = 0, p = 0;
    lines >> t >> p;
    EXPECT_NEAR(row.find("t")->as_number(), t, 1e-10);
    EXPECT_NEAR(row.find("p")->as_number(), p, 1e-10);
  }
}

//---- fit ----

// y = 2 N^-0.3 + 0.1 at 7 N from 100 to 100000, two seeds each, noiseless
std::string power_law_summary() {
  std::string csv = "run,data.train.subset,seed,status,seconds,train/train_size,evaluate[val]/loss\n";
  for (double n : {100.0, 300.0, 1000.0, 3000.0, 10000.0, 30000.0, 100000.0})
    for (int seed : {0, 1}) {
      char line[256];
      std::snprintf(line, sizeof line, "p%g_s%d,%g,%d,ok,1.0,%g,%.17g\n", n, seed, n, seed, n,
                    2 * std::pow(n, -0.3) + 0.1);
      csv += line;
    }
  return csv;
}

const char* kFit = R"(analysis:
  - fit: {name: learning_curve, x: train/train_size, y: "evaluate[val]/loss", higher_is_better: false}
)";

TEST(Analysis, FitRecoversANoiselessPowerLawAndItsThresholds) {
  test::TempDir dir;
  auto table = table_of(dir, power_law_summary());
  ASSERT_EQ(analysis::run_steps(table, steps_of(kFit)), 0);
  // analysing again gives the same bytes in every file but the timestamped log
  std::map<std::string, std::string> first;
  for (const auto& entry : fs::directory_iterator(dir.path() / "analysis"))
    first[entry.path().filename().string()] = read_text(entry.path());
  ASSERT_EQ(analysis::run_steps(table, steps_of(kFit)), 0);
  for (const auto& [file, text] : first)
    if (file != "log.txt") EXPECT_EQ(read_text(dir.path() / "analysis" / file), text) << file;
  json::Value result = json::parse(read_text(dir.path() / "analysis/learning_curve.json"));
  const json::Value& power = result.find("fits")->items().at(0);
  ASSERT_EQ(power.find("model")->as_string(), "power_law");
  EXPECT_NEAR(power.find("params")->find("a")->as_number(), 2.0, 2e-6);
  EXPECT_NEAR(power.find("params")->find("b")->as_number(), -0.3, 0.3e-6);
  EXPECT_NEAR(power.find("params")->find("c")->as_number(), 0.1, 0.1e-6);
  // y_ref is the mean at N = 100; N_p = ((y_p - c)/a)^(1/b) = 100 (1 - p)^(-1/0.3)
  double y_ref = result.find("y_ref")->as_number();
  EXPECT_NEAR(y_ref, 2 * std::pow(100.0, -0.3) + 0.1, 1e-12);
  const auto& thresholds = power.find("thresholds")->items();
  for (size_t i = 0; i < 3; ++i) {
    double p = thresholds[i].find("p")->as_number();
    double closed = 100 * std::pow(1 - p, -1 / 0.3);
    EXPECT_NEAR(thresholds[i].find("n")->as_number() / closed, 1, 1e-6) << p;
    EXPECT_EQ(thresholds[i].find("extrapolated")->as_bool(), closed > 100000) << p;
  }
  EXPECT_EQ(thresholds[0].find("first_observed_n")->as_number(), 30000);  // f(30000) = 0.835
  EXPECT_EQ(result.find("points")->items().size(), 7u);

  std::string md = read_text(dir.path() / "analysis/learning_curve.md");
  EXPECT_THAT(md, HasSubstr("| model | a ± se | b ± se | c ± se | R² | AIC | N80 | N90 | N95 | N_dim | inflection |"));
  EXPECT_THAT(md, ContainsRegex("\\| power_law \\| 2( ± [^|]+)? \\| -0.3( ± [^|]+)? \\| 0.1( ± [^|]+)? \\| 1 \\| [^|]+ \\| "
                                "2.137e\\+04 \\| 2.154e\\+05 \\(extrapolated\\) \\| 2.172e\\+06 \\(extrapolated\\) \\|"));
  EXPECT_THAT(md, HasSubstr("none (no inflection in log N)"));
  EXPECT_THAT(md, ContainsRegex("\\| logistic \\| lo "));
  std::string svg = read_text(dir.path() / "analysis/learning_curve.svg");
  EXPECT_THAT(svg, HasSubstr("train/train_size (log)"));
  EXPECT_THAT(svg, HasSubstr(">80 %<"));
}

//---- transfer and multiplier ----

// y = 1 - (k N)^-0.5: a condition worth k times its data, 3 seeds with a tiny seeded wiggle
std::string conditions_summary(const std::string& key, const std::vector<std::pair<std::string, double>>& worth,
                               const std::vector<double>& sizes) {
  std::string csv = "run," + key + ",n,seed,status,seconds,acc\n";
  for (const auto& [name, k] : worth)
    for (double n : sizes)
      for (int seed : {0, 1, 2}) {
        char line[256];
        std::snprintf(line, sizeof line, "%s_%g_%d,%s,%g,%d,ok,1,%.17g\n", name.c_str(), n, seed, name.c_str(), n,
                      seed, 1 - std::pow(k * n, -0.5) + 1e-9 * (seed - 1));
        csv += line;
      }
  return csv;
}

TEST(Analysis, MultiplierReadsEachConditionOffTheBaselineCurve) {
  test::TempDir dir;
  std::string csv = conditions_summary("aug", {{"none", 1}}, {100, 300, 1000, 3000, 10000});
  std::string more = conditions_summary("aug", {{"spatial", 3}, {"mixup", 1.2}}, {1000});
  csv += more.substr(more.find('\n') + 1);
  auto table = table_of(dir, csv);
  auto steps = steps_of("analysis: [{multiplier: {baseline: aug=none, column: acc, x: n}}]");
  ASSERT_EQ(analysis::run_steps(table, steps), 0);
  json::Value result = json::parse(read_text(dir.path() / "analysis/multiplier.json"));
  const auto& rows = result.find("rows")->items();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].find("condition")->as_string(), "spatial");
  EXPECT_NEAR(rows[0].find("multiplier")->as_number(), 3, 1e-4);
  EXPECT_TRUE(rows[0].find("pass")->as_bool());
  EXPECT_NEAR(rows[1].find("multiplier")->as_number(), 1.2, 1e-4);
  EXPECT_FALSE(rows[1].find("pass")->as_bool());
  EXPECT_THAT(read_text(dir.path() / "analysis/multiplier.md"), HasSubstr("| aug | N | mean | N_equiv | multiplier | > 1.5× |"));
}

TEST(Analysis, TransferGivesEfficiencyAndTheTargetDataSaved) {
  test::TempDir dir;
  auto table = table_of(dir, conditions_summary("init", {{"none", 1}, {"ssv2", 4}}, {100, 1000, 10000}));
  auto steps = steps_of("analysis: [{transfer: {column: acc, x: n, by: init}}]");
  ASSERT_EQ(analysis::run_steps(table, steps), 0);
  json::Value result = json::parse(read_text(dir.path() / "analysis/transfer.json"));
  // at N = 100: scratch 0.9, pretrained 1 - 400^-0.5 = 0.95
  const json::Value& first = result.find("rows")->items().at(0);
  EXPECT_NEAR(first.find("efficiency")->as_number(), (0.95 - 0.9) / 0.9, 1e-6);
  EXPECT_FALSE(first.find("negative_transfer")->as_bool());
  // pretraining is worth 4x the data: it reaches scratch's N = 10000 score at 2500
  const json::Value& cell = result.find("matrix")->items().at(0);
  EXPECT_NEAR(cell.find("n_pre")->as_number(), 2500, 1e-2);
  EXPECT_NEAR(cell.find("reduction")->as_number(), 0.75, 1e-6);
}

TEST(Analysis, EfficiencyGivesTheWorthOfACuratedSample) {
  test::TempDir dir;
  std::string csv = conditions_summary("tier", {{"bronze", 1}}, {100, 1000, 10000, 100000});
  std::string gold = conditions_summary("tier", {{"gold", 4}}, {1000});
  csv += gold.substr(gold.find('\n') + 1);
  auto table = table_of(dir, csv);
  ASSERT_EQ(analysis::run_steps(table, steps_of("analysis: [{efficiency: {column: acc, x: n}}]")), 0);
  json::Value result = json::parse(read_text(dir.path() / "analysis/efficiency.json"));
  EXPECT_EQ(result.find("reference")->as_string(), "bronze");  // the tier with the largest N
  const json::Value& last = result.find("rows")->items().back();
  EXPECT_EQ(last.find("tier")->as_string(), "gold");
  EXPECT_NEAR(last.find("worth")->as_number(), 4, 1e-4);
  EXPECT_NEAR(last.find("gain_per_sample")->as_number(), (1 - std::pow(4000.0, -0.5)) / 1000, 1e-9);
}

//---- plots ----

TEST(Plot, LogAxesErrorBarsAndReferenceLines) {
  LinePlot plot;
  plot.title = "curve", plot.x_label = "N", plot.y_label = "acc";
  plot.log_x = true;
  Series points{"mean ± sd", {{100, 0.5}, {1000, 0.7}, {10000, 0.8}}};
  points.errors = {0.05, 0.02, 0};
  points.line = false, points.markers = true;
  plot.series.push_back(points);
  plot.series.push_back({"fit", {{100, 0.5}, {10000, 0.8}}});  // the old two-member form still works
  plot.references.push_back({0.75, "80 %"});
  std::string svg = plot.svg();
  for (const char* decade : {">100<", ">1000<", ">10000<"}) EXPECT_THAT(svg, HasSubstr(decade));
  EXPECT_THAT(svg, HasSubstr("N (log)"));
  EXPECT_THAT(svg, HasSubstr(" h8\" stroke="));
  EXPECT_THAT(svg, HasSubstr(">80 %<"));
  EXPECT_THAT(svg, HasSubstr("<circle"));
  // log-y skips points <= 0 instead of drawing them at -infinity
  LinePlot loss;
  loss.log_y = true;
  loss.series.push_back({"loss", {{1, 1.0}, {2, 0.0}, {3, 0.1}}});
  EXPECT_THAT(loss.svg(), Not(HasSubstr("nan")));
}

//---- mistakes ----

TEST(Analysis, AMissingColumnNamesTheColumnsThatExist) {
  test::TempDir dir;
  auto table = table_of(dir, kSeeds);
  auto steps = steps_of(R"(analysis: [{aggregate: {by: lr, columns: ["evaluate[val]/psnrr"]}}])");
  std::string error = test::error_of([&] { analysis::run_step(table, steps[0]); });
  EXPECT_THAT(error, HasSubstr("analysis step 'aggregate' (analysis.0.aggregate at exp.yaml:1:12)"));
  EXPECT_THAT(error, HasSubstr("no column 'evaluate[val]/psnrr'"));
  EXPECT_THAT(error, HasSubstr("did you mean 'evaluate[val]/psnr'?"));
  EXPECT_THAT(error, HasSubstr("columns: run, lr, seed, status, seconds, evaluate[val]/psnr"));
  // a glob that matches nothing, and a sweep key that is not there
  steps = steps_of(R"(analysis: [{compare: {by: lr, column: "fit/*", reference: 0.1}}, {aggregate: {by: lrr}}])");
  EXPECT_THAT(test::error_of([&] { analysis::run_step(table, steps[0]); }), HasSubstr("no column matches 'fit/*'"));
  EXPECT_THAT(test::error_of([&] { analysis::run_step(table, steps[1]); }), HasSubstr("did you mean 'lr'?"));
}

TEST(Analysis, AFitWithTooFewPointsOrNonPositiveNSaysSo) {
  test::TempDir dir;
  auto one_point = table_of(dir, "run,seed,status,seconds,train/train_size,acc\na,0,ok,1,100,0.5\nb,1,ok,1,100,0.6\n");
  auto steps = steps_of("analysis:\n  - fit: {y: acc}\n");  // x: train*/train_size
  std::string error = test::error_of([&] { analysis::run_step(one_point, steps[0]); });
  EXPECT_THAT(error, HasSubstr("analysis step 'fit' (analysis.0.fit at exp.yaml:2:5)"));
  EXPECT_THAT(error, HasSubstr("power_law of acc needs ≥ 3 distinct N (train/train_size), got 1"));
  auto zero = table_of(dir, "run,seed,status,seconds,train/train_size,acc\na,0,ok,1,0,0.5\nb,1,ok,1,10,0.6\nc,1,ok,1,100,0.7\n");
  error = test::error_of([&] { analysis::run_step(zero, steps[0]); });
  EXPECT_THAT(error, HasSubstr("analysis step 'fit'"));
  EXPECT_THAT(error, HasSubstr("run a has train/train_size = 0; a curve in log N needs N > 0"));
}

TEST(Analysis, BadStepsFailValidationAtTheirLine) {
  EXPECT_THAT(test::error_of([] { steps_of("analysis:\n  - agregate: {}\n"); }),
              HasSubstr("exp.yaml:2:5: analysis.0: unknown analysis step 'agregate'; did you mean 'aggregate'?"));
  EXPECT_THAT(test::error_of([] { steps_of("analysis:\n  - fit: {y: acc, thresholds: [0.8, 1.5]}\n"); }),
              HasSubstr("analysis.0.fit.thresholds"));
  EXPECT_THAT(test::error_of([] { steps_of("analysis:\n  - fit: {y: acc, modle: x}\n"); }),
              HasSubstr("analysis.0.fit.modle: unknown key; did you mean 'models'?"));
  EXPECT_THAT(test::error_of([] {
                steps_of("analysis:\n  - decide:\n      by: prior\n      column: acc\n      rules:\n"
                         "        - {when: \"men(0.9) > 1\", say: x}\n");
              }),
              ContainsRegex("exp.yaml:6:[0-9]+: analysis.0.decide.rules.0.when: unknown function 'men'; did you mean 'mean'\\?"));
  EXPECT_THAT(test::error_of([] { steps_of("analysis:\n  - decide: {rules: [{otherwise: x}]}\n"); }),
              HasSubstr("needs `by:` and `column:`"));
  EXPECT_THAT(test::error_of([] { steps_of("analysis:\n  - compare: {by: a, column: b}\n"); }),
              HasSubstr("needs `pairs: [[a, b], ...]` or `reference: <value>`"));
  EXPECT_THAT(test::error_of([] { steps_of("analysis:\n  - fit: {y: a}\n  - fit: {y: b}\n"); }),
              HasSubstr("a second step writes analysis/fit.*: give one a `name:`"));
}

//---- minimum and curves ----

TEST(Analysis, MinimumFindsTheSmallestNMeetingEveryCriterionAndCopiesItsConfig) {
  test::TempDir dir;
  std::string csv = "run,n,seed,status,seconds,lpips,acc\n";
  const double lpips[] = {0.6, 0.45, 0.35, 0.3}, acc[] = {0.3, 0.5, 0.45, 0.6};
  for (int i = 0; i < 4; ++i)
    for (int seed : {0, 1}) {
      std::string run = "n" + std::to_string(i) + "_s" + std::to_string(seed);
      csv += run + "," + std::to_string(100 << i) + "," + std::to_string(seed) + ",ok,1," +
             std::to_string(lpips[i] + 0.01 * seed) + "," + std::to_string(acc[i]) + "\n";
      dir.write(run + "/config.yaml", "experiment: point " + run + "\n");
    }
  auto table = table_of(dir, csv);
  auto steps = steps_of("analysis:\n  - minimum: {x: n, chance: 0.2, criteria: [\"lpips < 0.4\", \"acc > chance + 0.2\"]}\n");
  ASSERT_EQ(analysis::run_steps(table, steps), 0);
  // 100 fails both, 200 fails lpips (0.455), 400 meets both (0.355 < 0.4, 0.45 > 0.4)
  EXPECT_EQ(read_text(dir.path() / "analysis/min_viable.yaml"), "experiment: point n2_s0\n");
  EXPECT_THAT(read_text(dir.path() / "analysis/minimum.md"), HasSubstr("**minimum viable n: 400"));
  EXPECT_THAT(read_text(dir.path() / "analysis/minimum.md"), HasSubstr("| 200 | 2 | 0.455 | 0.5 | no | yes | no |"));
}

TEST(Analysis, CurvesAverageAMetricsColumnOverSeeds) {
  test::TempDir dir;
  std::string csv = "run,width,seed,status,seconds\n";
  for (int width : {8, 16})
    for (int seed : {0, 1}) {
      std::string run = "w" + std::to_string(width) + "_s" + std::to_string(seed);
      csv += run + "," + std::to_string(width) + "," + std::to_string(seed) + ",ok,1\n";
      std::string lines;
      for (int step = 10; step <= 30; step += 10)
        lines += "{\"procedure\": \"train\", \"loss\": " + std::to_string(1.0 * width / step + seed) +
                 ", \"step\": " + std::to_string(step) + "}\n";
      lines += "{\"data\": \"val\", \"procedure\": \"evaluate\", \"loss\": 9}\n";
      dir.write(run + "/metrics.jsonl", lines);
    }
  auto table = table_of(dir, csv);
  ASSERT_EQ(analysis::run_steps(table, steps_of("analysis: [{curves: {column: train/loss}}]")), 0);
  std::string out = read_text(dir.path() / "analysis/curves.csv");
  // width 8 at step 10: seeds give 0.8 and 1.8
  EXPECT_THAT(out, HasSubstr("8,10,1.3,0.70710678118654"));
  EXPECT_THAT(out, HasSubstr("16,30,1.033333,"));
  EXPECT_THAT(read_text(dir.path() / "analysis/curves.md"), HasSubstr("| 8 | 2 | 3 | 30 |"));
  auto wrong = steps_of("analysis: [{curves: {column: train/los}}]");
  EXPECT_THAT(test::error_of([&] { analysis::run_step(table, wrong[0]); }), HasSubstr("did you mean 'train/loss'?"));
}

//---- table ----

TEST(Analysis, TableGivesMeanAndSdPerNDashesForMissingMetricsAndHours) {
  test::TempDir dir;
  // 2 sizes x 2 seeds; no lpips column (its weights are not installed), fvd only for N = 200
  std::string csv = "run,data.train.subset,seed,status,seconds,train[train]/train_size,"
                    "evaluate[test]/action_acc_pred/top1,evaluate[test]/fvd/fvd\n";
  csv += "a,100,0,ok,1800,100,0.3,\n" "b,100,1,ok,5400,100,0.5,\n";
  csv += "c,200,0,ok,3600,200,0.6,40\n" "d,200,1,ok,3600,200,0.7,60\n";
  auto table = table_of(dir, csv);
  auto steps = steps_of(
      "analysis:\n  - table: {name: seed_table, columns: [\"LPIPS=evaluate[test]/lpips\", "
      "\"FVD=evaluate[test]/fvd/fvd\", \"Action Acc=evaluate[test]/action_acc_pred/top1\"]}\n");
  ASSERT_EQ(analysis::run_steps(table, steps), 0);
  std::string md = read_text(dir.path() / "analysis/seed_table.md");
  EXPECT_THAT(md, HasSubstr("| N | runs | LPIPS | FVD | Action Acc | hours |"));
  // sd of {0.3, 0.5} is 0.1414, of {0.5 h, 1.5 h} 0.7071 (an sd of 0 is not shown); no fvd at N = 100
  EXPECT_THAT(md, HasSubstr("| 100 | 2 | — | — | 0.4 ± 0.1414 | 1 ± 0.7071 |"));
  EXPECT_THAT(md, HasSubstr("| 200 | 2 | — | 50 ± 14.14 | 0.65 ± 0.07071 | 1 |"));
  EXPECT_THAT(md, HasSubstr("mean ± sd over seed"));
  // the missing metric is named, with the nearest column there is
  EXPECT_THAT(md, HasSubstr("— LPIPS: no column evaluate[test]/lpips"));
  EXPECT_THAT(read_text(dir.path() / "analysis/seed_table.csv"), HasSubstr("100,2,,,0,,,0,0.4,0.14142135623730"));
  // a glob matching two columns is an error, as in every step; a malformed entry fails validation
  auto two = steps_of("analysis: [{table: {columns: [\"evaluate*\"]}}]");
  EXPECT_THAT(test::error_of([&] { analysis::run_step(table, two[0]); }), HasSubstr("evaluate*"));
  EXPECT_THAT(test::error_of([] { steps_of("analysis: [{table: {columns: [\"=x\"]}}]"); }),
              HasSubstr("analysis.0.table.columns"));
}

//---- matrix ----

// 3 training domains x 3 seeds, each scored on the 3 test sets: acc[train][test][seed]
const double kMatrixAcc[3][3][3] = {{{0.9, 0.8, 0.85}, {0.5, 0.4, 0.45}, {0.3, 0.35, 0.25}},
                                    {{0.6, 0.65, 0.55}, {0.8, 0.82, 0.78}, {0.4, 0.42, 0.38}},
                                    {{0.2, 0.3, 0.25}, {0.3, 0.32, 0.31}, {0.7, 0.75, 0.65}}};

TEST(Analysis, MatrixGivesTheInDistributionDiagonalAndTheOodDropAsScipy) {
  test::TempDir dir;
  const char* domains[] = {"a", "b", "c"};
  std::string csv = "run,domain,seed,status,seconds,evaluate[a]/acc,evaluate[b]/acc,evaluate[c]/acc\n";
  for (int i = 0; i < 3; ++i)
    for (int s = 0; s < 3; ++s) {
      csv += std::string("\"domain=") + domains[i] + ",seed=" + std::to_string(s) + "\"," + domains[i] + "," +
             std::to_string(s) + ",ok,1";
      for (int j = 0; j < 3; ++j) csv += "," + std::to_string(kMatrixAcc[i][j][s]);
      csv += "\n";
    }
  auto table = table_of(dir, csv);
  auto steps = steps_of("analysis:\n  - matrix: {name: sources, by: domain, columns: "
                        "[\"a=evaluate[a]/acc\", \"b=evaluate[b]/*\", \"c=evaluate[c]/acc\"]}\n");
  ASSERT_EQ(analysis::run_steps(table, steps), 0);
  std::string md = read_text(dir.path() / "analysis/sources.md");
  EXPECT_THAT(md, HasSubstr("| domain \\ test | a | b | c | runs | OOD drop % |"));
  // the diagonal in bold: mean 0.85, sd 0.05, half-width t(0.975, 2) 0.05/sqrt(3) = 0.1242
  EXPECT_THAT(md, HasSubstr("| a | **0.85 ± 0.1242** | 0.45 ± 0.1242 |"));
  // the reference: each row's per-run drop, its mean and half-width; Welch's p per foreign cell
  std::string reference = test::run_python(dir, R"(
import numpy as np
from scipy import stats
acc = np.array([[[0.9, 0.8, 0.85], [0.5, 0.4, 0.45], [0.3, 0.35, 0.25]],
                [[0.6, 0.65, 0.55], [0.8, 0.82, 0.78], [0.4, 0.42, 0.38]],
                [[0.2, 0.3, 0.25], [0.3, 0.32, 0.31], [0.7, 0.75, 0.65]]])
for i in range(3):
    ood = np.mean([acc[i][j] for j in range(3) if j != i], axis=0)
    drop = (acc[i][i] - ood) / np.abs(acc[i][i]) * 100
    half = stats.t.ppf(0.975, 2) * stats.sem(drop)
    print(repr(float(drop.mean())), repr(float(half)))
    for j in range(3):
        if j != i:
            gap = (acc[j][j].mean() - acc[i][j].mean()) / abs(acc[j][j].mean()) * 100
            p = stats.ttest_ind(acc[i][j], acc[j][j], equal_var=False).pvalue
            print(repr(float(gap)), repr(float(p)))
)");
  std::istringstream lines(reference);
  json::Value result = json::parse(read_text(dir.path() / "analysis/sources.json"));
  for (const auto& row : result.find("rows")->items()) {
    double mean = 0, half = 0;
    lines >> mean >> half;
    const json::Value& drop = *row.find("ood_drop_pct");
    EXPECT_NEAR(drop.find("mean")->as_number(), mean, 1e-10);
    const auto& ci = drop.find("ci95")->items();
    EXPECT_NEAR((ci[1].as_number() - ci[0].as_number()) / 2, half, 1e-9);
    for (const auto& cell : row.find("cells")->items()) {
      if (cell.find("in_distribution")->as_bool()) continue;
      double gap = 0, p = 0;
      lines >> gap >> p;
      EXPECT_NEAR(cell.find("drop_pct")->as_number(), gap, 1e-10);
      EXPECT_NEAR(cell.find("p")->as_number(), p, 1e-10);
    }
  }
  // lower is better flips the sign; a column headed by no row value has no diagonal to compare
  auto lower = steps_of("analysis:\n  - matrix: {by: domain, higher_is_better: false, columns: "
                        "[\"a=evaluate[a]/acc\", \"b=evaluate[b]/acc\", \"c=evaluate[c]/acc\"]}\n");
  ASSERT_EQ(analysis::run_steps(table, lower), 0);
  json::Value flipped = json::parse(read_text(dir.path() / "analysis/matrix.json"));
  EXPECT_NEAR(flipped.find("rows")->items()[0].find("ood_drop_pct")->find("mean")->as_number(),
              -result.find("rows")->items()[0].find("ood_drop_pct")->find("mean")->as_number(), 1e-12);
  auto none = steps_of("analysis:\n  - matrix: {by: domain, columns: [\"x=evaluate[a]/acc\", \"y=evaluate[b]/acc\"]}\n");
  EXPECT_THAT(test::error_of([&] { analysis::run_step(table, none[0]); }),
              HasSubstr("no column is headed by a value of domain (a, b, c)"));
  EXPECT_THAT(test::error_of([] { steps_of("analysis: [{matrix: {by: d, columns: [\"evaluate[a]/acc\", \"b=x\"]}}]"); }),
              HasSubstr("is not `<value of by>=<column>`"));
  auto missing = steps_of("analysis:\n  - matrix: {by: domain, columns: [\"a=evaluate[a]/acc\", \"b=evaluate[b]/psnr\"]}\n");
  EXPECT_THAT(test::error_of([&] { analysis::run_step(table, missing[0]); }), HasSubstr("evaluate[b]/acc"));
}

}  // namespace
}  // namespace wm
