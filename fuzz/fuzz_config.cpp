// libFuzzer target: bytes as an experiment YAML, taken through the path `wmhost validate` takes
// (plan_experiment: load_experiment with its base: files, sweep expansion, ${...}
// interpolation, validate_experiment against the real plugins of an ordinary build). A config
// may only be refused with wm::Error (ConfigError names file:line:col and key); anything else
// escaping, a sanitizer report, a leak or a hang is a finding.
//
// The YAML is written to a private folder holding a copy of configs/common, so the seeds' `base:`
// files resolve. Plugins come from WM_FUZZ_PLUGIN_DIR (environment, else the CMake cache value:
// build/plugins of the source tree); without them validation stops at the first `plugin:` key.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "run_loop.h"
#include "wm/error.h"
#include "wm/log.h"

namespace {

struct Fixture {
  std::filesystem::path dir;   // the private folder
  std::filesystem::path file;  // the experiment written for each input
  std::unique_ptr<wm::PluginRegistry> registry;
};

Fixture& fixture() {
  static Fixture state;
  return state;
}

void remove_folder() {
  std::error_code ignored;
  std::filesystem::remove_all(fixture().dir, ignored);
}

void write_experiment(const uint8_t* data, size_t size) {
  std::FILE* file = std::fopen(fixture().file.c_str(), "wb");
  if (!file) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, file) != size) std::abort();
  if (std::fclose(file) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  wm::log().set_level(spdlog::level::off);
  Fixture& state = fixture();
  const char* tmp = std::getenv("TMPDIR");
  state.dir = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
              ("wm_fuzz_config_" + std::to_string(::getpid()));
  std::filesystem::create_directories(state.dir);
  std::atexit(remove_folder);
  std::filesystem::copy(std::filesystem::path(WM_FUZZ_SOURCE_DIR) / "configs" / "common",
                        state.dir / "common", std::filesystem::copy_options::recursive);
  state.file = state.dir / "experiment.yaml";

  // environment values the inputs can name (config.dict): one that refers to itself, one that
  // holds a reference and one out of range; spliced ${env:} text must not be resolved again
  ::setenv("WM_FUZZ_SELF", "${env:WM_FUZZ_SELF}", 1);
  ::setenv("WM_FUZZ_REF", "${global_vars.a}", 1);
  ::setenv("WM_FUZZ_BIG", "1e999", 1);

  // every plugin is loaded once, here, so its static allocations are not taken for leaks
  const char* plugins = std::getenv("WM_FUZZ_PLUGIN_DIR");
  std::filesystem::path plugin_dir = plugins && *plugins ? plugins : WM_FUZZ_PLUGIN_DIR;
  state.registry = std::make_unique<wm::PluginRegistry>(
      std::vector<std::filesystem::path>{plugin_dir});
  std::fprintf(stderr, "fuzz_config: %zu plugins from %s (%zu unusable)\n",
               state.registry->list().size(), plugin_dir.c_str(), state.registry->broken().size());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  write_experiment(data, size);
  wm::Options options;
  options.command = "validate";
  options.args = {fixture().file.string()};
  try {
    wm::plan_experiment(options, *fixture().registry);
  } catch (const wm::Error&) {
  }
  return 0;
}
