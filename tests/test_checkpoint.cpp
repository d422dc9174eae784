// Checkpoints in torch.save's format: Python's torch.load(weights_only=True) reads a trained run's
// checkpoint with the model's own names and wmhost's values; nesting at "/" round-trips; the
// format before it (TorchScript name_i/value_i archives) still resumes bit-exactly; a full disk
// while a checkpoint is written fails the run with a message and keeps the previous checkpoint.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/serialize.h>

#include <map>

#include "test_support.h"
#include "wm/error.h"
#include "wm/io/atomic_file.h"
#include "wm/io/checkpoint.h"
#include "wm/model.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
using test::read_text;
using ::testing::HasSubstr;

const char* kModelParams =
    "{image_size: 16, patch: 4, dim: 16, depth: 1, heads: 2, change_dim: 4, "
    "decoder_dim: 16, decoder_depth: 1, max_gap: 2}";

// 8 steps, stopping after 4: the same config run twice in one folder checkpoints at 4 and resumes
std::string tiny_training(int steps, int stop_after) {
  return std::string(R"(experiment: tiny_checkpoint
seed: 3
threads: 1
data:
  train: {plugin: synthetic, params: {samples: 64, frames: 5, size: 16}}
model:
  plugin: two_stream
  params: )") +
         kModelParams + R"(
procedure:
  - train: {steps: )" +
         std::to_string(steps) + R"(, batch_size: 4, lr: 3.0e-3, warmup: 2, log_every: 2,
            checkpoint_every: 4, keep_last: 2, resume: true, stop_after_steps: )" +
         std::to_string(stop_after) + "}\n";
}

int run(const std::string& args, const test::TempDir& dir) {
  test::CliResult result = test::wmhost(args, dir.path());
  if (result.code != 0 && result.code != 3)
    ADD_FAILURE() << "wmhost " << args << " exited " << result.code << ":\n" << result.err;
  return result.code;
}

//---- the library: nesting, values, errors ----

TEST(Checkpoint, EntriesNestAtSlashesAndComeBackWithTheirTypes) {
  test::TempDir dir;
  auto base = at::arange(10, at::kFloat);
  io::CheckpointEntries entries = {
      {"step", int64_t{12}},
      {"model/encoder.blocks.0.attn.qkv.weight", at::arange(6, at::kFloat).view({2, 3})},
      {"model/view", base.slice(0, 2, 5)},  // a view: saved without the rest of its base
      {"rng/cpu", at::ones({7}, at::kByte)},
      {"position/cursor", int64_t{-5}},
      {"config", std::string("seed: 3\nname: 'a/b'\n")}};
  io::save_checkpoint(dir.path() / "a.pt", entries);
  auto back = io::load_checkpoint(dir.path() / "a.pt");
  ASSERT_EQ(back.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(back[i].first, entries[i].first);
    EXPECT_EQ(back[i].second.index(), entries[i].second.index()) << entries[i].first;
  }
  EXPECT_TRUE(std::get<at::Tensor>(back[2].second).equal(at::tensor({2.0f, 3.0f, 4.0f})));
  EXPECT_EQ(std::get<at::Tensor>(back[2].second).storage().nbytes(), 3 * sizeof(float));
  EXPECT_EQ(std::get<int64_t>(back[4].second), -5);
  EXPECT_EQ(std::get<std::string>(back[5].second), "seed: 3\nname: 'a/b'\n");
  EXPECT_EQ(io::checkpoint_integer(back, "step"), 12);
  EXPECT_EQ(io::checkpoint_integer(back, "absent"), std::nullopt);

  // Python sees the nesting, and ints and texts as Python's own
  std::string out = test::run_python(dir, R"PY(
import sys, torch
d = torch.load(sys.argv[1] + '/a.pt', weights_only=True)
assert list(d) == ['step', 'model', 'rng', 'position', 'config'], list(d)
assert d['step'] == 12 and isinstance(d['step'], int)
assert list(d['model']) == ['encoder.blocks.0.attn.qkv.weight', 'view']
assert d['model']['view'].tolist() == [2.0, 3.0, 4.0]
assert d['rng']['cpu'].dtype == torch.uint8 and d['position']['cursor'] == -5
assert d['config'] == "seed: 3\nname: 'a/b'\n"
print('python ok')
)PY");
  EXPECT_THAT(out, HasSubstr("python ok"));

  EXPECT_THAT(test::error_of([&] {
                io::save_checkpoint(dir.path() / "b.pt", {{"a", int64_t{1}}, {"a/b", int64_t{2}}});
              }),
              HasSubstr("'a/b' lies under 'a', which is a value"));
  EXPECT_THAT(test::error_of([&] {
                io::save_checkpoint(dir.path() / "b.pt", {{"a//b", int64_t{1}}});
              }),
              HasSubstr("empty part"));
  EXPECT_FALSE(fs::exists(dir.path() / "b.pt"));
}

TEST(Checkpoint, ReadsWhatPythonSavedFloatsAndBoolsIncluded) {
  test::TempDir dir;
  test::run_python(dir, R"PY(
import sys, torch
# (dicts of two or more: LibTorch 1.13's unpickler lacks SETITEM, which pickle uses for one item)
torch.save({'model': {'w': torch.full((2,), 1.5), 'b': torch.zeros(1)}, 'lr': 0.25, 'flag': True,
            'tags': [1, 2]}, sys.argv[1] + '/p.pt')
)PY");
  auto entries = io::load_checkpoint(dir.path() / "p.pt");
  std::map<std::string, io::CheckpointValue> by_name(entries.begin(), entries.end());
  ASSERT_EQ(by_name.size(), 4u) << "the list is left out";
  EXPECT_TRUE(std::get<at::Tensor>(by_name.at("model/w")).equal(at::full({2}, 1.5)));
  EXPECT_EQ(std::get<at::Tensor>(by_name.at("lr")).item<double>(), 0.25);
  EXPECT_EQ(std::get<int64_t>(by_name.at("flag")), 1);
  EXPECT_THAT(test::error_of([&] { io::load_checkpoint(dir.write("bad.pt", "not a checkpoint")); }),
              HasSubstr("neither a torch.save file nor an older wmhost checkpoint"));
}

//---- a trained run's checkpoint in Python ----

TEST(Checkpoint, TorchLoadWeightsOnlyGivesTheTrainedModelsStateDict) {
  test::TempDir dir;
  dir.write("exp.yaml", tiny_training(8, 0));
  ASSERT_EQ(run("run exp.yaml --out run", dir), 0);
  fs::path file = dir.path() / "run/checkpoints/step-00000008.pt";
  ASSERT_TRUE(fs::exists(file));

  // wmhost's tensors: the checkpoint read back into a fresh model of the run's architecture, whose
  // own names must all be there with their shapes; written raw for numpy
  auto model = test::make<Model>("two_stream", kModelParams);
  auto untrained = model->state();
  std::vector<at::Tensor> initial;
  for (const auto& [name, tensor] : untrained) initial.push_back(tensor.clone());
  io::NamedTensors saved = io::with_prefix(io::load_tensors(file), "model/");
  ASSERT_EQ(saved.size(), untrained.size());
  io::copy_by_name(saved, untrained, "checkpoint");
  std::string names;
  int changed = 0;
  for (size_t i = 0; i < untrained.size(); ++i) {
    const auto& [name, tensor] = untrained[i];
    names += name + " " + std::to_string(tensor.numel()) + "\n";
    test::write_raw(dir.path() / ("raw_" + std::to_string(i)), tensor);
    changed += !tensor.equal(initial[i]);
  }
  EXPECT_GT(changed, static_cast<int>(untrained.size()) / 2) << "training moved the weights";
  dir.write("names.txt", names);

  std::string out = test::run_python(dir, R"PY(
import sys, numpy as np, torch
root = sys.argv[1]
d = torch.load(root + '/run/checkpoints/step-00000008.pt', weights_only=True)
names = [line.split() for line in open(root + '/names.txt')]
state = d['model']
assert list(state) == [n for n, _ in names], (list(state), names)
for i, (name, numel) in enumerate(names):
    mine = np.fromfile(root + '/raw_%d' % i, dtype=np.float64)
    theirs = state[name].double().flatten().numpy()
    assert theirs.size == int(numel) and np.array_equal(mine, theirs), name
assert d['step'] == 8 and d['position']['step'] == 8 and d['position']['samples'] == 32
assert d['optimizer']['step'].item() == 8
assert set(d['optimizer']['exp_avg']) <= set(state)
assert d['rng']['cpu'].dtype == torch.uint8 and d['history'].shape == (8, 2)
assert d['config'] == open(root + '/run/config.yaml').read()
print('python ok: %d tensors' % len(state))
)PY");
  EXPECT_THAT(out, HasSubstr("python ok"));
}

//---- the older format ----

// wmhost's checkpoint writer before torch.save: name_i/value_i pairs in a TorchScript archive,
// names as tensors of character codes; position one tensor, integers 0-d tensors
void save_old_format(const fs::path& file, const io::CheckpointEntries& entries) {
  io::NamedTensors tensors;
  std::vector<int64_t> position(5, 0);
  const std::vector<std::string> fields = {"step", "samples", "tokens", "epoch", "cursor"};
  for (const auto& [name, value] : entries) {
    if (name.rfind("position/", 0) == 0) {
      auto field = std::find(fields.begin(), fields.end(), name.substr(9)) - fields.begin();
      position[static_cast<size_t>(field)] = std::get<int64_t>(value);
    } else if (const auto* tensor = std::get_if<at::Tensor>(&value)) {
      tensors.emplace_back(name, *tensor);
    } else if (const auto* integer = std::get_if<int64_t>(&value); integer && name != "step") {
      tensors.emplace_back(name, at::scalar_tensor(*integer, at::kLong));
    }
  }
  tensors.emplace_back("position", at::tensor(position));
  torch::serialize::OutputArchive archive;
  for (size_t i = 0; i < tensors.size(); ++i) {
    archive.write(
        "name_" + std::to_string(i),
        at::tensor(std::vector<int64_t>(tensors[i].first.begin(), tensors[i].first.end())));
    archive.write("value_" + std::to_string(i), tensors[i].second.detach().cpu());
  }
  archive.write("count", at::scalar_tensor(static_cast<int64_t>(tensors.size()), at::kLong));
  archive.save_to(file.string());
}

TEST(Checkpoint, AnOlderFormatCheckpointResumesBitExactly) {
  test::TempDir dir;
  dir.write("exp.yaml", tiny_training(8, 4));
  for (const char* out : {"new", "old"}) {
    ASSERT_EQ(run(std::string("run exp.yaml --out ") + out, dir), 3);
    ASSERT_TRUE(fs::exists(dir.path() / out / "checkpoints/step-00000004.pt"));
  }
  fs::path old_file = dir.path() / "old/checkpoints/step-00000004.pt";
  save_old_format(old_file, io::load_checkpoint(old_file));
  // the old file is what Python could not use: torch.load hands back a ScriptModule (1.13), or
  // refuses it under weights_only (2.6+)
  std::string python = test::run_python(dir, R"PY(
import sys, torch
try:
    loaded = torch.load(sys.argv[1] + '/old/checkpoints/step-00000004.pt', weights_only=True)
    print('a dict' if isinstance(loaded, dict) else 'not a dict: ' + type(loaded).__name__)
except Exception as e:
    print('refused')
)PY");
  EXPECT_THAT(python, ::testing::AnyOf(HasSubstr("not a dict: RecursiveScriptModule"),
                                       HasSubstr("refused")));

  for (const char* out : {"new", "old"})
    ASSERT_EQ(run(std::string("run exp.yaml --out ") + out, dir), 0);
  EXPECT_THAT(read_text(dir.path() / "old/log.txt"),
              HasSubstr("resumed from old/checkpoints/step-00000004.pt"));
  auto resumed_new = io::load_tensors(dir.path() / "new/checkpoints/step-00000008.pt");
  auto resumed_old = io::load_tensors(dir.path() / "old/checkpoints/step-00000008.pt");
  ASSERT_EQ(resumed_old.size(), resumed_new.size());
  for (size_t i = 0; i < resumed_new.size(); ++i) {
    EXPECT_EQ(resumed_old[i].first, resumed_new[i].first);
    // where metrics.jsonl ended is a byte count of lines holding wall times: it differs
    if (resumed_new[i].first == "metrics/offset") continue;
    EXPECT_TRUE(resumed_old[i].second.equal(resumed_new[i].second)) << resumed_new[i].first;
  }
  // init_from and load read it too
  std::string b = tiny_training(2, 0);
  b.replace(b.find("resume: true"), 12, "init_from: " + old_file.string());
  dir.write("b.yaml", b);
  ASSERT_EQ(run("run b.yaml --out b", dir), 0);
  EXPECT_THAT(read_text(dir.path() / "b/log.txt"),
              HasSubstr("tensors of the model from " + old_file.string()));
}

//---- a full disk ----

// runs wmhost in a child whose files may not grow past `limit` bytes (as a full disk: writes
// fail with EFBIG; SIGXFSZ ignored, as it stays across exec); returns the exit code
int run_with_file_size_limit(const test::TempDir& dir, const std::string& out, rlim_t limit) {
  pid_t child = fork();
  if (child == 0) {
    if (chdir(dir.path().c_str()) != 0) _exit(126);
    signal(SIGXFSZ, SIG_IGN);
    rlimit cap{limit, limit};
    if (setrlimit(RLIMIT_FSIZE, &cap) != 0) _exit(125);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1), dup2(null, 2);
    execl(WM_TEST_WMHOST, WM_TEST_WMHOST, "run", "exp.yaml", "--out", out.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(Checkpoint, AFullDiskFailsTheRunAndKeepsThePreviousCheckpoint) {
  test::TempDir dir;
  dir.write("exp.yaml", tiny_training(8, 4));
  ASSERT_EQ(run("run exp.yaml --out run", dir), 3);
  fs::path previous = dir.path() / "run/checkpoints/step-00000004.pt";
  std::string bytes = read_text(previous);
  ASSERT_GT(bytes.size(), 40000u);

  // the resumed run's logs fit under half a checkpoint; its next checkpoint does not
  int code = run_with_file_size_limit(dir, "run", bytes.size() / 2);
  EXPECT_EQ(code, 1) << "a clear failure, not a signal (134 is std::terminate's abort)";
  std::string status = read_text(dir.path() / "run/status.json");
  EXPECT_THAT(status, HasSubstr("\"status\": \"failed\""));
  EXPECT_THAT(status, HasSubstr("File too large"));
  std::string log = read_text(dir.path() / "run/log.txt");
  EXPECT_THAT(
      log, HasSubstr("run failed: cannot write run/checkpoints/step-00000008.pt: File too large"));
  EXPECT_EQ(read_text(previous), bytes) << "the previous checkpoint is intact";
  EXPECT_FALSE(fs::exists(dir.path() / "run/checkpoints/step-00000008.pt"));
  for (const auto& entry : fs::directory_iterator(dir.path() / "run/checkpoints"))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  EXPECT_EQ(io::checkpoint_integer(io::load_checkpoint(previous), "step"), 4);
}

TEST(Checkpoint, AWriteErrorIsAnErrorWithNoTemporaryLeft) {
  // in a child: its files may not grow past 1000 bytes, so writing 4 kB fails with EFBIG
  test::TempDir dir;
  pid_t child = fork();
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit cap{1000, 1000};
    setrlimit(RLIMIT_FSIZE, &cap);
    try {
      io::save_tensors(dir.path() / "x.pt", {{"w", at::zeros({1000})}});
    } catch (const Error& e) {
      _exit(std::string(e.what()).find("cannot write") != std::string::npos ? 0 : 2);
    }
    _exit(3);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(fs::is_empty(dir.path())) << "no temporary left behind";
}

}  // namespace
}  // namespace wm
