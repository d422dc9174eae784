// Finding, checking and loading plugin libraries.
//
// Each wm_*.so in the search path is first read as a file: its ELF headers (this machine, every
// loadable segment present), the toolbox libraries it links and its C header
// `wm_plugin_header_v1` (found through the dynamic symbol table) are checked against this host
// before any plugin code runs. The files that pass are then loaded in a child process
// (plugin_probe.h): one whose static constructors or schema crash, abort or hang is skipped with
// a message naming it. Only then does the host open them with RTLD_NOW (an unresolved symbol is
// a clean load error, not a crash at first call) and read the C++ entry point. A file that fails
// any step is skipped, never fatal to the command. Libraries are never unloaded, and every object
// a plugin creates holds its library for as long as it lives.
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wm/abi.h"
#include "wm/component.h"
#include "wm/params.h"
#include "wm/plugin.h"

namespace boost::dll {
class shared_library;
}

namespace wm {

struct LoadedPlugin {
  std::filesystem::path file;
  std::shared_ptr<boost::dll::shared_library> library;
  const wm_plugin_header* header = nullptr;
  const PluginInfo* info = nullptr;
  Schema schema;

  Kind kind() const { return info->kind; }
  std::string name() const { return info->name; }
};

// a file in the search path that could not be used, and why
struct BrokenPlugin {
  std::filesystem::path file;
  std::string reason;
  std::string name;  // the plugin name when it is known (a duplicate)
};

class PluginRegistry {
 public:
  // the default search path: --plugin-path dirs, WMHOST_PLUGIN_PATH, the build tree, the install
  static std::vector<std::filesystem::path> default_search_path(
      const std::vector<std::string>& extra_dirs);

  explicit PluginRegistry(std::vector<std::filesystem::path> search_path);

  // every usable plugin, optionally of one kind, sorted by name
  std::vector<const LoadedPlugin*> list(std::optional<Kind> kind = std::nullopt) const;
  const std::vector<BrokenPlugin>& broken() const { return broken_; }
  const std::vector<std::filesystem::path>& search_path() const { return search_path_; }

  // by name; throws listing the known plugins of that kind, or why a matching file is unusable
  const LoadedPlugin& get(Kind kind, const std::string& name) const;
  // by name, any kind; nullptr if absent
  const LoadedPlugin* find(const std::string& name) const;
  // an explicit library file (a YAML `plugin:` ending in .so)
  const LoadedPlugin& load_file(const std::filesystem::path& file);

  // creates an object; its deleter keeps the library loaded. Exceptions from the plugin's
  // constructor become wm::Error naming the plugin and `where` (the YAML path).
  template <class Interface>
  std::shared_ptr<Interface> create(const LoadedPlugin& plugin, const Params& params,
                                    const std::string& where) const {
    Component* made = construct(plugin, params, where);
    auto* typed = dynamic_cast<Interface*>(made);
    if (!typed) destroy_and_throw(plugin, made, where);
    auto library = plugin.library;
    return std::shared_ptr<Interface>(typed, [library](Interface* object) { delete object; });
  }

 private:
  Component* construct(const LoadedPlugin& plugin, const Params& params,
                       const std::string& where) const;
  [[noreturn]] void destroy_and_throw(const LoadedPlugin& plugin, Component* made,
                                      const std::string& where) const;
  // the checks that run no plugin code (the file, its ELF and plugin headers, its toolboxes);
  // throws wm::Error naming the file and what to do
  void check_file(const std::filesystem::path& file) const;
  // loads one checked file in this process; throws wm::Error with the reason
  LoadedPlugin open(const std::filesystem::path& file) const;
  void add(LoadedPlugin plugin);

  std::vector<std::filesystem::path> search_path_;
  std::vector<std::unique_ptr<LoadedPlugin>> plugins_;
  std::vector<BrokenPlugin> broken_;
};

// the directory the wmhost executable is in (for the build tree's plugin folder)
std::filesystem::path executable_dir();

}  // namespace wm
