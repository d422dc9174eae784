// fit_action_scaler end to end through wmhost: equal to scikit-learn's StandardScaler on the same
// rows, exact sample budget, early stop on convergence, held-out check, warnings, skipped samples.
// The shards' .mp4 members are not videos at all: the procedure must never decode them.
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "test_support.h"
#include "wm/io/action_scaler.h"
#include "wm/io/tar.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// VPT-style shards: mouse dx/dy in pixels, yaw/pitch in degrees (their differences are actions),
// a constant `zoom` field, buttons; scales differ by orders of magnitude
void write_vpt_shards(const fs::path& dir, int shards, int samples, int frames, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dx(0.8, 12.0), dy(-0.3, 8.0), turn(0.01, 0.14), tilt(0.0, 0.09);
  for (int s = 0; s < shards; ++s) {
    char name[32];
    std::snprintf(name, sizeof name, "shard-%06d.tar", s);
    io::TarWriter writer(dir / name);
    for (int k = 0; k < samples; ++k) {
      std::string key = "clip" + std::to_string(s * 1000 + k), jsonl;
      double yaw = 0, pitch = 0;
      for (int t = 0; t < frames; ++t) {
        char line[256];
        std::snprintf(line, sizeof line,
                      "{\"mouse\": {\"dx\": %.17g, \"dy\": %.17g, \"buttons\": []}, \"yaw\": "
                      "%.17g, \"pitch\": %.17g, \"zoom\": 1.0}\n",
                      dx(rng), dy(rng), yaw, pitch);
        jsonl += line;
        yaw += turn(rng), pitch += tilt(rng);
      }
      writer.add(key + ".mp4", "not a video: the fit must never decode this");
      writer.add(key + ".jsonl", jsonl);
    }
    writer.close();
  }
}

std::string experiment(const std::string& fit_params) {
  return "experiment: fit\nseed: 1\nprocedure:\n  - fit_action_scaler: {shards: \"shards/shard-*.tar\", " +
         fit_params + "}\n";
}

std::string run_wmhost(const std::string& args, const fs::path& cwd, int& code) {
  return test::run_wmhost(args, cwd, code);
}

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

double metric(const std::string& jsonl, const std::string& key) {
  std::smatch match;
  std::regex pattern("\"" + key + "\": ([-0-9.e+]+)");
  if (!std::regex_search(jsonl, match, pattern)) return NAN;
  return std::stod(match[1]);
}

TEST(FitActionScaler, EqualsStandardScalerOnTheSameRows) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "shards");
  write_vpt_shards(dir.path() / "shards", 3, 20, 30, 7);
  dir.write("exp.yaml", experiment("holdout: 0, convergence: false, output: out/vpt_scaler.json"));
  int code;
  std::string output = run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  io::ActionScaler scaler = io::ActionScaler::load(dir.path() / "run/action_scaler.yaml");
  io::ActionScaler copy = io::ActionScaler::load(dir.path() / "out/vpt_scaler.json");
  EXPECT_EQ(copy.mean, scaler.mean);
  EXPECT_EQ(scaler.names, (std::vector<std::string>{"mouse.dx", "mouse.dy", "yaw_diff", "pitch_diff"}));
  EXPECT_EQ(scaler.count, 3 * 20 * 29) << "29 actions between 30 frames";
  EXPECT_FALSE(scaler.converged);

  // the reference reads the shards with tarfile and applies the conventions itself
  const char* script = R"(
import glob, json, sys, tarfile, numpy as np
from sklearn.preprocessing import StandardScaler
rows = []
for shard in sorted(glob.glob(sys.argv[1] + "/shards/*.tar")):
    with tarfile.open(shard) as tar:
        for m in tar.getmembers():
            if not m.name.endswith(".jsonl"): continue
            recs = [json.loads(l) for l in tar.extractfile(m).read().decode().splitlines() if l.strip()]
            for a, b in zip(recs[:-1], recs[1:]):
                rows.append([a["mouse"]["dx"], a["mouse"]["dy"], b["yaw"] - a["yaw"], b["pitch"] - a["pitch"]])
s = StandardScaler().fit(np.array(rows, dtype=np.float64))
print(len(rows), " ".join(repr(v) for v in list(s.mean_) + list(s.scale_)))
)";
  std::istringstream reference(test::run_python(dir, script));
  int64_t rows;
  reference >> rows;
  EXPECT_EQ(rows, scaler.count);
  for (size_t d = 0; d < 4; ++d) {
    double mean;
    reference >> mean;
    EXPECT_NEAR(scaler.mean[d], mean, 1e-12 * std::max(1.0, std::abs(mean))) << scaler.names[d];
  }
  for (size_t d = 0; d < 4; ++d) {
    double scale;
    reference >> scale;
    EXPECT_NEAR(scaler.std[d], scale, 1e-11 * scale) << scaler.names[d];
  }
}

TEST(FitActionScaler, StopsExactlyAtTheSampleBudget) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "shards");
  write_vpt_shards(dir.path() / "shards", 2, 10, 40, 8);
  dir.write("exp.yaml", experiment("max_samples: 500, convergence: false, format: json"));
  int code;
  std::string output = run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  io::ActionScaler scaler = io::ActionScaler::load(dir.path() / "run/action_scaler.json");
  EXPECT_EQ(scaler.count, 500);
  EXPECT_FALSE(scaler.converged);
  EXPECT_THAT(output, HasSubstr("fit_action_scaler 500/500 (100%)"));
}

TEST(FitActionScaler, StopsEarlyWhenMeanAndStdHaveSettled) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "shards");
  write_vpt_shards(dir.path() / "shards", 4, 50, 101, 9);  // 20,000 rows
  dir.write("exp.yaml", experiment("check_every: 1000, min_samples: 3000, tolerance: 0.02, "
                                   "holdout: 0.2, max_shards: 3"));
  int code;
  std::string output = run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  io::ActionScaler scaler = io::ActionScaler::load(dir.path() / "run/action_scaler.yaml");
  EXPECT_TRUE(scaler.converged);
  EXPECT_LT(scaler.count, 15000) << "stopped before reading the 3 chosen shards";
  EXPECT_NEAR(scaler.std[0], 12.0, 0.6);
  EXPECT_NEAR(scaler.std[2], 0.14, 0.01);
  // held-out rows, standardised by the fitted scaler: mean ~0, std ~1
  std::string metrics = read(dir.path() / "run/metrics.jsonl");
  EXPECT_GT(metric(metrics, "holdout_rows"), 1000);
  for (const char* name : {"mouse.dx", "mouse.dy", "yaw_diff", "pitch_diff"}) {
    EXPECT_NEAR(metric(metrics, std::string("holdout_mean/") + name), 0.0, 0.08) << name;
    EXPECT_NEAR(metric(metrics, std::string("holdout_std/") + name), 1.0, 0.08) << name;
  }
  EXPECT_THAT(output, HasSubstr("reading 3; budget 100000 rows"));
  EXPECT_THAT(output, HasSubstr("held-out check on"));
}

TEST(FitActionScaler, WarnsOnConstantDimensionsAndSkipsCorruptSamples) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "shards");
  write_vpt_shards(dir.path() / "shards", 1, 5, 10, 10);
  {
    io::TarWriter writer(dir.path() / "shards/shard-000001.tar");
    writer.add("bad.jsonl", "{\"mouse\": {\"dx\": 1}, \"zoom\": 1}\n{\"mouse\": {\"dx\": oops\n");
    writer.close();
  }
  dir.write("exp.yaml", experiment("action_fields: \"mouse.dx, zoom\", holdout: 0"));
  int code;
  std::string output = run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("'zoom' has std ~0"));
  EXPECT_THAT(output, HasSubstr("skipped 1 unreadable sample(s), first: "));
  EXPECT_THAT(output, HasSubstr("bad.jsonl"));
  EXPECT_EQ(io::ActionScaler::load(dir.path() / "run/action_scaler.yaml").count, 5 * 9);
}

TEST(FitActionScaler, SizeFieldThatWrapsSkipsTheShardInsteadOfLooping) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "shards");
  write_vpt_shards(dir.path() / "shards", 1, 5, 10, 10);
  std::string bytes;
  {
    io::TarWriter writer(dir.path() / "shards/shard-000001.tar");
    writer.add("clip9.mp4", "video");
    writer.close();
    bytes = read(dir.path() / "shards/shard-000001.tar");
  }
  // clip9.mp4's size becomes 2^64 - 512: data + size wraps back to its own header
  bytes[124] = static_cast<char>(0x80);
  for (int i = 0; i < 11; ++i) bytes[135 - i] = static_cast<char>(i == 0 ? 0x00 : i == 1 ? 0xFE : i < 8 ? 0xFF : 0);
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(bytes[i]);
  std::snprintf(&bytes[148], 8, "%06o", sum);
  bytes[155] = ' ';
  std::ofstream(dir.path() / "shards/shard-000001.tar", std::ios::binary).write(bytes.data(), bytes.size());
  dir.write("exp.yaml", experiment("action_fields: \"mouse.dx, mouse.dy\", holdout: 0"));
  int code;
  std::string output = test::run_wmhost("run exp.yaml --out run", dir.path(), code, 120);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("shard-000001.tar: truncated: member 'clip9.mp4' needs 18446744073709551104 bytes"));
  EXPECT_THAT(output, HasSubstr("skipped 1 unreadable sample(s)"));
  EXPECT_EQ(io::ActionScaler::load(dir.path() / "run/action_scaler.yaml").count, 5 * 9);
}

TEST(FitActionScaler, NonFiniteActionsSkipTheSampleAndAreCounted) {
  test::TempDir dir;
  fs::create_directories(dir.path() / "shards");
  write_vpt_shards(dir.path() / "shards", 1, 5, 10, 10);
  {
    io::TarWriter writer(dir.path() / "shards/shard-000001.tar");
    writer.add("inf.jsonl", "{\"mouse\": {\"dx\": 1, \"dy\": 2}}\n{\"mouse\": {\"dx\": 1e999, \"dy\": 2}}\n"
                            "{\"mouse\": {\"dx\": 3, \"dy\": 2}}\n");
    writer.close();
  }
  dir.write("exp.yaml", experiment("action_fields: \"mouse.dx, mouse.dy\", holdout: 0"));
  int code;
  std::string output = test::run_wmhost("run exp.yaml --out run", dir.path(), code, 120);
  ASSERT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("inf.jsonl: record 2: field 'mouse.dx' gives a non-finite action"));
  EXPECT_THAT(output, HasSubstr("skipped 1 unreadable sample(s)"));
  // the scaler wmhost wrote is one wmhost loads: finite, from the 5 good samples only
  auto scaler = io::ActionScaler::load(dir.path() / "run/action_scaler.yaml");
  EXPECT_EQ(scaler.count, 5 * 9);
  for (double value : scaler.mean) EXPECT_TRUE(std::isfinite(value));
}

TEST(FitActionScaler, MissingShardsFailValidationWithWhatWasExpected) {
  test::TempDir dir;
  dir.write("exp.yaml", experiment("max_samples: 10"));
  int code;
  std::string output = run_wmhost("validate exp.yaml", dir.path(), code);
  EXPECT_EQ(code, 2);
  EXPECT_THAT(output, HasSubstr("procedure.0.fit_action_scaler.shards"));
  EXPECT_THAT(output, HasSubstr("no shards match"));
}

// the host applies a scaler file named by data.<name>.action_scaler; its size is checked first
TEST(ActionScalerKey, ChecksTheScalerAgainstTheDatasetAtStartup) {
  test::TempDir dir;
  io::ActionScaler scaler;
  scaler.names = {"x", "y", "z"};
  scaler.mean = {0, 0, 0};
  scaler.std = {1, 1, 1};
  scaler.save(dir.path() / "three.yaml");
  scaler.names.pop_back(), scaler.mean.pop_back(), scaler.std.pop_back();
  scaler.save(dir.path() / "two.yaml");
  auto yaml = [](const std::string& file) {
    return "experiment: scaled\ndata:\n  val: {plugin: synthetic, split: val, subset: 0.5,"
           " action_scaler: " + file + ", params: {samples: 20, frames: 4, size: 16}}\n"
           "model: {plugin: copy_last}\nmetrics: [{plugin: psnr}]\n"
           "procedure: [{evaluate: {data: val, batch_size: 2, preview: 0}}]\n";
  };
  dir.write("good.yaml", yaml("two.yaml"));
  dir.write("wide.yaml", yaml("three.yaml"));
  dir.write("missing.yaml", yaml("nothing.yaml"));
  int code;
  std::string output = run_wmhost("run good.yaml --out good", dir.path(), code);
  EXPECT_EQ(code, 0) << output;
  output = run_wmhost("run wide.yaml --out wide", dir.path(), code);
  EXPECT_EQ(code, 1);
  EXPECT_THAT(output, HasSubstr("has 3 dimensions, the dataset's actions have 2"));
  output = run_wmhost("validate missing.yaml", dir.path(), code);
  EXPECT_EQ(code, 2);
  EXPECT_THAT(output, HasSubstr("data.val.action_scaler"));
  EXPECT_THAT(output, HasSubstr("nothing.yaml"));
}

}  // namespace
}  // namespace wm
