// Protocol plumbing end to end through the real binary: ${run.dir} and deferred construction,
// `load` + evaluate reproducing a run, init_from (strict and not), per-step checkpoint folders
// with resume, named envs and first_episode offsets on state-only episodes.
#include <fstream>
#include <regex>
#include <sstream>

#include "test_support.h"
#include "wm/dataset.h"
#include "wm/env.h"
#include "wm/io/checkpoint.h"
#include "wm/model.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using test::read_text;

int wmhost(const std::string& args, const test::TempDir& dir, std::string* output = nullptr) {
  int code = 0;
  std::string text = test::run_wmhost(args + " +threads=1", dir.path(), code);
  if (output) *output = text;
  if (code != 0 && !output) ADD_FAILURE() << "wmhost " << args << " exited " << code << ":\n" << text;
  return code;
}

// a tiny two_stream on synthetic clips: `width` changes the architecture
std::string model_section(int width) {
  return "model:\n  plugin: two_stream\n  params: {image_size: 16, patch: 4, dim: " +
         std::to_string(width) + ", depth: 1, heads: 2, change_dim: 4, decoder_dim: 16, "
         "decoder_depth: 1, max_gap: 2}\n";
}

const char* kData = R"(data:
  train: {plugin: synthetic, split: train, params: {samples: 96, frames: 5, size: 16}}
  val: {plugin: synthetic, split: val, params: {samples: 96, frames: 5, size: 16}}
metrics: [{plugin: psnr}]
)";

// the train losses of a run's metrics.jsonl in order, one list per train step (a step's losses
// start again at step 1; a resumed step continues its list)
std::vector<std::vector<std::string>> train_losses(const fs::path& run) {
  std::ifstream in(run / "metrics.jsonl");
  std::vector<std::vector<std::string>> steps;
  static const std::regex line("\"procedure\": \"train\".*\"loss\": ([-0-9.e]+).*\"step\": ([0-9]+)");
  std::smatch match;
  int last = 0;
  for (std::string text; std::getline(in, text);) {
    if (!std::regex_search(text, match, line)) continue;
    int step = std::stoi(match[2]);
    if (steps.empty() || step <= last) {
      if (step != 1 && !steps.empty()) {  // a resumed step: drop what it repeats
        steps.back().resize(static_cast<size_t>(step - 1));
      } else {
        steps.emplace_back();
      }
    }
    steps.back().push_back(match[1]);
    last = step;
  }
  return steps;
}

//---- load + evaluate ----

TEST(Protocol, LoadAndEvaluateReproducesTheRunByteForByte) {
  test::TempDir dir;
  dir.write("a.yaml", std::string("experiment: a\nseed: 4\n") + kData + model_section(16) +
                          R"(procedure:
  - train: {data: train, steps: 12, batch_size: 8, lr: 3.0e-3, log_every: 4}
  - evaluate: {data: val, batch_size: 8, gaps: [1, 2]}
)");
  ASSERT_EQ(wmhost("run a.yaml --out run_a", dir), 0);
  // an evaluation-only run: no training, the weights of run A
  dir.write("b.yaml", std::string("experiment: b\nseed: 9\n") + kData + model_section(16) +
                          R"(procedure:
  - load: {from: run_a}
  - evaluate: {data: val, batch_size: 8, gaps: [1, 2]}
)");
  ASSERT_EQ(wmhost("run b.yaml --out run_b", dir), 0);
  std::string a = read_text(dir.path() / "run_a/evaluate_val.csv");
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(read_text(dir.path() / "run_b/evaluate_val.csv"), a);
  EXPECT_THAT(read_text(dir.path() / "run_b/log.txt"), HasSubstr("run_a/checkpoints/step-00000012.pt"));
  EXPECT_FALSE(fs::exists(dir.path() / "run_b/checkpoints")) << "load trains nothing";

  // without the load, the same evaluation scores the untrained model: the check can fail
  dir.write("c.yaml", std::string("experiment: c\nseed: 9\n") + kData + model_section(16) +
                          "procedure:\n  - evaluate: {data: val, batch_size: 8, gaps: [1, 2]}\n");
  ASSERT_EQ(wmhost("run c.yaml --out run_c", dir), 0);
  EXPECT_NE(read_text(dir.path() / "run_c/evaluate_val.csv"), a);
}

//---- init_from ----

TEST(Protocol, StrictInitFromAnotherArchitectureNamesTheFirstDifferingTensor) {
  test::TempDir dir;
  dir.write("a.yaml", std::string("experiment: a\nseed: 1\n") + kData + model_section(16) +
                          "procedure:\n  - train: {data: train, steps: 2, batch_size: 8}\n");
  ASSERT_EQ(wmhost("run a.yaml --out run_a", dir), 0);
  fs::path checkpoint = dir.path() / "run_a/checkpoints/step-00000002.pt";
  ASSERT_TRUE(fs::exists(checkpoint));

  // the first tensor, in the model's order, whose shape differs, found here independently
  auto wider = test::make<Model>("two_stream", "{image_size: 16, patch: 4, dim: 24, depth: 1, heads: 2, "
                                               "change_dim: 4, decoder_dim: 16, decoder_depth: 1, max_gap: 2}");
  io::NamedTensors saved = io::with_prefix(io::load_tensors(checkpoint), "model/");
  std::map<std::string, at::Tensor> by_name(saved.begin(), saved.end());
  auto shape = [](const at::Tensor& tensor) {
    std::string text;
    for (int64_t size : tensor.sizes()) text += (text.empty() ? "" : ", ") + std::to_string(size);
    return "[" + text + "]";
  };
  std::string first, expected;
  for (const auto& [name, tensor] : wider->state()) {
    if (by_name.count(name) && by_name.at(name).sizes().equals(tensor.sizes())) continue;
    first = name;
    expected = by_name.count(name) ? "'" + name + "' differs: checkpoint " + shape(by_name.at(name)) +
                                         ", model " + shape(tensor)
                                   : "'" + name + "' is not in the checkpoint";
    break;
  }
  ASSERT_FALSE(first.empty());

  std::string b = std::string("experiment: b\nseed: 1\n") + kData + model_section(24) +
                  "procedure:\n  - train: {data: train, steps: 2, batch_size: 8, init_from: run_a}\n";
  dir.write("b.yaml", b);
  std::string output;
  EXPECT_NE(wmhost("run b.yaml --out run_b", dir, &output), 0);
  std::string log = read_text(dir.path() / "run_b/log.txt");
  EXPECT_THAT(log, HasSubstr("first mismatch " + expected));

  // init_strict: false loads what fits and lists the rest
  dir.write("c.yaml", b.substr(0, b.size() - 2) + ", init_strict: false}\n");
  ASSERT_EQ(wmhost("run c.yaml --out run_c", dir), 0);
  log = read_text(dir.path() / "run_c/log.txt");
  EXPECT_THAT(log, HasSubstr("skipped " + expected));
  EXPECT_THAT(log, ::testing::ContainsRegex("train: [1-9][0-9]* tensors of the model from"));

  // a missing init_from fails validation, naming the key
  dir.write("d.yaml", std::string("experiment: d\n") + kData + model_section(16) +
                          "procedure:\n  - train: {data: train, steps: 2, init_from: nowhere}\n");
  EXPECT_NE(wmhost("validate d.yaml", dir, &output), 0);
  EXPECT_THAT(output, HasSubstr("init_from"));
  EXPECT_THAT(output, HasSubstr("nowhere"));
}

TEST(Protocol, InitFromStartsFromTheWeightsWithAFreshOptimiser) {
  test::TempDir dir;
  std::string train = "{data: train, steps: 6, batch_size: 8, lr: 3.0e-3, log_every: 1}";
  auto config = [&](const std::string& name, const std::string& steps) {
    return "experiment: " + name + "\nseed: 2\n" + kData + model_section(16) + "procedure:\n" + steps;
  };
  dir.write("a.yaml", config("a", "  - train: " + train + "\n"));
  ASSERT_EQ(wmhost("run a.yaml --out run_a", dir), 0);
  // init_from = load, then train with a fresh optimiser and schedule
  dir.write("b.yaml", config("b", "  - train: {data: train, steps: 6, batch_size: 8, lr: 3.0e-3, "
                                  "log_every: 1, init_from: run_a/checkpoints/step-00000006.pt}\n"));
  dir.write("c.yaml", config("c", "  - load: {from: run_a}\n  - train: " + train + "\n"));
  ASSERT_EQ(wmhost("run b.yaml --out run_b", dir), 0);
  ASSERT_EQ(wmhost("run c.yaml --out run_c", dir), 0);
  auto a = train_losses(dir.path() / "run_a"), b = train_losses(dir.path() / "run_b"),
       c = train_losses(dir.path() / "run_c");
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(b[0].size(), 6u);
  EXPECT_EQ(b, c);
  EXPECT_NE(b, a) << "the weights were loaded";
  EXPECT_THAT(read_text(dir.path() / "run_b/log.txt"), HasSubstr("step-00000006.pt"));
}

//---- per-step checkpoints and resume ----

TEST(Protocol, ResumingTheSecondTrainStepGivesTheUninterruptedLosses) {
  test::TempDir dir;
  auto config = [&](int stop_after) {
    return std::string("experiment: two_steps\nseed: 5\n") + kData + model_section(16) +
           "procedure:\n"
           "  - train: {data: train, steps: 8, batch_size: 8, lr: 3.0e-3, log_every: 1, "
           "checkpoint_every: 4, resume: true}\n"
           "  - train: {name: second, data: train, steps: 10, batch_size: 8, lr: 1.0e-3, log_every: 1, "
           "checkpoint_every: 3, resume: true, stop_after_steps: " + std::to_string(stop_after) + "}\n";
  };
  dir.write("whole.yaml", config(0));
  ASSERT_EQ(wmhost("run whole.yaml --out whole", dir), 0);
  dir.write("parts.yaml", config(4));
  std::string output;
  EXPECT_EQ(wmhost("run parts.yaml --out parts", dir, &output), 3) << output;  // stopped
  EXPECT_TRUE(fs::exists(dir.path() / "parts/checkpoints/step-00000008.pt"));
  EXPECT_TRUE(fs::exists(dir.path() / "parts/checkpoints-2/step-00000004.pt"));
  ASSERT_EQ(wmhost("run whole.yaml --out parts", dir), 0);  // no stop: continues the second step

  auto whole = train_losses(dir.path() / "whole"), parts = train_losses(dir.path() / "parts");
  ASSERT_EQ(whole.size(), 2u);
  ASSERT_EQ(whole[0].size(), 8u);
  ASSERT_EQ(whole[1].size(), 10u);
  EXPECT_EQ(parts, whole);
  EXPECT_TRUE(fs::exists(dir.path() / "whole/checkpoints-2/step-00000010.pt"));
}

//---- ${run.dir}, deferred construction, named envs, first_episode ----

// a state-only collect into the run folder, read back by a data entry and a scaler fitted there
const char* kStateOnly = R"(experiment: state_only
seed: 7
envs:
  near: {plugin: point_mass, params: {max_episode_steps: 12}}
  far: {plugin: point_mass, params: {max_episode_steps: 20, success_radius: 0}}
data:
  demos: {plugin: webdataset, action_scaler: "${run.dir}/scaler.yaml",
          params: {shards: "${run.dir}/demos/*.tar", video_ext: none, action_fields: action,
                   signals: "state, reward", frames: 4}}
procedure:
  - collect: {env: near, episodes: 4, policy: random, video: false, out: "${run.dir}/demos",
              episodes_per_shard: 2}
  - collect: {env: far, episodes: 2, policy: zero, video: false, first_episode: 1000,
              out: "${run.dir}/eval"}
  - fit_action_scaler: {shards: "${run.dir}/demos/*.tar", action_fields: [action], holdout: 0,
                        min_samples: 0, output: "${run.dir}/scaler.yaml"}
)";

TEST(Protocol, ValidationAcceptsFilesAnEarlierStepWritesUnderRunDir) {
  test::TempDir dir;
  dir.write("exp.yaml", kStateOnly);
  std::string output;
  ASSERT_EQ(wmhost("validate exp.yaml", dir, &output), 0) << output;
  ASSERT_EQ(wmhost("run exp.yaml --out run", dir, &output), 0) << output;
  fs::path run = fs::absolute(dir.path() / "run");
  // config.yaml holds the folder itself
  std::string config = read_text(run / "config.yaml");
  EXPECT_THAT(config, HasSubstr(run.lexically_normal().string() + "/demos"));
  EXPECT_THAT(config, ::testing::Not(HasSubstr("${run.dir}")));
  EXPECT_TRUE(fs::exists(run / "demos/shard-000001.tar"));
  EXPECT_TRUE(fs::exists(run / "scaler.yaml"));
  // the far env's episodes are longer: the named env was used
  auto eval = test::make<Dataset>("webdataset", "{shards: '" + (run / "eval/*.tar").string() +
                                                    "', video_ext: none, action_fields: action, "
                                                    "signals: state, frames: 21}");
  ASSERT_EQ(eval->size(), 2);
  EXPECT_EQ(eval->get(1).tensors.at("state").size(0), 21);

  // an unknown env name fails validation with the names there are
  dir.write("bad.yaml", std::regex_replace(std::string(kStateOnly), std::regex("env: near"), "env: nearby"));
  EXPECT_NE(wmhost("validate bad.yaml", dir, &output), 0);
  EXPECT_THAT(output, HasSubstr("no env 'nearby' under `envs:`; did you mean 'near'?"));
  // a file under ${run.dir} that no step writes fails when its consumer is built, naming it
  std::string missing = std::string(kStateOnly) + "  - tiers: {data: demos, fractions: [0.25, 0.25, 0.25]}\n";
  std::string scaler = "action_scaler: \"${run.dir}/scaler.yaml\"";
  missing.replace(missing.find(scaler), scaler.size(), "action_scaler: \"${run.dir}/other.yaml\"");
  dir.write("missing.yaml", missing);
  EXPECT_EQ(wmhost("run missing.yaml --out run2", dir, &output), 1);
  EXPECT_THAT(read_text(dir.path() / "run2/log.txt"), HasSubstr("data.demos"));
  EXPECT_THAT(read_text(dir.path() / "run2/log.txt"), HasSubstr("other.yaml"));
}

TEST(Protocol, OnlyEntriesUnderRunDirWaitForTheirStep) {
  test::TempDir dir;
  // no ${run.dir} in data.bad: it is built before the first step and fails before collect runs
  dir.write("exp.yaml", R"(experiment: early
env: {plugin: point_mass, params: {max_episode_steps: 3}}
data:
  later: {plugin: webdataset, params: {shards: "${run.dir}/demos/*.tar", video_ext: none,
                                       action_fields: action, frames: 2}}
  bad: {plugin: webdataset, params: {shards: "nowhere/*.tar", video_ext: none, action_fields: action}}
procedure:
  - collect: {episodes: 1, policy: zero, video: false, out: "${run.dir}/demos"}
)");
  std::string output;
  EXPECT_EQ(wmhost("run exp.yaml --out run", dir, &output), 1) << output;
  std::string log = read_text(dir.path() / "run/log.txt");
  EXPECT_THAT(log, HasSubstr("nowhere"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("--- collect")));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("data.later")));
}

TEST(Protocol, RunDirIsEachSweepPointsOwnFolder) {
  test::TempDir dir;
  dir.write("exp.yaml", R"(experiment: points
env: {plugin: point_mass, params: {max_episode_steps: 3}}
procedure:
  - collect: {episodes: 1, policy: zero, video: false, out: "${run.dir}/demos"}
sweep:
  seed: [1, 2]
)");
  ASSERT_EQ(wmhost("run exp.yaml --out sweep", dir), 0);
  for (const char* point : {"seed=1", "seed=2"}) {
    fs::path folder = fs::absolute(dir.path() / "sweep" / point).lexically_normal();
    EXPECT_TRUE(fs::exists(folder / "demos/shard-000000.tar")) << point;
    EXPECT_THAT(read_text(folder / "config.yaml"), HasSubstr(folder.string() + "/demos")) << point;
  }
  // --dry-run shows the reference itself: no folder exists yet
  std::string output;
  ASSERT_EQ(wmhost("run exp.yaml --dry-run", dir, &output), 0);
  EXPECT_THAT(output, HasSubstr("${run.dir}/demos"));
}

TEST(Protocol, FirstEpisodeSeparatesDemoStartsFromEvaluationStarts) {
  test::TempDir dir;
  dir.write("exp.yaml", R"(experiment: starts
seed: 3
env: {plugin: point_mass, params: {max_episode_steps: 5}}
procedure:
  - collect: {episodes: 3, policy: zero, video: false, out: demos}
  - collect: {name: same, episodes: 3, policy: zero, video: false, out: same}
  - collect: {name: eval, episodes: 3, policy: zero, video: false, out: eval, first_episode: 3}
)");
  ASSERT_EQ(wmhost("run exp.yaml --out run", dir), 0);
  auto starts = [&](const std::string& folder) {
    auto data = test::make<Dataset>("webdataset", "{shards: '" + (dir.path() / folder / "*.tar").string() +
                                                      "', video_ext: none, action_fields: action, "
                                                      "signals: state, frames: 2}");
    std::vector<at::Tensor> states;
    for (int64_t i = 0; i < data->size(); ++i) states.push_back(data->get(i).tensors.at("state")[0]);
    return at::stack(states);
  };
  at::Tensor demos = starts("demos"), same = starts("same"), eval = starts("eval");
  ASSERT_EQ(demos.size(0), 3);
  EXPECT_TRUE(demos.equal(same)) << "equal offsets start from equal states";
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j)
      EXPECT_FALSE(demos[i].equal(eval[j])) << "demo " << i << " and evaluation episode " << j;
  // episode i of first_episode 3 is the env reset with seed * 1000003 + 3 + i
  auto env = test::make<Env>("point_mass", "{max_episode_steps: 5}");
  EXPECT_TRUE(env->reset(3u * 1000003u + 3u).at("state").equal(eval[0]));
}

}  // namespace
}  // namespace wm
