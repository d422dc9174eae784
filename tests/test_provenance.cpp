// provenance.json: what made a run, checked against Python's own view of the same machine and
// against git for the commit.
#include <cstdlib>

#include <torch/version.h>

#include "report/provenance.h"
#include "test_support.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const char* kShortTraining = R"(experiment: provenance_run
seed: 2
threads: 1
data:
  train: {plugin: synthetic, params: {samples: 16, frames: 5, size: 16}}
model:
  plugin: two_stream
  params: {image_size: 16, patch: 4, dim: 16, depth: 1, heads: 2, change_dim: 4,
           decoder_dim: 16, decoder_depth: 1, max_gap: 2}
procedure:
  - train: {steps: 4, batch_size: 4, checkpoint_every: 2, resume: true, tensorboard: false}
)";

TEST(Provenance, RecordsTheInvocationTheBuildAndTheMachine) {
  test::TempDir dir;
  dir.write("exp.yaml", kShortTraining);
  // the value test::run_python gives Python, so the recorded one can be compared there
  setenv("OMP_NUM_THREADS", "1", 1);
  int code = 0;
  std::string output = test::run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  ASSERT_TRUE(fs::exists(dir.path() / "run" / "provenance.json")) << output;
  // the commit is the source tree's HEAD when it is a git checkout, else "unknown"
  std::string checked = test::run_python(dir, R"py(
import json, os, socket, subprocess, sys
import torch
root, source = sys.argv[1], sys.argv[2]
p = json.load(open(os.path.join(root, 'run', 'provenance.json')))
print('invocation', p['invocation'])
print('argv', p['argv'][1:])
print('wmhost binary', os.path.basename(p['argv'][0]))
print('cwd', os.path.realpath(p['cwd']) == os.path.realpath(root))
print('run_dir', os.path.realpath(p['run_dir']) == os.path.realpath(os.path.join(root, 'run')))
if os.path.isdir(os.path.join(source, '.git')):
    head = subprocess.run(['git', '-C', source, 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip()
else:
    head = 'unknown'
print('commit', p['wmhost']['git_commit'] == head, len(p['wmhost']['git_commit']) in (7, 40) or head == 'unknown')
print('version', p['wmhost']['version'] == '0.1.0', isinstance(p['wmhost']['git_dirty'], bool))
print('libtorch', p['libraries']['libtorch'])
print('libraries', sorted(p['libraries']))
print('host', p['host']['name'] == socket.gethostname(), p['host']['cpu_count'] == os.cpu_count(),
      p['host']['cpus_usable'] == len(os.sched_getaffinity(0)), p['host']['cpu_model'] != '')
print('gpu', p['gpu']['cuda_available'] == torch.cuda.is_available(), p['gpu']['cuda_devices'] == torch.cuda.device_count())
print('threads', p['threads']['config'], p['threads']['torch_intra_op'], p['threads']['OMP_NUM_THREADS'] == os.environ.get('OMP_NUM_THREADS') == '1')
print('environment', sorted(p['environment']))
print('compiler', p['wmhost']['compiler'].split()[0] in ('gcc', 'clang'))
)py", WM_TEST_SOURCE_DIR);
  EXPECT_THAT(checked, HasSubstr("invocation 1\n"));
  EXPECT_THAT(checked, HasSubstr("argv ['run', 'exp.yaml', '--out', 'run']\n"));
  EXPECT_THAT(checked, HasSubstr("wmhost binary wmhost\n"));
  EXPECT_THAT(checked, HasSubstr("cwd True\nrun_dir True\n"));
  EXPECT_THAT(checked, HasSubstr("commit True True\n"));
  EXPECT_THAT(checked, HasSubstr("version True True\n"));
  // the LibTorch this build links (Debian's 1.13.0, or a PyPI wheel's 2.x)
  EXPECT_THAT(checked, HasSubstr("libtorch " + std::to_string(TORCH_VERSION_MAJOR) + "." +
                                 std::to_string(TORCH_VERSION_MINOR) + "." +
                                 std::to_string(TORCH_VERSION_PATCH) + "\n"));
  EXPECT_THAT(checked, HasSubstr("libraries ['ffmpeg', 'libtorch', 'mujoco']\n"));
  EXPECT_THAT(checked, HasSubstr("host True True True True\n"));
  EXPECT_THAT(checked, HasSubstr("gpu True True\n"));
  // threads: 1 in the config is what LibTorch runs with
  EXPECT_THAT(checked, HasSubstr("threads 1 1 True\n"));
  EXPECT_THAT(checked, HasSubstr("environment ['CUDA_VISIBLE_DEVICES', 'HOME', 'MKL_NUM_THREADS', "
                                 "'OMP_NUM_THREADS', 'OMP_WAIT_POLICY', 'WMHOST_PLUGIN_PATH', "
                                 "'WMHOST_PLUGIN_PROBE', 'WMHOST_WEIGHTS', 'WM_PYTHON', "
                                 "'WM_SCRIPTS_DIR', 'XDG_CACHE_HOME']\n"));
  EXPECT_THAT(checked, HasSubstr("compiler True\n"));
}

TEST(Provenance, EachResumeAddsItsOwnFileAndKeepsTheFirst) {
  test::TempDir dir;
  dir.write("exp.yaml", kShortTraining);
  int code = 0;
  std::string output =
      test::run_wmhost("run exp.yaml --out run +procedure.0.train.stop_after_steps=2", dir.path(), code);
  ASSERT_EQ(code, 3) << output;
  std::string first = test::read_text(dir.path() / "run" / "provenance.json");
  output = test::run_wmhost("run exp.yaml --out run", dir.path(), code);
  ASSERT_EQ(code, 0) << output;
  EXPECT_EQ(test::read_text(dir.path() / "run" / "provenance.json"), first);
  std::string second = test::read_text(dir.path() / "run" / "provenance-2.json");
  EXPECT_THAT(first, HasSubstr("\"invocation\": 1,"));
  EXPECT_THAT(first, HasSubstr("+procedure.0.train.stop_after_steps=2"));
  EXPECT_THAT(second, HasSubstr("\"invocation\": 2,"));
  EXPECT_THAT(second, ::testing::Not(HasSubstr("stop_after_steps")));
  EXPECT_FALSE(fs::exists(dir.path() / "run" / "provenance-3.json"));
}

TEST(Provenance, IsValidJsonWithEscapedArguments) {
  test::TempDir dir;
  fs::path run = dir.path() / "odd \"run\"";
  fs::create_directories(run);
  EXPECT_EQ(write_provenance(run, 0), run / "provenance.json");
  EXPECT_EQ(write_provenance(run, 0), run / "provenance-2.json");
  std::string checked = test::run_python(dir, R"py(
import json, os, sys
p = json.load(open(os.path.join(sys.argv[1], 'odd "run"', 'provenance-2.json')))
print(p['invocation'], p['run_dir'].endswith('odd "run"'), p['threads']['config'])
)py");
  EXPECT_EQ(checked, "2 True 0\n");
}

}  // namespace
}  // namespace wm
