// The train procedure end to end: reproducible, resumable after a stop or a kill, honest on NaN.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "test_support.h"
#include "engine/autocast.h"
#include "engine/random.h"
#include "wm/io/checkpoint.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const char* kTinyTraining = R"(experiment: tiny_train
seed: 3
data:
  train: {plugin: synthetic, params: {samples: 64, frames: 5, size: 16}}
model:
  plugin: two_stream
  params: {image_size: 16, patch: 4, dim: 16, depth: 1, heads: 2, change_dim: 4,
           decoder_dim: 16, decoder_depth: 1, max_gap: 2}
procedure:
  - train: {steps: 60, batch_size: 4, lr: 3.0e-3, warmup: 5, log_every: 1,
            checkpoint_every: 5, keep_last: 2, resume: true}
)";

int run_wmhost(const std::string& args, const fs::path& cwd) {
  std::string command = "cd '" + cwd.string() + "' && '" + WM_TEST_WMHOST + "' " + args +
                        " > /dev/null 2>> wmhost.err";
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// step -> loss from a run's metrics.jsonl (a resumed run rewrites the steps after its checkpoint)
std::map<int, std::string> losses(const fs::path& run) {
  std::ifstream in(run / "metrics.jsonl");
  std::map<int, std::string> by_step;
  static const std::regex line("\"procedure\": \"train\".*\"loss\": ([-0-9.e]+).*\"step\": ([0-9]+)");
  std::smatch match;
  for (std::string text; std::getline(in, text);)
    if (std::regex_search(text, match, line)) by_step[std::stoi(match[2])] = match[1];
  return by_step;
}

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(Train, RandomStatesComeBackByDevice) {
  train::seed_everything(5);
  auto seeded = at::rand({4});
  train::seed_everything(5);
  EXPECT_TRUE(at::rand({4}).equal(seeded));
  io::NamedTensors states = train::random_states();
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.front().first, "cpu");
  auto next = at::rand({4});
  // a state saved on a machine with a GPU restores on one without: the CPU's is set, the rest left
  states.emplace_back("cuda:99", states.front().second.clone());
  train::set_random_states(states);
  EXPECT_TRUE(at::rand({4}).equal(next));
}

TEST(Train, SameSeedGivesTheSameLosses) {
  test::TempDir dir;
  dir.write("exp.yaml", kTinyTraining);
  ASSERT_EQ(run_wmhost("run exp.yaml --out a", dir.path()), 0) << read(dir.path() / "wmhost.err");
  ASSERT_EQ(run_wmhost("run exp.yaml --out b", dir.path()), 0);
  auto a = losses(dir.path() / "a");
  EXPECT_EQ(a.size(), 60u);
  EXPECT_EQ(a, losses(dir.path() / "b"));
  EXPECT_NE(a, losses((run_wmhost("run exp.yaml --out c seed=4", dir.path()), dir.path() / "c")));
  EXPECT_TRUE(fs::exists(dir.path() / "a/loss.svg"));
  EXPECT_TRUE(fs::exists(dir.path() / "a/checkpoints/step-00000060.pt"));
  EXPECT_FALSE(fs::exists(dir.path() / "a/checkpoints/step-00000050.pt")) << "keep_last: 2";
}

// the last eval_loss (the model's loss on eval_data) in a run's metrics.jsonl
double last_eval_loss(const fs::path& run) {
  std::ifstream in(run / "metrics.jsonl");
  static const std::regex line("\"eval_loss\": ([-0-9.e]+)");
  std::smatch match;
  double last = -1;
  for (std::string text; std::getline(in, text);)
    if (std::regex_search(text, match, line)) last = std::stod(match[1]);
  return last;
}

TEST(Train, AutocastScopeRunsMatrixProductsInBf16AndRestoresWhatWasThere) {
  auto a = at::rand({8, 8}), b = at::rand({8, 8});
  {
    train::Autocast fp32("cpu", "fp32");
    EXPECT_EQ(at::mm(a, b).scalar_type(), at::kFloat);
  }
  {
    train::Autocast bf16("cpu", "bf16");
    EXPECT_EQ(at::mm(a, b).scalar_type(), at::kBFloat16);
    EXPECT_EQ(at::mse_loss(at::mm(a, b), a).scalar_type(), at::kFloat) << "losses stay float32";
    {
      train::Autocast nested("cpu", "bf16");
      EXPECT_EQ(at::mm(a, b).scalar_type(), at::kBFloat16);
    }
    EXPECT_EQ(at::mm(a, b).scalar_type(), at::kBFloat16) << "an inner scope leaves the outer one on";
  }
  EXPECT_EQ(at::mm(a, b).scalar_type(), at::kFloat);
}

// precision: bf16 trains the quickstart's model (its first 300 steps) to the same held-out loss
// as float32, within 5 %: autocast keeps the losses and the master weights in float32. One
// thread and passive OpenMP waits, so the run keeps its pace beside the other tests.
TEST(Train, Bf16TrainsTheQuickstartModelAsWellAsFloat32) {
  test::TempDir dir;
  std::string shorter = "--out {} +threads=1 procedure.0.train.steps=300 "
                        "procedure.0.train.checkpoint_every=300 +procedure.0.train.eval_batches=16 "
                        "data.val.params.samples=256 procedure.1.evaluate.preview=0";
  auto run = [&](const std::string& name, const std::string& precision) {
    std::string args = std::regex_replace(shorter, std::regex("\\{\\}"), name);
    std::string config = (fs::path(WM_TEST_SOURCE_DIR) / "configs/quickstart.yaml").string();
    std::string command = "run " + config + " " + args + " +procedure.0.train.precision=" + precision;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    EXPECT_EQ(run_wmhost(command, dir.path()), 0)
        << read(dir.path() / "wmhost.err");
    return last_eval_loss(dir.path() / name);
  };
  double fp32 = run("fp32", "fp32"), bf16 = run("bf16", "bf16");
  ASSERT_GT(fp32, 0);
  ASSERT_GT(bf16, 0);
  EXPECT_LT(std::abs(bf16 - fp32) / fp32, 0.05) << "fp32 " << fp32 << ", bf16 " << bf16;
  EXPECT_THAT(read(dir.path() / "bf16/config.yaml"), HasSubstr("precision: bf16"));
}

TEST(Train, ResumesAfterAStopWithIdenticalLosses) {
  test::TempDir dir;
  dir.write("exp.yaml", kTinyTraining);
  ASSERT_EQ(run_wmhost("run exp.yaml --out whole", dir.path()), 0);
  EXPECT_EQ(run_wmhost("run exp.yaml --out parts +procedure.0.train.stop_after_steps=23", dir.path()), 3);
  EXPECT_THAT(read(dir.path() / "parts/status.json"), HasSubstr("\"status\": \"stopped\""));
  EXPECT_EQ(losses(dir.path() / "parts").size(), 23u);
  ASSERT_EQ(run_wmhost("run exp.yaml --out parts", dir.path()), 0);
  EXPECT_THAT(read(dir.path() / "parts/log.txt"), HasSubstr("resumed from"));
  EXPECT_EQ(losses(dir.path() / "parts"), losses(dir.path() / "whole"));
}

TEST(Train, ResumesAfterAKillWithIdenticalLosses) {
  test::TempDir dir;
  dir.write("exp.yaml", kTinyTraining);
  ASSERT_EQ(run_wmhost("run exp.yaml --out whole procedure.0.train.steps=400", dir.path()), 0);

  pid_t child = fork();
  if (child == 0) {
    fs::current_path(dir.path());
    execl(WM_TEST_WMHOST, WM_TEST_WMHOST, "run", "exp.yaml", "--out", "killed",
          "procedure.0.train.steps=400", static_cast<char*>(nullptr));
    _exit(127);
  }
  // kill -9 as soon as the first checkpoint exists
  auto first = dir.path() / "killed/checkpoints/step-00000005.pt";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(first) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_TRUE(fs::exists(first));
  ASSERT_FALSE(fs::exists(dir.path() / "killed/status.json")) << "the run finished before the kill";
  EXPECT_LT(losses(dir.path() / "killed").size(), 400u);

  ASSERT_EQ(run_wmhost("run exp.yaml --out killed procedure.0.train.steps=400", dir.path()), 0);
  EXPECT_EQ(losses(dir.path() / "killed"), losses(dir.path() / "whole"));
}

TEST(Train, AnyWorkerCountGivesTheSameLosses) {
  test::TempDir dir;
  // random transforms too: their draws hang on (seed, sample, epoch), not on the thread
  std::string yaml = kTinyTraining;
  yaml.replace(yaml.find("size: 16}}"), 10,
               "size: 16}, transforms: [{color_jitter: {brightness: 0.3, hue: 0.1}}, "
               "{hflip: {action_x: [0], state_x: [0, 4, 8], state_vx: [2, 6, 10]}}]}");
  dir.write("exp.yaml", yaml);
  ASSERT_EQ(run_wmhost("run exp.yaml --out serial +data.train.workers=0", dir.path()), 0)
      << read(dir.path() / "wmhost.err");
  ASSERT_EQ(run_wmhost("run exp.yaml --out threaded +data.train.workers=2 +data.train.prefetch=3", dir.path()), 0);
  auto serial = losses(dir.path() / "serial");
  EXPECT_EQ(serial.size(), 60u);
  EXPECT_EQ(serial, losses(dir.path() / "threaded"));
  dir.write("plain.yaml", kTinyTraining);
  ASSERT_EQ(run_wmhost("run plain.yaml --out plain", dir.path()), 0);
  EXPECT_NE(serial, losses(dir.path() / "plain")) << "the transforms did something";
}

TEST(Train, SkipsUnreadableSamplesAndSaysWhich) {
  test::TempDir dir;
  std::string yaml = kTinyTraining;
  yaml.replace(yaml.find("{plugin: synthetic, params: {samples: 64, frames: 5, size: 16}}"), 63,
               "{plugin: test_clips, params: {samples: 16, frames: 5, size: 16, unreadable: [3, 9]}}");
  dir.write("exp.yaml", yaml);
  std::string plugins = std::string("--plugin-path '") + WM_TEST_BROKEN_PLUGIN_DIR + "/clips' ";
  ASSERT_EQ(run_wmhost(plugins + "run exp.yaml --out run procedure.0.train.steps=12", dir.path()), 0)
      << read(dir.path() / "wmhost.err");
  std::string log = read(dir.path() / "run/log.txt");
  EXPECT_THAT(log, HasSubstr("skipped unreadable sample 'clip-3' (clips/clip-3.mp4): truncated file"));
  EXPECT_THAT(log, HasSubstr("skipped unreadable sample 'clip-9' (clips/clip-9.mp4)"));
  EXPECT_THAT(log, HasSubstr("unreadable samples were skipped"));
  EXPECT_THAT(read(dir.path() / "run/metrics.jsonl"), HasSubstr("\"skipped_samples\": 6"))
      << "12 steps of 4 = 3 epochs of 16: both unreadable clips met 3 times";
}

TEST(Train, NonFiniteLossStopsWithAClearMessage) {
  test::TempDir dir;
  dir.write("exp.yaml", kTinyTraining);
  EXPECT_EQ(run_wmhost("run exp.yaml --out nan procedure.0.train.lr=1.0e30 +procedure.0.train.clip_grad=0",
                       dir.path()),
            1);
  std::string log = read(dir.path() / "nan/log.txt");
  EXPECT_THAT(log, HasSubstr("train: loss is"));
  EXPECT_THAT(log, HasSubstr("Lower lr, raise warmup or set clip_grad, then resume: true"));
}

TEST(Train, ABaselineWithoutParametersCannotBeTrained) {
  test::TempDir dir;
  dir.write("exp.yaml", std::string(kTinyTraining) + "");
  EXPECT_EQ(run_wmhost("run exp.yaml --out base model.plugin=copy_last model.params={}", dir.path()), 1);
  EXPECT_THAT(read(dir.path() / "base/log.txt"), HasSubstr("has no trainable parameters"));
}

}  // namespace
}  // namespace wm
