// The wmhost test kit (CMake target wmsdk::testing): what a plugin's GoogleTest file needs to
// make its plugin the way wmhost does and check it against the contract, in tree or out of tree.
//
//   auto metric = wm::testing::make<wm::Metric>("mean_abs_error", "{scale: 2}");
//   EXPECT_THAT(wm::testing::conformance("mean_abs_error"), testing::IsEmpty());
//
// Plugins are looked up by name in WMHOST_PLUGIN_PATH, the folders given to add_plugin_path(),
// and an installed wmhost's plugin folder; a path ending in .so names a library file directly.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "wm/component.h"
#include "wm/sample.h"

namespace wm::testing {

//---- making plugins ----

// adds a folder searched before the others; call before the first make()
void add_plugin_path(const std::filesystem::path& dir);
// a plugin object from a YAML `params:` map, checked against its schema as in an experiment
std::shared_ptr<Component> make_component(Kind kind, const std::string& plugin,
                                          const std::string& params_yaml = "{}");
template <class Interface>
std::shared_ptr<Interface> make(const std::string& plugin, const std::string& params_yaml = "{}") {
  return std::dynamic_pointer_cast<Interface>(make_component(Interface::kind, plugin, params_yaml));
}
// the first `count` samples of a dataset plugin, collated into a batch
Batch batch_of(const std::string& dataset, const std::string& params_yaml, int64_t count);

//---- contract conformance (the checks `wmhost check` runs) ----

struct CheckOptions {
  std::string params = "{}";        // the plugin's own params
  std::string data = "synthetic";   // a model's or metric's input: this dataset plugin ...
  std::string data_params = "{samples: 16, frames: 4, size: 32}";  // ... with these params
  std::string model = "copy_last";  // a metric's input: this model's predictions on that data
  std::string model_params = "{}";
  int64_t batch_size = 2;
};
// "rule: what is wrong" for every broken rule; empty when the plugin conforms
std::vector<std::string> conformance(const std::string& plugin, const CheckOptions& options = {});
// a metric's rules on inputs the caller makes (class scores, flow fields, success flags ...):
// two batches of model outputs, `first` and `second`
std::vector<std::string> metric_conformance(const std::string& plugin, const std::string& params,
                                            const TensorMap& first, const TensorMap& second);

//---- files and errors ----

// a fresh empty folder under the system temp dir, removed when the object dies
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // writes `text` to path()/name, creating folders; returns the file
  std::filesystem::path write(const std::string& name, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

// the message of the exception `body` throws ("" if none)
template <class Body>
std::string error_of(Body&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace wm::testing
