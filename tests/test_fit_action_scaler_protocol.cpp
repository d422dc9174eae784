// Seed 003's protocol items for fit_action_scaler: the actions the model sees (stride and clips,
// equal to the webdataset plugin's `actions`), plausibility warnings, parallel shard readers,
// the write_fixture generator and configs/action_scaler.yaml end to end.
#include <ATen/ATen.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>

#include "procedures/action_scaler_fit.h"
#include "procedures/scaler_report.h"
#include "procedures/vpt_fixture.h"
#include "test_support.h"
#include "wm/io/action_scaler.h"
#include "wm/io/tar.h"
#include "wm/io/webdataset.h"
#ifdef WM_HAVE_VIDEO_TEST
#include "wm/video/video.h"
#endif

namespace wm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

//---- helpers ----

std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// one shard of `samples` recordings whose records come from record(t)
void write_shard(const fs::path& file, int samples, int frames,
                 const std::function<std::string(int sample, int t)>& record,
                 const std::string& video = "stand-in: never decoded") {
  io::TarWriter writer(file);
  for (int k = 0; k < samples; ++k) {
    std::string jsonl;
    for (int t = 0; t < frames; ++t) jsonl += record(k, t) + "\n";
    writer.add("rec" + std::to_string(k) + ".mp4", video);
    writer.add("rec" + std::to_string(k) + ".jsonl", jsonl);
  }
  writer.close();
}

std::string fit_yaml(const std::string& params) {
  return "experiment: fit\nseed: 1\nprocedure:\n  - fit_action_scaler: {shards: \"shards/*.tar\", " +
         params + "}\n";
}

//---- S1: the actions the model sees ----

TEST(FitActionScalerStride, AlternatingMouseCancelsOverAStrideOfTwo) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "shards");
  // mouse.dx = +1, -1, +1, ... : per-frame rows have std 1, sums over 2 frames are all 0
  write_shard(dir.path() / "shards/shard-000000.tar", 10, 21, [](int, int t) {
    return std::string("{\"mouse\": {\"dx\": ") + (t % 2 == 0 ? "1" : "-1") + "}}";
  });
  std::string common = "action_fields: [mouse.dx], holdout: 0, convergence: false, ";
  dir.write("one.yaml", fit_yaml(common + "stride: 1"));
  dir.write("two.yaml", fit_yaml(common + "stride: 2"));
  int code;
  std::string output = test::run_wmhost("run one.yaml --out one", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  auto one = io::ActionScaler::load(dir.path() / "one/action_scaler.yaml");
  EXPECT_EQ(one.count, 10 * 20);
  EXPECT_DOUBLE_EQ(one.mean[0], 0.0);
  EXPECT_DOUBLE_EQ(one.std[0], 1.0);
  EXPECT_THAT(output, Not(HasSubstr("std ~0")));

  output = test::run_wmhost("run two.yaml --out two", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  auto two = io::ActionScaler::load(dir.path() / "two/action_scaler.yaml");
  EXPECT_EQ(two.count, 10 * 10) << "21 frames: 10 strides of 2";
  EXPECT_EQ(two.mean[0], 0.0);
  EXPECT_EQ(two.std[0], 0.0);
  EXPECT_THAT(output, HasSubstr("'mouse.dx' has std ~0"));
  EXPECT_THAT(output, HasSubstr("each row sums a stride of 2 frames"));
}

TEST(FitActionScalerStride, ClipsAreCutAsTheWebdatasetPluginCutsThem) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "shards");
  // dx = t: clips of 3 frames at stride 2 span 5 records: [0, 5), [5, 10); 12 records hold 2
  write_shard(dir.path() / "shards/shard-000000.tar", 1, 12,
              [](int, int t) { return "{\"mouse\": {\"dx\": " + std::to_string(t) + "}}"; });
  ActionScalerFitOptions options;
  options.shards = {dir.path() / "shards/shard-000000.tar"};
  options.fields = {"mouse.dx"};
  options.stride = 2, options.frames = 3, options.holdout = 0, options.convergence = false;
  options.progress = false;
  // rows: 0+1, 2+3 | 5+6, 7+8 -> 1, 5, 11, 15
  ActionScalerFit all = fit_action_scaler(options);
  EXPECT_EQ(all.scaler.count, 4);
  EXPECT_DOUBLE_EQ(all.scaler.mean[0], 8.0);
  options.every_clip = false;  // clips: first
  ActionScalerFit first = fit_action_scaler(options);
  EXPECT_EQ(first.scaler.count, 2);
  EXPECT_DOUBLE_EQ(first.scaler.mean[0], 3.0);
  options.frames = 0;  // whole sample: 11 rows -> 5 strides
  EXPECT_EQ(fit_action_scaler(options).scaler.count, 5);
  options.frames = 13;  // longer than the recording: nothing to fit, and the error says why
  EXPECT_THAT(test::error_of([&] { fit_action_scaler(options); }),
              HasSubstr("1 sample(s) were shorter than one clip"));
}

#ifdef WM_HAVE_VIDEO_TEST
TEST(FitActionScalerStride, EqualsTheWebdatasetActionsAtStrideTwo) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "shards");
  constexpr int kFrames = 23;
  auto frames = at::zeros({kFrames, 3, 16, 16}, at::kByte);
  video::write(dir.path() / "v.mp4", frames, {20, 30, "ultrafast"});
  std::ifstream in(dir.path() / "v.mp4", std::ios::binary);
  std::string mp4((std::istreambuf_iterator<char>(in)), {});
  // dyadic values: float32 holds every per-frame value and every 2-frame sum exactly, so the
  // plugin's float32 `actions` and the float64 fit see the same numbers
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> step(-800, 800);
  for (int s = 0; s < 2; ++s) {
    std::vector<double> yaw(6, 0.0), pitch(6, 0.0);
    write_shard(dir.path() / ("shards/shard-00000" + std::to_string(s) + ".tar"), 6, kFrames,
                [&](int k, int) {
                  auto exact = [](double v) {
                    char text[40];
                    std::snprintf(text, sizeof text, "%.17g", v);
                    return std::string(text);
                  };
                  std::string line = "{\"mouse\": {\"dx\": " + exact(step(rng) / 8.0) +
                                     ", \"dy\": " + exact(step(rng) / 16.0) +
                                     "}, \"yaw\": " + exact(yaw[k]) +
                                     ", \"pitch\": " + exact(pitch[k]) + "}";
                  yaw[k] += step(rng) / 1024.0, pitch[k] += step(rng) / 2048.0;
                  return line;
                }, mp4);
  }
  std::string pattern = (dir.path() / "shards/shard-{000000..000001}.tar").string();
  auto dataset = test::make<Dataset>("webdataset", "{shards: \"" + pattern +
                                                       "\", frames: 5, stride: 2, clips: all}");
  ASSERT_EQ(dataset->size(), 2 * 6 * 2) << "23 records hold two clips of 9";
  std::vector<at::Tensor> actions;
  for (int64_t i = 0; i < dataset->size(); ++i)
    actions.push_back(dataset->get(i).tensors.at("actions").to(at::kDouble));
  auto rows = at::cat(actions);
  auto mean = rows.mean(0), spread = rows.std(0, /*unbiased=*/false);

  ActionScalerFitOptions options;
  options.shards = io::expand_shard_pattern(pattern);
  options.stride = 2, options.frames = 5, options.holdout = 0, options.convergence = false;
  options.progress = false;
  ActionScalerFit fit = fit_action_scaler(options);
  ASSERT_EQ(fit.scaler.count, rows.size(0));
  for (int64_t d = 0; d < 4; ++d) {
    EXPECT_NEAR(fit.scaler.mean[d], mean[d].item<double>(), 1e-12) << fit.scaler.names[d];
    EXPECT_NEAR(fit.scaler.std[d], spread[d].item<double>(), 1e-12) << fit.scaler.names[d];
  }
}
#endif

//---- S4: plausibility warnings ----

TEST(FitActionScalerWarnings, FewRowsAndAStdOutsideTheExpectedRange) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "shards");
  // 50 recordings x 101 frames = 5,000 rows; dx = +-200 (std 200), the rest plausible
  write_shard(dir.path() / "shards/shard-000000.tar", 50, 101, [](int, int t) {
    bool even = t % 2 == 0;
    return std::string("{\"mouse\": {\"dx\": ") + (even ? "200" : "-200") + ", \"dy\": " +
           (even ? "10" : "-10") + "}, \"yaw\": " + (even ? "0" : "0.1") + ", \"pitch\": " +
           (t % 4 < 2 ? "0" : "0.05") + "}";
  });
  dir.write("exp.yaml", fit_yaml("holdout: 0, convergence: false"));
  int code;
  std::string output = test::run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("mouse.dx std 200 outside the expected 5–50"));
  EXPECT_THAT(output, Not(HasSubstr("mouse.dy std")));
  EXPECT_THAT(output, Not(HasSubstr("yaw_diff std")));
  EXPECT_THAT(output, HasSubstr("only 5,000 rows, fewer than 10,000 (warn_below_samples)"));
  std::ifstream md(dir.path() / "run/action_scaler.md");
  std::string report((std::istreambuf_iterator<char>(md)), {});
  EXPECT_THAT(report, HasSubstr("| mouse.dx | 0 | 200 | 5–50 |"));
  EXPECT_THAT(report, HasSubstr("- mouse.dx std 200 outside the expected 5–50"));

  // own ranges and no sample-count warning; a malformed range fails validation at its key
  dir.write("own.yaml", fit_yaml("holdout: 0, convergence: false, warn_below_samples: 0, "
                                 "expected_std: [\"mouse.dx 100..300\"]"));
  output = test::run_wmhost("run own.yaml --out own", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, Not(HasSubstr("outside the expected")));
  EXPECT_THAT(output, Not(HasSubstr("warn_below_samples")));
  dir.write("bad.yaml", fit_yaml("expected_std: [\"mouse.dx 50..5\"]"));
  output = test::run_wmhost("validate bad.yaml", dir.path(), code);
  EXPECT_EQ(code, 2);
  EXPECT_THAT(output, HasSubstr("procedure.0.fit_action_scaler.expected_std"));
  EXPECT_THAT(output, HasSubstr("need 0 <= low <= high"));
}

//---- S5: parallel shard readers ----

TEST(FitActionScalerThreads, TwoThreadsGiveBitIdenticalStatistics) {
  test::TempDir dir;
  VptFixtureOptions fixture;
  fixture.shards = 8, fixture.samples_per_shard = 12, fixture.frames = 60, fixture.video = "stand_in";
  auto written = write_vpt_fixture(dir.path() / "shards", fixture);
  ActionScalerFitOptions options;
  options.shards = written.shards;
  options.progress = false;
  options.holdout = 0.2;
  options.check_every = 500, options.min_samples = 500, options.tolerance = 0.05;
  for (bool convergence : {false, true}) {
    options.convergence = convergence;
    options.max_samples = convergence ? 100000 : 3333;  // the budget ends inside a shard
    options.threads = 1;
    ActionScalerFit one = fit_action_scaler(options);
    for (int64_t threads : {2, 3}) {
      options.threads = threads;
      ActionScalerFit many = fit_action_scaler(options);
      EXPECT_EQ(many.scaler.mean, one.scaler.mean) << threads;
      EXPECT_EQ(many.scaler.std, one.scaler.std) << threads;
      EXPECT_EQ(many.scaler.count, one.scaler.count);
      EXPECT_EQ(many.scaler.converged, one.scaler.converged);
      EXPECT_EQ(many.holdout_mean, one.holdout_mean);
      EXPECT_EQ(many.samples_read, one.samples_read);
      EXPECT_EQ(many.shards_used, one.shards_used);
    }
    if (!convergence) EXPECT_EQ(one.scaler.count, 3333);
    if (convergence) EXPECT_TRUE(one.scaler.converged);
  }
}

//---- S8: the fixture and configs/action_scaler.yaml ----

TEST(WriteFixture, SameOptionsSameBytesAndTheGeneratorsStatistics) {
  test::TempDir dir;
  VptFixtureOptions options;
  options.shards = 2, options.samples_per_shard = 3, options.frames = 5, options.video = "stand_in";
  options.seed = 4;
  auto a = write_vpt_fixture(dir.path() / "a", options);
  auto b = write_vpt_fixture(dir.path() / "b", options);
  auto bytes = [](const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  EXPECT_EQ(bytes(a.shards[1]), bytes(b.shards[1]));
  EXPECT_EQ(a.rows, 2 * 3 * 4);
  EXPECT_EQ(io::expand_shard_pattern(a.pattern).size(), 2u);
  options.seed = 5;
  EXPECT_NE(bytes(write_vpt_fixture(dir.path() / "c", options).shards[1]), bytes(a.shards[1]));
  auto records = io::index_shard(a.shards[0]);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_TRUE(records[0].find("mp4") && records[0].find("jsonl"));
  EXPECT_THAT(test::error_of([&] { vpt_fixture_truth("minecraft"); }), HasSubstr("vpt, normal"));
}

TEST(ActionScalerConfig, FitsTheFixtureWithinOnePercentAndConverges) {
  test::TempDir dir;
  int code;
  std::string config = (fs::path(WM_TEST_SOURCE_DIR) / "configs/action_scaler.yaml").string();
  std::string output = test::run_wmhost("run " + config + " --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("SCALER FITTING COMPLETE"));
  EXPECT_THAT(output, HasSubstr("Converged: True"));
  EXPECT_THAT(output, HasSubstr("held-out check on"));
  auto scaler = io::ActionScaler::load(dir.path() / "run/action_scaler.yaml");
  EXPECT_TRUE(scaler.converged);
  VptFixtureStats truth = vpt_fixture_truth("vpt");
  ASSERT_EQ(scaler.names, truth.names);
  for (size_t d = 0; d < 4; ++d)
    EXPECT_NEAR(scaler.std[d], truth.std[d], 0.01 * truth.std[d]) << truth.names[d];
  EXPECT_TRUE(fs::exists(dir.path() / "run/action_scaler.md"));
  EXPECT_TRUE(fs::exists(dir.path() / "run/fixture/fixture.yaml"));
  EXPECT_EQ(scaler.count % 100, 0) << "whole recordings of 100 actions until the stop";
}

//---- S2: scikit-learn pickles ----

// x as text rows, for the reference script
std::string matrix_text(const at::Tensor& x) {
  std::string text;
  auto c = x.contiguous();
  const double* v = c.data_ptr<double>();
  for (int64_t r = 0; r < c.size(0); ++r) {
    for (int64_t d = 0; d < c.size(1); ++d) {
      char cell[40];
      std::snprintf(cell, sizeof cell, "%s%.17g", d ? " " : "", v[r * c.size(1) + d]);
      text += cell;
    }
    text += "\n";
  }
  return text;
}

at::Tensor parse_matrix(const std::string& text, int64_t rows, int64_t columns) {
  std::istringstream in(text);
  std::vector<double> values;
  for (double v; in >> v;) values.push_back(v);
  EXPECT_EQ(static_cast<int64_t>(values.size()), rows * columns) << text;
  values.resize(static_cast<size_t>(rows * columns));
  return at::from_blob(values.data(), {rows, columns}, at::kDouble).clone();
}

TEST(SklearnPickles, TransformEqualsApplyBothWays) {
  if (std::string missing = sklearn_missing(); !missing.empty()) GTEST_SKIP() << missing;
  test::TempDir dir;
  auto scripts = fs::path(WM_TEST_SOURCE_DIR) / "scripts";
  at::manual_seed(0);
  auto x = at::randn({50, 4}, at::kDouble) * 7 + 3;
  dir.write("x.txt", matrix_text(x));

  // wmhost -> sklearn: a fitted scaler (one constant dimension) as a pickle
  io::ActionScaler ours{{"mouse.dx", "mouse.dy", "yaw_diff", "pitch_diff"},
                        {0.125, -0.087, 0.003, 0.0}, {12.453, 8.932, 0.142, 0.0}, 100352, true};
  ours.save(dir.path() / "ours.yaml");
  const char* transform = R"(
import sys, joblib, numpy as np
s = joblib.load(sys.argv[2])
x = np.loadtxt(sys.argv[1] + "/x.txt")
print(s.n_features_in_, int(s.n_samples_seen_), " ".join(s.wm_names) if hasattr(s, "wm_names") else "-")
for row in s.transform(x): print(" ".join(repr(float(v)) for v in row))
)";
  std::string to_pkl = sklearn_python() + " " + (scripts / "scaler_to_sklearn.py").string() + " " +
                       (dir.path() / "ours.yaml").string() + " " + (dir.path() / "ours.pkl").string();
  ASSERT_EQ(std::system(to_pkl.c_str()), 0);
  std::istringstream out(test::run_python(dir, transform, (dir.path() / "ours.pkl").string()));
  int64_t features, seen;
  std::string names, rest;
  out >> features >> seen;
  std::getline(out, names);
  EXPECT_EQ(features, 4);
  EXPECT_EQ(seen, 100352);
  EXPECT_EQ(names, " mouse.dx mouse.dy yaw_diff pitch_diff");
  std::string values((std::istreambuf_iterator<char>(out)), {});
  auto theirs = parse_matrix(values, 50, 4);
  EXPECT_LE((theirs - ours.apply(x)).abs().max().item<double>(), 1e-12);

  // sklearn -> wmhost: a StandardScaler fitted in Python, read back as a scaler file
  const char* fit = R"(
import sys, joblib, numpy as np
from sklearn.preprocessing import StandardScaler
rng = np.random.default_rng(1)
y = rng.normal([1, -2, 0.5, 4], [3, 0.5, 0.01, 1], size=(500, 4))
joblib.dump(StandardScaler().fit(y), sys.argv[1] + "/theirs.pkl")
)";
  test::run_python(dir, fit);
  std::string to_yaml = sklearn_python() + " " + (scripts / "sklearn_to_scaler.py").string() + " " +
                        (dir.path() / "theirs.pkl").string() + " " +
                        (dir.path() / "theirs.yaml").string();
  ASSERT_EQ(std::system(to_yaml.c_str()), 0);
  auto loaded = io::ActionScaler::load(dir.path() / "theirs.yaml");
  EXPECT_EQ(loaded.count, 500);
  EXPECT_EQ(loaded.names[0], "mouse.dx") << "four features take the seed's names";
  std::istringstream back(test::run_python(dir, transform, (dir.path() / "theirs.pkl").string()));
  std::getline(back, rest);
  std::string back_values((std::istreambuf_iterator<char>(back)), {});
  EXPECT_LE((parse_matrix(back_values, 50, 4) - loaded.apply(x)).abs().max().item<double>(), 1e-12);
}

TEST(SklearnPickles, FormatPklWritesThePickleBesideTheYaml) {
  if (std::string missing = sklearn_missing(); !missing.empty()) GTEST_SKIP() << missing;
  test::TempDir dir;
  fs::create_directories(dir.path() / "shards");
  write_shard(dir.path() / "shards/shard-000000.tar", 4, 11, [](int k, int t) {
    return "{\"mouse\": {\"dx\": " + std::to_string(k * t % 7) + "}}";
  });
  dir.write("exp.yaml", fit_yaml("action_fields: [mouse.dx], holdout: 0, format: pkl, "
                                 "output: out/vpt_action_scaler.pkl, expected_std: []"));
  int code;
  std::string output = test::run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_TRUE(fs::exists(dir.path() / "run/action_scaler.yaml"));
  EXPECT_TRUE(fs::exists(dir.path() / "run/action_scaler.pkl"));
  EXPECT_TRUE(fs::exists(dir.path() / "out/vpt_action_scaler.pkl"));
  EXPECT_THAT(output, HasSubstr("Saved to: "));
  EXPECT_THAT(output, HasSubstr("vpt_action_scaler.pkl"));
}

TEST(WriteFixture, AnEarlierStepsShardsPassValidationAndAreReused) {
  test::TempDir dir;
  dir.write("exp.yaml",
            "experiment: fx\nseed: 3\nprocedure:\n"
            "  - write_fixture: {out: fx, shards: 2, samples_per_shard: 4, frames: 11, video: stand_in}\n"
            "  - fit_action_scaler: {shards: \"fx/shard-*.tar\", holdout: 0, expected_std: [], "
            "warn_below_samples: 0}\n");
  int code;
  std::string output = test::run_wmhost("validate exp.yaml", dir.path(), code);
  ASSERT_EQ(code, 0) << output << "the shards do not exist yet: write_fixture writes them";
  output = test::run_wmhost("run exp.yaml --out a", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_EQ(io::ActionScaler::load(dir.path() / "a/action_scaler.yaml").count, 2 * 4 * 10);
  EXPECT_THAT(read_file(dir.path() / "fx/fixture.yaml"), HasSubstr("true_std: [12, 9, 0.14, 0.09]"));
  output = test::run_wmhost("run exp.yaml --out b", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("already holds this fixture"));
  output = test::run_wmhost("run exp.yaml --out c +procedure.0.write_fixture.seed=4", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, Not(HasSubstr("already holds this fixture"))) << "other options: rewritten";
}

//---- S7: wmhost inspect ----

TEST(Inspect, PrintsPerDimensionStatisticsAfterTheActionScaler) {
  test::TempDir dir;
  io::ActionScaler scaler{{"push.x", "push.y"}, {0.1, -0.2}, {2.0, 0.5}, 100, true};
  scaler.save(dir.path() / "scaler.yaml");
  const std::string params = "{samples: 20, frames: 4, size: 16, objects: 1}";
  dir.write("exp.yaml", "experiment: look\nseed: 0\ndata:\n  val: {plugin: synthetic, "
                        "action_scaler: scaler.yaml, params: " + params + "}\n"
                        "procedure: [{write_fixture: {out: fixture}}]\n");
  int code;
  std::string output = test::run_wmhost("inspect exp.yaml data.val --batches 2 --batch-size 4",
                                        dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("data.val: 2 batches of 4 (8 samples, dataset order)"));
  EXPECT_THAT(output, HasSubstr("and the action scaler"));

  // the same 8 samples, scaled here
  auto data = test::make<Dataset>("synthetic", params);
  std::vector<Sample> samples;
  for (int64_t i = 0; i < 8; ++i) samples.push_back(data->get(i));
  auto actions = scaler.apply(collate(samples).at("actions").to(at::kDouble)).reshape({-1, 2});
  std::smatch header;
  ASSERT_TRUE(std::regex_search(output, header, std::regex("actions  float32  \\[8, 3, 2\\]  \\(per last dimension\\)")))
      << output;
  for (int64_t d = 0; d < 2; ++d) {
    std::smatch row;
    std::regex pattern("\\n  " + scaler.names[d] + " +([-0-9.e+]+) +([-0-9.e+]+) +([-0-9.e+]+) +([-0-9.e+]+)\\n");
    std::string after = header.suffix();
    ASSERT_TRUE(std::regex_search(after, row, pattern)) << output;
    auto column = actions.select(1, d);
    double expected[4] = {column.min().item<double>(), column.max().item<double>(),
                          column.mean().item<double>(), column.std(/*unbiased=*/false).item<double>()};
    for (int k = 0; k < 4; ++k)
      EXPECT_NEAR(std::stod(row[k + 1]), expected[k], 1e-5 * std::max(1.0, std::abs(expected[k])))
          << scaler.names[d] << " statistic " << k;
  }
  EXPECT_THAT(output, HasSubstr("video  float32  [8, 4, 3, 16, 16]  (per channel)"));

  output = test::run_wmhost("inspect exp.yaml data.nope", dir.path(), code);
  EXPECT_NE(code, 0);
  EXPECT_THAT(output, HasSubstr("no data entry 'nope'"));
  EXPECT_THAT(output, HasSubstr("its data entries: val"));
  output = test::run_wmhost("inspect exp.yaml val", dir.path(), code);
  EXPECT_EQ(code, 2);
  EXPECT_THAT(output, HasSubstr("wmhost inspect EXP.yaml data.<name>"));
}

//---- S6: the budget study ----

// configs/action_scaler_budget.yaml: 10K and 100K fits vs the 1M fit on N(0, 1) rows, 5 seeds;
// E|Δmean| = √(2/π)·√(1/n − 1/N) is 0.0079 at 10K and 0.0024 at 100K
TEST(ActionScalerBudgetConfig, DifferencesMatchTheSamplingError) {
  test::TempDir dir;
  int code;
  std::string config = (fs::path(WM_TEST_SOURCE_DIR) / "configs/action_scaler_budget.yaml").string();
  std::string output = test::run_wmhost("run " + config + " --out sweep", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  std::ifstream in(dir.path() / "sweep/analysis/scaler_budget.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("dimension,n,reference_n,abs_dmean_over_std,abs_dmean_sd,se_mean,", 0), 0u) << line;
  std::map<std::string, std::vector<double>> dmean;  // by n, one per dimension (mean over seeds)
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    ASSERT_GE(cells.size(), 12u) << line;
    dmean[cells[1]].push_back(std::stod(cells[3]));
    EXPECT_NEAR(std::stod(cells[5]), 1 / std::sqrt(std::stod(cells[1])), 1e-12) << "SE 1/√n";
    EXPECT_NEAR(std::stod(cells[9]), 1 / std::sqrt(2 * std::stod(cells[1])), 1e-12) << "SE 1/√(2n)";
    EXPECT_EQ(cells[11], "5") << "five fixture seeds";
  }
  ASSERT_EQ(dmean["10000"].size(), 4u);
  ASSERT_EQ(dmean["100000"].size(), 4u);
  auto average = [](const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return sum / static_cast<double>(v.size());
  };
  EXPECT_NEAR(average(dmean["10000"]), 0.008, 0.003);
  EXPECT_LE(average(dmean["100000"]), 0.004);
  EXPECT_THAT(output, HasSubstr("analysis scaler_budget"));
}

}  // namespace
}  // namespace wm
