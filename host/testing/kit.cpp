#include <stdlib.h>

#include <cstdio>
#include <vector>

#include "api.h"
#include "wm/dataset.h"
#include "wm/error.h"
#include "wm/testing.h"

namespace wm::testing {

namespace {
std::vector<std::filesystem::path>& extra_dirs() {
  static std::vector<std::filesystem::path> dirs;
  return dirs;
}
}  // namespace

Host& host() {
  static Host instance(extra_dirs());
  return instance;
}

void add_plugin_path(const std::filesystem::path& dir) { extra_dirs().push_back(dir); }

std::shared_ptr<Component> make_component(Kind kind, const std::string& plugin,
                                          const std::string& params_yaml) {
  return host().make_component(kind, plugin, params_yaml);
}

Batch batch_of(const std::string& dataset, const std::string& params_yaml, int64_t count) {
  auto data = make<Dataset>(dataset, params_yaml);
  std::vector<Sample> samples;
  for (int64_t i = 0; i < count; ++i) samples.push_back(data->get(i));
  return collate(samples);
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "wmtest-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw Error("cannot make a temporary folder " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path TempDir::write(const std::string& name, const std::string& text) const {
  auto file = path_ / name;
  std::filesystem::create_directories(file.parent_path());
  std::FILE* out = std::fopen(file.c_str(), "wb");
  if (!out) throw Error("cannot write " + file.string());
  std::fwrite(text.data(), 1, text.size(), out);
  std::fclose(out);
  return file;
}

}  // namespace wm::testing
