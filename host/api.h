// The host's front door for programs other than the wmhost command: tests, benchmarks, the
// installed test kit (wm/testing.h). It makes plugin objects from a name and a YAML `params:`
// map exactly as an experiment does (schema checks, defaults, errors with file:line), without
// reaching into the config or binding internals.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "wm/component.h"

namespace wm {

class PluginRegistry;
struct LoadedPlugin;

class Host {
 public:
  // plugins from `plugin_dirs`, then the default search path (WMHOST_PLUGIN_PATH, the build
  // tree, the install)
  explicit Host(const std::vector<std::filesystem::path>& plugin_dirs = {});
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // `plugin` is a registered name ("psnr") or a library file ("build/plugins/wm_psnr.so")
  template <class Interface>
  std::shared_ptr<Interface> make(const std::string& plugin, const std::string& params_yaml = "{}") {
    return std::dynamic_pointer_cast<Interface>(make_component(Interface::kind, plugin, params_yaml));
  }
  std::shared_ptr<Component> make_component(Kind kind, const std::string& plugin,
                                            const std::string& params_yaml);
  // the plugin a name or file refers to, loaded and checked; of `kind`, or of any kind
  const LoadedPlugin& plugin(Kind kind, const std::string& plugin);
  const LoadedPlugin& plugin(const std::string& plugin);

  PluginRegistry& registry() { return *registry_; }

 private:
  std::unique_ptr<PluginRegistry> registry_;
};

}  // namespace wm
