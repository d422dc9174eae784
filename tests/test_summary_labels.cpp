// Run summaries keep every step apart (`rollout[random]/...` beside `rollout[model]/...`), and a
// data study's N is real data: count subsets are exact, and train logs the size it trained on.
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "test_support.h"
#include "wm/io/json.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

using test::read_text;

// status.json's metrics
std::map<std::string, double> status_metrics(const fs::path& run) {
  std::map<std::string, double> values;
  io::json::Value status = io::json::parse(read_text(run / "status.json"), "status.json");
  for (const auto& [key, value] : status.find("metrics")->members()) values[key] = value.as_number();
  return values;
}

// summary.csv as rows of column -> cell
std::vector<std::map<std::string, std::string>> summary_rows(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  auto cells = [](const std::string& text) {
    std::vector<std::string> out;
    std::string cell;
    bool quoted = false;
    for (char c : text) {
      if (c == '"') quoted = !quoted;
      else if (c == ',' && !quoted) out.push_back(cell), cell.clear();
      else cell += c;
    }
    out.push_back(cell);
    return out;
  };
  std::getline(in, line);
  auto header = cells(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    auto row = cells(line);
    std::map<std::string, std::string> named;
    for (size_t i = 0; i < header.size() && i < row.size(); ++i) named[header[i]] = row[i];
    rows.push_back(named);
  }
  return rows;
}

int run(const std::string& arguments, const fs::path& cwd, std::string& output) {
  int code = 0;
  output = test::run_wmhost(arguments, cwd, code);
  return code;
}

//---- X3: labelled summaries ----

// configs/vjepa_ac_synthetic.yaml as shipped, shortened: random actions, then CEM with the model
TEST(SummaryLabels, RolloutsOfTwoPoliciesKeepTwoSummaries) {
  test::TempDir dir;
  std::string output;
  std::string shorter =
      " data.train.params.samples=200 procedure.0.train.steps=20 procedure.0.train.warmup=2"
      " procedure.0.train.log_every=10 procedure.0.train.checkpoint_every=20"
      " procedure.1.evaluate.max_batches=1 procedure.2.rollout.episodes=4"
      " procedure.3.rollout.episodes=4 model.params.plan_samples=16 model.params.plan_iterations=1";
  ASSERT_EQ(run("run " + std::string(WM_TEST_SOURCE_DIR) + "/configs/vjepa_ac_synthetic.yaml --out run" +
                    shorter, dir.path(), output), 0) << output;
  auto values = status_metrics(dir.path() / "run");
  ASSERT_TRUE(values.count("rollout[random]/success_rate")) << read_text(dir.path() / "run/status.json");
  ASSERT_TRUE(values.count("rollout[model]/success_rate"));
  EXPECT_FALSE(values.count("rollout/success_rate")) << "no unlabelled key left to overwrite";
  EXPECT_TRUE(values.count("train[train]/loss"));
  EXPECT_TRUE(values.count("evaluate[val]/samples"));
  // each key holds its own policy's row of rollout.csv (which rounds to 4 significant digits)
  std::ifstream table(dir.path() / "run/rollout.csv");
  std::string header, line;
  std::getline(table, header);
  std::vector<std::string> columns;
  std::stringstream split(header);
  for (std::string cell; std::getline(split, cell, ',');) columns.push_back(cell);
  int rows = 0;
  while (std::getline(table, line)) {
    std::stringstream cells(line);
    std::vector<std::string> row;
    for (std::string cell; std::getline(cells, cell, ',');) row.push_back(cell);
    ASSERT_EQ(row.size(), columns.size()) << line;
    for (size_t c = 1; c < row.size(); ++c)
      EXPECT_NEAR(values.at("rollout[" + row[0] + "]/" + columns[c]), std::stod(row[c]),
                  5e-4 * std::abs(std::stod(row[c])) + 1e-12)
          << row[0] << " " << columns[c];
    ++rows;
  }
  EXPECT_EQ(rows, 2);
  // two policies on the same episodes: the planner's discs end elsewhere than random pushes'
  EXPECT_NE(values.at("rollout[random]/final_distance_mean"), values.at("rollout[model]/final_distance_mean"));
}

const char* kTwoEvaluations = R"(experiment: two_evaluations
data:
  val_a: {plugin: synthetic, split: val, params: {samples: 200, frames: 4, size: 16, push: 0.01}}
  val_b: {plugin: synthetic, split: val, params: {samples: 60, frames: 4, size: 16, push: 0.08, objects: 3}}
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
procedure:
  - evaluate: {data: val_a, batch_size: 8, preview: 0}
  - evaluate: {data: val_b, batch_size: 8, preview: 0}
  - evaluate: {data: val_a, batch_size: 8, preview: 0, max_batches: 1, name: first_batch}
sweep: {seed: [0, 1]}
)";

TEST(SummaryLabels, EvaluationsOnTwoDataSetsKeepTheirOwnColumns) {
  test::TempDir dir;
  dir.write("exp.yaml", kTwoEvaluations);
  std::string output;
  ASSERT_EQ(run("run exp.yaml --out sweep", dir.path(), output), 0) << output;
  auto rows = summary_rows(dir.path() / "sweep/summary.csv");
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    ASSERT_TRUE(row.count("evaluate[val_a]/psnr") && row.count("evaluate[val_b]/psnr"))
        << read_text(dir.path() / "sweep/summary.csv");
    EXPECT_NE(row.at("evaluate[val_a]/psnr"), row.at("evaluate[val_b]/psnr"));
    EXPECT_NE(row.at("evaluate[val_a]/samples"), row.at("evaluate[first_batch]/samples"));
    EXPECT_EQ(row.at("evaluate[first_batch]/samples"), "8");
    EXPECT_FALSE(row.count("evaluate/psnr"));
  }
  // a named step writes its own table beside evaluate_val_a.md
  EXPECT_TRUE(fs::exists(dir.path() / "sweep/seed=0/evaluate_first_batch.csv"));
  EXPECT_THAT(read_text(dir.path() / "sweep/seed=0/evaluate_val_a.csv"), Not(HasSubstr("samples,8\n")));
  // metrics.jsonl lines carry the step's label
  std::string jsonl = read_text(dir.path() / "sweep/seed=0/metrics.jsonl");
  EXPECT_THAT(jsonl, HasSubstr("\"data\": \"val_a\", \"label\": \"first_batch\""));
  EXPECT_THAT(jsonl, HasSubstr("\"data\": \"val_b\", \"label\": \"val_b\""));
}

TEST(SummaryLabels, StepsThatWouldOverwriteEachOtherAreRefused) {
  test::TempDir dir;
  std::string config = kTwoEvaluations;
  config.replace(config.find("sweep:"), std::string::npos, "");
  std::string output;
  // the same data twice without a name
  dir.write("same.yaml", config + "  - evaluate: {data: val_b, batch_size: 4}\n");
  EXPECT_EQ(run("validate same.yaml", dir.path(), output), 2);
  EXPECT_THAT(output, HasSubstr("same.yaml:11:5: procedure.3.evaluate: reports as evaluate[val_b]/..., "
                                "like procedure.1.evaluate at same.yaml:9:5"));
  EXPECT_THAT(output, HasSubstr("give one of them a `name:`"));
  // two metrics of one name
  std::string metrics = config;
  metrics.replace(metrics.find("metrics: [{plugin: psnr}]"), 25,
                  "metrics: [{plugin: psnr}, {plugin: psnr, params: {data_range: 255}}]");
  dir.write("metrics.yaml", metrics);
  EXPECT_EQ(run("validate metrics.yaml", dir.path(), output), 2);
  EXPECT_THAT(output, HasSubstr("metrics.1: metric name 'psnr' is also the name of metrics.0 at metrics.yaml:6:11"));
  // a name that would break the key
  dir.write("bad.yaml", config + "  - evaluate: {data: val_b, name: \"a/b\"}\n");
  EXPECT_EQ(run("validate bad.yaml", dir.path(), output), 2);
  EXPECT_THAT(output, HasSubstr("procedure.3.evaluate.name: expected a label without '[', ']', '/' or control characters"));
}

//---- X2: count subsets and train_size ----

const char* kLearningCurve = R"(experiment: counts
data:
  train: {plugin: synthetic, split: train, subset: 100, params: {samples: 400, frames: 4, size: 16}}
model:
  plugin: two_stream
  params: {image_size: 16, patch: 4, dim: 16, depth: 1, heads: 2, change_dim: 4,
           decoder_dim: 16, decoder_depth: 1, max_gap: 2}
procedure:
  - train: {steps: 2, batch_size: 4, lr: 1.0e-3, warmup: 1, log_every: 1, checkpoint_every: 2}
)";

TEST(SummaryLabels, SweepOverCountSubsetsHasTheTrainSizeColumn) {
  test::TempDir dir;
  dir.write("exp.yaml", std::string(kLearningCurve) + "sweep: {data.train.subset: [20, 100, 0.5]}\n");
  std::string output;
  ASSERT_EQ(run("run exp.yaml --out sweep", dir.path(), output), 0) << output;
  auto rows = summary_rows(dir.path() / "sweep/summary.csv");
  ASSERT_EQ(rows.size(), 3u);
  std::regex logged("data\\.train: synthetic \\(([0-9]+) of 400 samples\\)");
  for (const auto& row : rows) {
    ASSERT_TRUE(row.count("train[train]/train_size")) << read_text(dir.path() / "sweep/summary.csv");
    std::string log = read_text(dir.path() / "sweep" / row.at("run") / "log.txt");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(log, match, logged)) << log;
    EXPECT_EQ(row.at("train[train]/train_size"), match[1].str()) << row.at("run");
    EXPECT_THAT(log, HasSubstr("data.train: " + match[1].str() + " samples in " + match[1].str() +
                               " groups (split by group)"));
  }
  EXPECT_EQ(rows[0].at("train[train]/train_size"), "20");
  EXPECT_EQ(rows[1].at("train[train]/train_size"), "100");
}

TEST(SummaryLabels, CountSubsetErrorsPointAtTheYamlLine) {
  test::TempDir dir;
  std::string config = kLearningCurve;
  dir.write("large.yaml", std::regex_replace(config, std::regex("subset: 100"), "subset: 5000"));
  std::string output;
  EXPECT_EQ(run("run large.yaml --out run", dir.path(), output), 1);
  EXPECT_TRUE(std::regex_search(output, std::regex("large\\.yaml:3:[0-9]+: data\\.train\\.subset: "
                                                   "subset 5000 > [0-9]+ samples in data\\.train \\(split train\\)")))
      << output;
  dir.write("fraction.yaml", std::regex_replace(config, std::regex("subset: 100"), "subset: 10.5"));
  EXPECT_EQ(run("validate fraction.yaml", dir.path(), output), 2);
  EXPECT_THAT(output, HasSubstr("data.train.subset: is neither a fraction (at most 1) nor a whole number"));
  dir.write("regex.yaml", std::regex_replace(config, std::regex("subset: 100"), "split_by: \"^x(\""));
  EXPECT_EQ(run("validate regex.yaml", dir.path(), output), 2);
  EXPECT_THAT(output, HasSubstr("data.train.split_by: split_by '^x(' is neither group, sample nor a valid regex"));
  dir.write("miss.yaml", std::regex_replace(config, std::regex("subset: 100"), "split_by: \"^(clip)-\""));
  EXPECT_EQ(run("run miss.yaml --out miss", dir.path(), output), 1);
  EXPECT_THAT(output, HasSubstr("data.train.split_by: split_by '^(clip)-' does not match sample id 'synthetic-0'"));
}

}  // namespace
}  // namespace wm
