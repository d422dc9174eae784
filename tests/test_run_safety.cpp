// Runs that cannot lie: a stop signal ends `train` at a checkpointed step boundary (exit 3) and a
// resume continues bit-identically; a run killed twice and resumed writes the same metrics.jsonl
// as an uninterrupted one; a run folder is locked; a resume with a changed config is refused
// (recorded with resume: force); collect and fit_action_scaler refuse to overwrite; metric names
// that would share a key are refused; a failed metrics write fails the run; a stopped sweep point
// continues where it stopped.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "report/metrics_log.h"
#include "run_config.h"
#include "test_support.h"
#include "wm/io/checkpoint.h"
#include "wm/io/json.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using test::read_text;

//---- helpers ----

// a tiny two_stream on synthetic clips; `steps` and `extra` (more train parameters) vary
std::string training(int steps, const std::string& extra = "") {
  return R"(experiment: safety
seed: 3
threads: 1
data:
  train: {plugin: synthetic, split: train, params: {samples: 64, frames: 5, size: 16}}
  val: {plugin: synthetic, split: val, params: {samples: 64, frames: 5, size: 16}}
metrics: [{plugin: psnr}]
model:
  plugin: two_stream
  params: {image_size: 16, patch: 4, dim: 16, depth: 1, heads: 2, change_dim: 4,
           decoder_dim: 16, decoder_depth: 1, max_gap: 2}
procedure:
  - evaluate: {data: val, batch_size: 8, preview: 0}
  - train: {steps: )" + std::to_string(steps) +
         R"(, batch_size: 4, lr: 3.0e-3, warmup: 5, resume: true, keep_last: 2)" + extra + R"(}
  - evaluate: {name: after, data: val, batch_size: 8, preview: 0}
)";
}

test::CliResult wmhost(const std::string& args, const test::TempDir& dir) {
  return test::wmhost(args, dir.path());
}

// wmhost started in the background (its stderr in <out>.err); the test signals or kills it
pid_t start_wmhost(const test::TempDir& dir, const std::string& config, const std::string& out) {
  pid_t child = fork();
  if (child == 0) {
    fs::current_path(dir.path());
    int null = open("/dev/null", O_WRONLY);
    int err = open((out + ".err").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(null, STDOUT_FILENO), dup2(err, STDERR_FILENO);
    execl(WM_TEST_WMHOST, WM_TEST_WMHOST, "run", config.c_str(), "--out", out.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return child;
}

size_t line_count(const fs::path& file) {
  std::string text = read_text(file);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// waits (up to 60 s) until `ready` holds; false at once when the process `child` ended
template <class Condition>
bool wait_for(pid_t child, Condition ready) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline || waitpid(child, nullptr, WNOHANG) == child)
      return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// metrics.jsonl's lines with the timing values taken out, each re-written from its parse
std::vector<std::string> lines_without_timings(const fs::path& run) {
  std::vector<std::string> lines;
  for (const auto& line : io::json::parse_lines(read_text(run / "metrics.jsonl"))) {
    std::string text;
    EXPECT_TRUE(line.find("time")) << "a line without time";
    for (const auto& [key, value] : line.members()) {
      if (key == "time" || key == "samples_per_s" || key == "seconds") continue;
      text += key + "=" + (value.is_null() ? "null" : value.to_text()) + " ";
    }
    lines.push_back(text);
  }
  return lines;
}

// a checkpoint's tensors by name, the metrics.jsonl offset aside (its lines differ in timings)
std::map<std::string, at::Tensor> checkpoint(const fs::path& file) {
  std::map<std::string, at::Tensor> named;
  for (auto& [name, tensor] : io::load_tensors(file))
    if (name != "metrics/offset") named[name] = tensor;
  return named;
}

void expect_same_checkpoint(const fs::path& a, const fs::path& b) {
  auto first = checkpoint(a), second = checkpoint(b);
  ASSERT_EQ(first.size(), second.size());
  for (const auto& [name, tensor] : first) {
    ASSERT_TRUE(second.count(name)) << name;
    EXPECT_TRUE(tensor.equal(second.at(name))) << name << " differs";
  }
}

std::string newest_checkpoint(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().filename().string().rfind("step-", 0) == 0) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names.empty() ? "" : names.back();
}

//---- signals ----

TEST(RunSafety, SigtermCheckpointsTheStepAndResumeContinuesBitIdentically) {
  test::TempDir dir;
  dir.write("exp.yaml", training(60, ", log_every: 1, checkpoint_every: 50"));
  ASSERT_EQ(wmhost("run exp.yaml --out whole", dir).code, 0);

  pid_t child = start_wmhost(dir, "exp.yaml", "parts");
  // SIGTERM once 12 lines are out: mid-training, between the scheduled checkpoints
  auto metrics = dir.path() / "parts/metrics.jsonl";
  ASSERT_TRUE(wait_for(child, [&] { return line_count(metrics) >= 12; }));
  kill(child, SIGTERM);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_THAT(read_text(dir.path() / "parts/status.json"), HasSubstr("\"status\": \"stopped\""));
  EXPECT_THAT(read_text(dir.path() / "parts/log.txt"), HasSubstr("stopped by SIGTERM"));
  // the checkpoint is at the last step trained (log_every 1: the last line's step)
  auto lines = io::json::parse_lines(read_text(metrics));
  int last_step = static_cast<int>(lines.back().find("step")->as_number());
  ASSERT_LT(last_step, 50);
  char name[32];
  std::snprintf(name, sizeof name, "step-%08d.pt", last_step);
  EXPECT_EQ(newest_checkpoint(dir.path() / "parts/checkpoints"), name);

  ASSERT_EQ(wmhost("run exp.yaml --out parts", dir).code, 0);
  expect_same_checkpoint(dir.path() / "whole/checkpoints/step-00000060.pt",
                         dir.path() / "parts/checkpoints/step-00000060.pt");
  EXPECT_EQ(lines_without_timings(dir.path() / "parts"), lines_without_timings(dir.path() / "whole"));
}

TEST(RunSafety, ASecondSignalEndsTheRunAtOnce) {
  test::TempDir dir;
  dir.write("exp.yaml", training(2000, ", log_every: 1, checkpoint_every: 1000"));
  pid_t child = start_wmhost(dir, "exp.yaml", "run");
  ASSERT_TRUE(wait_for(child, [&] { return line_count(dir.path() / "run/metrics.jsonl") >= 3; }))
      << read_text(dir.path() / "run.err");
  // two different signals: both are delivered (two of one kind may merge into one)
  kill(child, SIGTERM);
  kill(child, SIGINT);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exited " << WEXITSTATUS(status);
  EXPECT_TRUE(WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM) << WTERMSIG(status);
  // the first was heard (without a handler it would have ended the process itself)
  EXPECT_THAT(read_text(dir.path() / "run.err"), HasSubstr("stop signal received"));
}

//---- metrics.jsonl across kills ----

TEST(RunSafety, KilledTwiceAndResumedWritesTheUninterruptedMetrics) {
  test::TempDir dir;
  // windows of 3 steps, checkpoints every 5 with an eval line: resumes land inside windows
  dir.write("exp.yaml", training(45, ", log_every: 3, checkpoint_every: 5, eval_data: val, eval_batches: 1"));
  ASSERT_EQ(wmhost("run exp.yaml --out whole", dir).code, 0);

  auto run = dir.path() / "killed";
  // kill -9 at the line of step 12 (after the checkpoint at 10), then at the line of step 36
  // (after the one at 35): each resume lands inside a logging window
  for (auto [checkpoint, after] : {std::pair{10, 2}, std::pair{35, 1}}) {
    pid_t child = start_wmhost(dir, "exp.yaml", "killed");
    char name[32];
    std::snprintf(name, sizeof name, "checkpoints/step-%08d.pt", checkpoint);
    ASSERT_TRUE(wait_for(child, [&] { return fs::exists(run / name); }));
    std::string text;
    ASSERT_TRUE(wait_for(child, [&] {
      text = read_text(run / "metrics.jsonl");
      return text.find("\"step\": " + std::to_string(checkpoint + after) + ",") != std::string::npos;
    })) << read_text(dir.path() / "killed.err") << text;
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
  }
  ASSERT_EQ(wmhost("run exp.yaml --out killed", dir).code, 0);
  auto whole = lines_without_timings(dir.path() / "whole");
  EXPECT_EQ(whole.size(), 1u + 15u + 9u + 1u);  // evaluate, 15 windows, 9 eval losses, evaluate
  EXPECT_EQ(lines_without_timings(run), whole);
  EXPECT_EQ(read_text(run / "status.json").substr(0, 20), read_text(dir.path() / "whole/status.json").substr(0, 20));
}

TEST(RunSafety, AStopBetweenCheckpointsWritesNoEvalLineAndKeepsTheSameBest) {
  test::TempDir dir;
  dir.write("exp.yaml", training(20, ", log_every: 2, checkpoint_every: 8, eval_data: val, eval_batches: 1"));
  ASSERT_EQ(wmhost("run exp.yaml --out whole", dir).code, 0);
  // stopped at step 6, off the checkpoints at 8, 16 and 20: its checkpoint holds the state only
  ASSERT_EQ(wmhost("run exp.yaml --out parts +procedure.1.train.stop_after_steps=6", dir).code, 3);
  EXPECT_TRUE(fs::exists(dir.path() / "parts/checkpoints/step-00000006.pt"));
  auto resumed = wmhost("run exp.yaml --out parts", dir);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  auto whole = lines_without_timings(dir.path() / "whole");
  EXPECT_EQ(whole.size(), 1u + 10u + 3u + 1u);  // evaluate, 10 windows, 3 eval losses, evaluate
  EXPECT_EQ(lines_without_timings(dir.path() / "parts"), whole);
  auto best_step = [&](const char* run) {
    return io::checkpoint_integer(io::load_checkpoint(dir.path() / run / "checkpoints/best.pt"), "step");
  };
  ASSERT_TRUE(best_step("whole"));
  EXPECT_EQ(best_step("parts"), best_step("whole"));
  expect_same_checkpoint(dir.path() / "whole/checkpoints/best.pt", dir.path() / "parts/checkpoints/best.pt");
}

TEST(RunSafety, MetricsLinesCarryTimeAndAFailedWriteThrows) {
  test::TempDir dir;
  {
    MetricsLog log(dir.path() / "metrics.jsonl");
    log.append({{"procedure", "train"}}, {{"step", 1}, {"loss", 0.5}, {"samples_per_s", 12}});
  }
  auto line = io::json::parse(read_text(dir.path() / "metrics.jsonl"));
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  ASSERT_TRUE(line.find("time"));
  EXPECT_NEAR(line.find("time")->as_number(), now, 60);
  EXPECT_EQ(line.find("step")->as_number(), 1);
  // a full disk: the run hears of it instead of losing the line
  MetricsLog full("/dev/full");
  EXPECT_THAT(test::error_of([&] { full.append({{"procedure", "train"}}, {{"loss", 1}}); }),
              HasSubstr("No space left"));
}

TEST(RunSafety, AResumeKeepsTheLinesItsCheckpointConfirmsAndDropsTheRest) {
  test::TempDir dir;
  auto file = dir.path() / "metrics.jsonl";
  int64_t offset = 0;
  {
    MetricsLog log(file);
    log.append({{"procedure", "evaluate"}}, {{"psnr", 20}});
    log.append({{"procedure", "train"}}, {{"step", 1}, {"loss", 3}});
    offset = log.offset();  // a checkpoint here
    log.append({{"procedure", "train"}}, {{"step", 2}, {"loss", 2}});  // lost with the kill
  }
  MetricsLog resumed(file);
  resumed.append({{"procedure", "evaluate"}}, {{"psnr", 20}});  // the step before train, again
  resumed.restored(offset);
  resumed.append({{"procedure", "train"}}, {{"step", 2}, {"loss", 2.5}});  // differs: waits
  EXPECT_EQ(resumed.last_values().at("train/loss"), 2.5);
  resumed.finish();
  auto lines = io::json::parse_lines(read_text(file));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2].find("loss")->as_number(), 2.5);
  EXPECT_EQ(lines[1].find("loss")->as_number(), 3);
}

TEST(RunSafety, AResumeWhoseCheckpointDoesNotFitTheFileKeepsEveryEarlierLine) {
  test::TempDir dir;
  auto file = dir.path() / "metrics.jsonl";
  int64_t offset = 0;
  {
    MetricsLog log(file);
    log.append({{"procedure", "evaluate"}}, {{"psnr", 20}});
    log.append({{"procedure", "train"}}, {{"step", 1}, {"loss", 3}});
    log.append({{"procedure", "train"}}, {{"step", 2}, {"loss", 2}});
    offset = log.offset();  // a checkpoint here
  }
  // the file shortened by hand: the checkpoint's offset now lies past its end
  std::string text = read_text(file);
  text.erase(text.rfind('\n', text.size() - 2) + 1);
  dir.write("metrics.jsonl", text);
  ASSERT_GT(offset, static_cast<int64_t>(text.size()));
  MetricsLog resumed(file);
  resumed.restored(offset);
  resumed.append({{"procedure", "train"}}, {{"step", 3}, {"loss", 1}});
  resumed.finish();
  auto lines = io::json::parse_lines(read_text(file));
  ASSERT_EQ(lines.size(), 3u) << read_text(file);
  EXPECT_EQ(lines[0].find("psnr")->as_number(), 20);
  EXPECT_EQ(lines[1].find("loss")->as_number(), 3);
  EXPECT_EQ(lines[2].find("loss")->as_number(), 1);
}

//---- the run folder ----

TEST(RunSafety, ASecondProcessOnTheSameRunFolderIsRefusedNamingThePid) {
  test::TempDir dir;
  dir.write("exp.yaml", training(10, ", log_every: 5"));
  fs::create_directories(dir.path() / "run");
  int fd = open((dir.path() / "run/run.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
  std::string pid = std::to_string(getpid()) + "\n";
  ASSERT_EQ(write(fd, pid.data(), pid.size()), static_cast<ssize_t>(pid.size()));
  dir.write("run/config.yaml", "experiment: safety\n");  // an unfinished run to resume
  auto refused = wmhost("run exp.yaml --out run", dir);
  EXPECT_EQ(refused.code, 2);
  EXPECT_THAT(refused.err, HasSubstr("is in use by another wmhost (pid " + std::to_string(getpid())));
  EXPECT_FALSE(fs::exists(dir.path() / "run/log.txt"));
  close(fd);  // the holder ends: the lock goes with it
}

TEST(RunSafety, AResumeWithAChangedConfigIsRefusedUnlessForcedAndThenRecorded) {
  test::TempDir dir;
  dir.write("exp.yaml", training(12, ", log_every: 4, checkpoint_every: 4"));
  ASSERT_EQ(wmhost("run exp.yaml --out run +procedure.1.train.stop_after_steps=4", dir).code, 3);
  std::string config = read_text(dir.path() / "run/config.yaml");
  auto refused = wmhost("run exp.yaml --out run procedure.1.train.lr=1.0e-3", dir);
  EXPECT_EQ(refused.code, 2);
  EXPECT_THAT(refused.err, HasSubstr("the config differs from the one this run started with"));
  EXPECT_THAT(refused.err, HasSubstr("resume: force"));
  EXPECT_EQ(read_text(dir.path() / "run/config.yaml"), config) << "config.yaml rewritten";
  EXPECT_THAT(read_text(dir.path() / "run/status.json"), HasSubstr("stopped"));

  auto forced = wmhost("run exp.yaml --out run procedure.1.train.lr=1.0e-3 procedure.1.train.resume=force", dir);
  ASSERT_EQ(forced.code, 0) << forced.err;
  EXPECT_EQ(read_text(dir.path() / "run/config-previous-1.yaml"), config);
  std::string diff = read_text(dir.path() / "run/config-change-1.diff");
  EXPECT_THAT(diff, HasSubstr("- "));
  EXPECT_THAT(diff, HasSubstr("+ "));
  EXPECT_THAT(diff, HasSubstr("1.0e-3"));
  EXPECT_THAT(read_text(dir.path() / "run/config.yaml"), HasSubstr("1.0e-3"));
}

TEST(RunSafety, ConfigDiffShowsEmptyLinesAndOneGapBetweenFarChanges) {
  EXPECT_EQ(line_diff("", "\n"), "+ \n");
  EXPECT_EQ(line_diff("a\n", "\n"), "+ \n- a\n");
  EXPECT_EQ(line_diff("a\nb\nc\nd\ne\nf\ng\nh\ni\n", "\nb\nc\nd\ne\nf\ng\nh\n\n"),
            "+ \n- a\n  b\n  c\n...\n  g\n  h\n+ \n- i\n");
}

std::string collect_config(int episodes) {
  return R"(experiment: collect_twice
seed: 7
env: {plugin: point_mass, params: {max_episode_steps: 6}}
procedure:
  - collect: {episodes: )" + std::to_string(episodes) +
         R"(, policy: random, video: false, out: shards, episodes_per_shard: 1}
)";
}

TEST(RunSafety, CollectAndScalerOutputsRefuseToOverwriteUnlessAsked) {
  test::TempDir dir;
  dir.write("first.yaml", collect_config(4));
  ASSERT_EQ(wmhost("run first.yaml --out a", dir).code, 0);
  EXPECT_TRUE(fs::exists(dir.path() / "shards/shard-000003.tar"));

  // a second collect into the same folder: refused, then with overwrite the stale shards go
  dir.write("second.yaml", collect_config(2));
  auto refused = wmhost("run second.yaml --out b", dir);
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(read_text(dir.path() / "b/log.txt"), HasSubstr("already holds 4 shard file(s)"));
  EXPECT_THAT(read_text(dir.path() / "b/log.txt"), HasSubstr("overwrite: true"));
  EXPECT_TRUE(fs::exists(dir.path() / "shards/shard-000003.tar"));
  ASSERT_EQ(wmhost("run second.yaml --out c +procedure.0.collect.overwrite=true", dir).code, 0);
  EXPECT_TRUE(fs::exists(dir.path() / "shards/shard-000001.tar"));
  EXPECT_FALSE(fs::exists(dir.path() / "shards/shard-000002.tar")) << "a stale shard stayed";
  EXPECT_FALSE(fs::exists(dir.path() / "shards/shard-000003.tar")) << "a stale shard stayed";

  // fit_action_scaler.output: another file there is kept unless overwrite
  std::string scaler = "mean: [1]\nstd: [2]\n";
  dir.write("scaler.yaml", scaler);
  std::string fit = R"(experiment: fit
seed: 7
env: {plugin: point_mass, params: {max_episode_steps: 6}}
procedure:
  - collect: {episodes: 2, policy: random, video: false}
  - fit_action_scaler: {shards: "${run.dir}/episodes/*.tar", action_fields: [action], holdout: 0,
                        min_samples: 0, warn_below_samples: 0, expected_std: [], output: scaler.yaml}
)";
  dir.write("fit.yaml", fit);
  EXPECT_EQ(wmhost("run fit.yaml --out d", dir).code, 1);
  EXPECT_THAT(read_text(dir.path() / "d/log.txt"), HasSubstr("exists and holds another scaler"));
  EXPECT_EQ(read_text(dir.path() / "scaler.yaml"), scaler);
  ASSERT_EQ(wmhost("run fit.yaml --out e +procedure.1.fit_action_scaler.overwrite=true", dir).code, 0);
  EXPECT_EQ(read_text(dir.path() / "scaler.yaml"), read_text(dir.path() / "e/action_scaler.yaml"));
  // the same scaler again (as a resume writes it) is no overwrite
  EXPECT_EQ(wmhost("run fit.yaml --out f", dir).code, 0);
}

//---- sweeps ----

TEST(RunSafety, AStoppedSweepPointContinuesWithThePrintedCommand) {
  test::TempDir dir;
  dir.write("exp.yaml", training(12, ", log_every: 2, checkpoint_every: 4") + "sweep: {seed: [3, 4]}\n");
  ASSERT_EQ(wmhost("run exp.yaml --out whole", dir).code, 0);
  // no --out: the sweep gets a new folder, and the printed command names it
  auto stopped = wmhost("run exp.yaml +procedure.1.train.stop_after_steps=6", dir);
  ASSERT_EQ(stopped.code, 3) << stopped.out << stopped.err;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(
      stopped.out, match,
      std::regex("sweep stopped at point seed=3; continue it with:\n  wmhost (run exp.yaml "
                 "\\+procedure.1.train.stop_after_steps=6 --out (runs/safety/[0-9-]+))\n")))
      << stopped.out;
  std::string command = match[1], root = match[2];
  EXPECT_TRUE(fs::exists(dir.path() / root / "seed=3/checkpoints/step-00000006.pt"));
  EXPECT_FALSE(fs::exists(dir.path() / root / "seed=4"));
  // the same stop in each process: the first point ends in the second, the other in the third
  auto second = wmhost(command, dir);
  ASSERT_EQ(second.code, 3) << second.err;
  EXPECT_THAT(second.out, HasSubstr("sweep stopped at point seed=4; continue it with:\n  wmhost " + command));
  EXPECT_THAT(read_text(dir.path() / root / "seed=3/log.txt"), HasSubstr("resumed from"));
  auto third = wmhost(command, dir);
  ASSERT_EQ(third.code, 0) << third.err;
  EXPECT_THAT(third.out, HasSubstr("sweep finished: 2/2 runs ok"));
  for (const char* point : {"seed=3", "seed=4"}) {
    EXPECT_EQ(lines_without_timings(dir.path() / root / point),
              lines_without_timings(dir.path() / "whole" / point)) << point;
    expect_same_checkpoint(dir.path() / "whole" / point / "checkpoints/step-00000012.pt",
                           dir.path() / root / point / "checkpoints/step-00000012.pt");
  }
}

//---- metric names ----

TEST(RunSafety, MetricNamesThatWouldShareAKeyInOneLineAreRefused) {
  test::TempDir dir;
  for (const char* name : {"time", "step", "baseline", "gap2", "data"}) {
    dir.write("exp.yaml", std::string(R"(experiment: names
data:
  val: {plugin: synthetic, params: {samples: 8, frames: 5, size: 16}}
model: {plugin: copy_last}
metrics:
  - {plugin: psnr}
  - {plugin: ssim, name: )") + name + R"(}
procedure:
  - evaluate: {data: val}
)");
    auto result = wmhost("validate exp.yaml", dir);
    EXPECT_EQ(result.code, 2) << name;
    EXPECT_THAT(result.err, HasSubstr("exp.yaml:7:5: metrics.1: the name '" + std::string(name) +
                                      "' is taken by evaluate's metrics.jsonl line"));
  }
}

}  // namespace
}  // namespace wm
