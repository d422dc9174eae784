// The analysis steps as seed 000's study configs use them (configs/transfer.yaml,
// configs/augmentation.yaml): sweep keys that are dotted config paths, and a multiplier
// condition that beats everything the baseline curve can reach.
#include <cmath>

#include "analysis/analysis.h"
#include "config_node.h"
#include "test_support.h"
#include "wm/io/json.h"

namespace wm {
namespace {

using ::testing::HasSubstr;
using test::read_text;
namespace json = io::json;

std::vector<analysis::Step> steps_of(const std::string& yaml) {
  ConfigNode root = parse_yaml(yaml, "exp.yaml");
  return analysis::bind_steps(root.find("analysis"));
}

// psnr = c - 8 (k N)^-0.5 with c = 24: a condition worth k times its data; two equal seeds
std::string psnr_summary(const std::vector<std::pair<std::string, double>>& worth, const std::vector<double>& sizes,
                         double c = 24) {
  std::string csv = "run,global_vars.augment,data.train.subset,seed,status,seconds,train[train]/train_size,"
                    "evaluate[test]/psnr\n";
  for (const auto& [name, k] : worth)
    for (double n : sizes)
      for (int seed : {0, 1}) {
        char line[256];
        std::snprintf(line, sizeof line, "\"%s,%g,%d\",%s,%g,%d,ok,1,%g,%.17g\n", name.c_str(), n, seed, name.c_str(), n,
                      seed, n, c - 8 * std::pow(k * n, -0.5));
        csv += line;
      }
  return csv;
}

std::string without_header(const std::string& csv) { return csv.substr(csv.find('\n') + 1); }

const char* kMultiplier = R"Y(analysis:
  - multiplier: {name: augmentation, baseline: "global_vars.augment=none", x: "train[train]/train_size",
                 column: "evaluate[test]/psnr"}
)Y";

TEST(StudyAnalysis, AConditionPastTheBaselinesAsymptotePassesWithoutAnNEquiv) {
  test::TempDir dir;
  std::string csv = psnr_summary({{"none", 1}}, {40, 80, 160, 320});
  csv += without_header(psnr_summary({{"spatial", 2}}, {80}));
  csv += without_header(psnr_summary({{"mixup", 1}}, {80}, 25));  // 0.1 dB above c = 24
  dir.write("summary.csv", csv);
  ASSERT_EQ(analysis::run_steps(dir.path(), steps_of(kMultiplier)), 0);

  json::Value result = json::parse(read_text(dir.path() / "analysis/augmentation.json"));
  const auto& rows = result.find("rows")->items();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].find("condition")->as_string(), "spatial");
  EXPECT_NEAR(rows[0].find("multiplier")->as_number(), 2, 1e-4);
  EXPECT_FALSE(rows[0].find("beyond_asymptote")->as_bool());
  EXPECT_EQ(rows[1].find("condition")->as_string(), "mixup");
  EXPECT_TRUE(rows[1].find("beyond_asymptote")->as_bool());
  EXPECT_TRUE(rows[1].find("pass")->as_bool());
  EXPECT_TRUE(rows[1].find("n_equiv")->is_null());

  std::string md = read_text(dir.path() / "analysis/augmentation.md");
  EXPECT_THAT(md, HasSubstr("| global_vars.augment | N | mean | N_equiv | multiplier | > 1.5× |"));
  EXPECT_THAT(md, HasSubstr("| spatial | 80 | 23.37 | 160 | 2 | pass |"));
  EXPECT_THAT(md, HasSubstr("| mixup | 80 | 24.11 | ∞ (past c) | ∞ | pass |"));
  EXPECT_THAT(md, HasSubstr("beyond the baseline power law's asymptote c = 24"));
}

TEST(StudyAnalysis, AConditionWorseThanTheCurvesStartFails) {
  // below the baseline at its smallest N: N_equiv is read off the extrapolated curve, < N
  test::TempDir dir;
  std::string csv = psnr_summary({{"none", 1}}, {40, 80, 160, 320});
  csv += without_header(psnr_summary({{"temporal", 0.25}}, {80}));
  dir.write("summary.csv", csv);
  ASSERT_EQ(analysis::run_steps(dir.path(), steps_of(kMultiplier)), 0);
  json::Value result = json::parse(read_text(dir.path() / "analysis/augmentation.json"));
  const auto& row = result.find("rows")->items().at(0);
  EXPECT_NEAR(row.find("n_equiv")->as_number(), 20, 1e-3);
  EXPECT_NEAR(row.find("multiplier")->as_number(), 0.25, 1e-5);
  EXPECT_FALSE(row.find("pass")->as_bool());
  EXPECT_FALSE(row.find("beyond_asymptote")->as_bool());
}

}  // namespace
}  // namespace wm
