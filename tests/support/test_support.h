// Helpers shared by the tests: the build's plugins, parameters from embedded YAML, files.
#pragma once
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "api.h"
#include "plugin_registry.h"
#include "wm/dataset.h"
#include "wm/sample.h"
#include "wm/testing.h"

namespace wm::test {

// the build tree's plugins, loaded once per test binary, through the host's front door
inline Host& host() {
  static Host instance({WM_TEST_PLUGIN_DIR});
  return instance;
}
inline PluginRegistry& plugins() { return host().registry(); }

// a plugin object made from a YAML `params:` map, checked against its schema like the host does
template <class Interface>
std::shared_ptr<Interface> make(const std::string& name, const std::string& params_yaml = "{}") {
  return host().make<Interface>(name, params_yaml);
}

using testing::TempDir;
using testing::error_of;

// Runs `script` with Debian's python3 (it carries torch, torchvision, numpy and scipy; a pyenv
// python3 on PATH may not): `python3 script.py <dir> <arguments>`, one thread. Returns its output;
// a failing script throws with that output.
inline std::string run_python(const TempDir& dir, const std::string& script,
                              const std::string& arguments = "") {
  auto file = dir.write("reference.py", script);
  std::string command = std::string("OMP_NUM_THREADS=1 ") + WM_TEST_PYTHON + " " + file.string() +
                        " " + dir.path().string() + " " + arguments + " 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  char chunk[4096];
  while (size_t n = std::fread(chunk, 1, sizeof chunk, pipe)) output.append(chunk, n);
  if (pclose(pipe) != 0)
    throw std::runtime_error("reference script failed (run scripts/setup.sh):\n" + output);
  return output;
}

// the first `count` samples of a dataset plugin, collated into a batch
inline Batch batch_of(const std::string& dataset, const std::string& params_yaml, int64_t count) {
  auto data = make<Dataset>(dataset, params_yaml);
  std::vector<Sample> samples;
  for (int64_t i = 0; i < count; ++i) samples.push_back(data->get(i));
  return collate(samples);
}

// uint8 [frames, 3, size, size] where frame t is grey level 8 t: a decoded frame of a video
// written from it tells where in the video it came from
inline at::Tensor grey_ramp(int64_t frames, int64_t size) {
  auto levels = at::arange(frames, at::kLong).mul(8).to(at::kByte);
  return levels.view({frames, 1, 1, 1}).expand({frames, 3, size, size}).contiguous();
}

// float64 raw files, the simplest exchange with numpy (np.fromfile / tofile)
inline void write_raw(const std::filesystem::path& file, const at::Tensor& tensor) {
  auto values = tensor.to(at::kDouble).contiguous();
  std::ofstream(file, std::ios::binary)
      .write(static_cast<const char*>(values.data_ptr()), values.numel() * sizeof(double));
}
inline at::Tensor read_raw(const std::filesystem::path& file, std::vector<int64_t> shape) {
  auto values = at::empty(shape, at::kDouble);
  std::ifstream(file, std::ios::binary)
      .read(static_cast<char*>(values.data_ptr()), values.numel() * sizeof(double));
  return values;
}

// runs the built wmhost with `arguments` in folder `cwd`; returns stdout and stderr together.
// With `kill_after_seconds`, under `timeout -s KILL`: a hang ends as exit 137, not a stuck test
inline std::string run_wmhost(const std::string& arguments, const std::filesystem::path& cwd,
                              int& exit_code, int kill_after_seconds = 0) {
  std::string limit =
      kill_after_seconds > 0 ? "timeout -s KILL " + std::to_string(kill_after_seconds) + " " : "";
  std::string command = "cd '" + cwd.string() + "' && OMP_WAIT_POLICY=PASSIVE " + limit + "'" +
                        WM_TEST_WMHOST + "' " + arguments + " 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  char chunk[4096];
  while (size_t n = std::fread(chunk, 1, sizeof chunk, pipe)) output.append(chunk, n);
  int status = pclose(pipe);
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

// a whole file, byte for byte ("" when it cannot be read)
inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// what `wmhost <args>` printed, stdout and stderr apart, and its exit code
struct CliResult {
  int code;
  std::string out, err;
};

// runs the built wmhost with `args` in folder `cwd`, keeping stdout and stderr apart
inline CliResult wmhost(const std::string& args, const std::filesystem::path& cwd) {
  std::string command = "cd '" + cwd.string() + "' && '" + WM_TEST_WMHOST + "' " + args +
                        " > .stdout 2> .stderr";
  int status = std::system(command.c_str());
  CliResult result{WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(cwd / ".stdout"),
                   read_text(cwd / ".stderr")};
  std::filesystem::remove(cwd / ".stdout");
  std::filesystem::remove(cwd / ".stderr");
  return result;
}

}  // namespace wm::test
