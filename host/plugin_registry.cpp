#include "plugin_registry.h"

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "plugin_file.h"
#include "wm/error.h"
#include "wm/log.h"

#ifndef WM_INSTALL_PLUGIN_DIR
#define WM_INSTALL_PLUGIN_DIR "/usr/local/lib/wmhost/plugins"
#endif
#ifndef WM_INSTALL_PLUGIN_SUBDIR
#define WM_INSTALL_PLUGIN_SUBDIR "lib/wmhost/plugins"
#endif
#ifndef WM_TOOLBOX_VERSIONS
#define WM_TOOLBOX_VERSIONS ""
#endif

namespace wm {

std::filesystem::path executable_dir() {
  return std::filesystem::path(boost::dll::program_location().string()).parent_path();
}

std::vector<std::filesystem::path> PluginRegistry::default_search_path(
    const std::vector<std::string>& extra_dirs) {
  std::vector<std::filesystem::path> dirs(extra_dirs.begin(), extra_dirs.end());
  if (const char* env = std::getenv("WMHOST_PLUGIN_PATH")) {
    std::stringstream list(env);
    for (std::string dir; std::getline(list, dir, ':');)
      if (!dir.empty()) dirs.emplace_back(dir);
  }
  dirs.push_back(executable_dir() / "plugins");     // the build tree: build/wmhost, build/plugins
  dirs.push_back(executable_dir() / "../plugins");  // build/host/wmhost layouts
  // an installed wmhost, wherever its prefix was moved: <prefix>/bin/wmhost finds
  // <prefix>/lib/wmhost/plugins, and so does any program using <prefix>/lib/libwmhost.so (the
  // test kit of an out-of-tree plugin)
  dirs.push_back((executable_dir() / ".." / WM_INSTALL_PLUGIN_SUBDIR).lexically_normal());
  std::filesystem::path library(boost::dll::this_line_location().string());
  dirs.push_back((library.parent_path() / ".." / WM_INSTALL_PLUGIN_SUBDIR).lexically_normal());
  dirs.emplace_back(WM_INSTALL_PLUGIN_DIR);  // the prefix it was configured for
  return dirs;
}

PluginRegistry::PluginRegistry(std::vector<std::filesystem::path> search_path)
    : search_path_(std::move(search_path)) {
  std::vector<std::filesystem::path> seen;
  for (const auto& dir : search_path_) {
    std::error_code error;
    if (!std::filesystem::is_directory(dir, error)) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
      std::string name = entry.path().filename().string();
      if (name.rfind("wm_", 0) == 0 && entry.path().extension() == ".so") files.push_back(entry);
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      auto canonical = std::filesystem::weakly_canonical(file);
      if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) continue;
      seen.push_back(canonical);
      try {
        add(open(file));
      } catch (const Error& e) {
        broken_.push_back({file, e.what(), ""});
      }
    }
  }
}

LoadedPlugin PluginRegistry::open(const std::filesystem::path& file) const {
  if (!std::filesystem::exists(file)) throw Error(file.string() + ": no such plugin file");
  // read from the file, before any plugin code runs: truncated, foreign or mismatched libraries
  check_toolboxes(file, read_plugin_file(file), WM_TOOLBOX_VERSIONS, WM_SDK_ABI_VERSION);
  LoadedPlugin plugin;
  plugin.file = file;
  try {
    // RTLD_NOW: a missing symbol fails here, with a message, instead of killing us later
    plugin.library = std::make_shared<boost::dll::shared_library>(
        file.string(), boost::dll::load_mode::rtld_now);
  } catch (const std::exception& e) {
    throw Error(file.string() + ": cannot load: " + e.what() +
                " (rebuild the plugin against this wmsdk and LibTorch)");
  }
  if (!plugin.library->has("wm_plugin_header_v1"))
    throw Error(file.string() + ": not a wmhost plugin (it exports no wm_plugin_header_v1; "
                                "register it with WM_PLUGIN)");
  const auto& header = plugin.library->get_alias<const wm_plugin_header>("wm_plugin_header_v1");
  plugin.header = &header;

  // the handshake: plain data only, before any plugin C++ code runs
  if (header.magic != WM_PLUGIN_MAGIC)
    throw Error(file.string() + ": corrupt plugin header (bad magic)");
  if (header.sdk_abi != WM_SDK_ABI_VERSION)
    throw Error(file.string() + ": built for wmsdk ABI " + std::to_string(header.sdk_abi) +
                ", this wmhost speaks " + std::to_string(WM_SDK_ABI_VERSION) +
                "; rebuild the plugin against this wmsdk");
  if (std::strcmp(header.torch_version, WM_BUILD_TORCH_VERSION) != 0)
    throw Error(file.string() + ": built against LibTorch " + header.torch_version +
                ", this wmhost uses " + WM_BUILD_TORCH_VERSION);
  if (header.cxx11_abi != _GLIBCXX_USE_CXX11_ABI || header.glibcxx_debug != WM_BUILD_GLIBCXX_DEBUG)
    throw Error(file.string() + ": built with a different C++ standard library ABI "
                "(_GLIBCXX_USE_CXX11_ABI / _GLIBCXX_DEBUG differ from this wmhost's)");
  if (!plugin.library->has("wm_plugin_info"))
    throw Error(file.string() + ": has a header but no wm_plugin_info entry point");

  using InfoFunction = const PluginInfo&();
  try {
    plugin.info = &plugin.library->get_alias<InfoFunction>("wm_plugin_info")();
    plugin.schema = plugin.info->schema();
  } catch (const std::exception& e) {
    throw Error(file.string() + ": its schema failed: " + e.what());
  }
  return plugin;
}

void PluginRegistry::add(LoadedPlugin plugin) {
  // the same name twice is ambiguous, never "first wins": using that name is an error
  for (const auto& other : plugins_)
    if (other->name() == plugin.name()) {
      broken_.push_back({plugin.file,
                         "duplicate plugin name '" + plugin.name() + "': " +
                             other->file.string() + " and " + plugin.file.string() +
                             " (remove or rename one)",
                         plugin.name()});
      return;
    }
  plugins_.push_back(std::make_unique<LoadedPlugin>(std::move(plugin)));
}

const LoadedPlugin& PluginRegistry::load_file(const std::filesystem::path& file) {
  auto canonical = std::filesystem::weakly_canonical(file);
  for (const auto& plugin : plugins_)
    if (std::filesystem::weakly_canonical(plugin->file) == canonical) return *plugin;
  LoadedPlugin plugin = open(file);
  if (const LoadedPlugin* same_name = find(plugin.name()))
    throw Error("duplicate plugin name '" + plugin.name() + "': " + same_name->file.string() +
                " and " + file.string() + " (remove or rename one)");
  plugins_.push_back(std::make_unique<LoadedPlugin>(std::move(plugin)));
  return *plugins_.back();
}

std::vector<const LoadedPlugin*> PluginRegistry::list(std::optional<Kind> kind) const {
  std::vector<const LoadedPlugin*> found;
  for (const auto& plugin : plugins_)
    if (!kind || plugin->kind() == *kind) found.push_back(plugin.get());
  std::sort(found.begin(), found.end(),
            [](auto* a, auto* b) { return a->name() < b->name(); });
  return found;
}

const LoadedPlugin* PluginRegistry::find(const std::string& name) const {
  for (const auto& broken : broken_)
    if (broken.name == name) throw Error(broken.reason);
  for (const auto& plugin : plugins_)
    if (plugin->name() == name) return plugin.get();
  return nullptr;
}

const LoadedPlugin& PluginRegistry::get(Kind kind, const std::string& name) const {
  if (const LoadedPlugin* plugin = find(name)) {
    if (plugin->kind() == kind) return *plugin;
    throw Error("'" + name + "' is a " + kind_name(plugin->kind()) + " plugin, but a " +
                kind_name(kind) + " is needed here");
  }
  // a file named after the plugin that failed to load explains more than "unknown"
  for (const auto& broken : broken_)
    if (broken.file.filename() == "wm_" + name + ".so") throw Error(broken.reason);

  std::vector<std::string> known;
  for (const auto* plugin : list(kind)) known.push_back(plugin->name());
  std::string where;
  for (const auto& dir : search_path_) where += (where.empty() ? "" : ":") + dir.string();
  throw Error("unknown " + std::string(kind_name(kind)) + " plugin '" + name + "'" +
              did_you_mean(name, known) + "; known " + kind_plural(kind) + ": " +
              (known.empty() ? "none" : join(known)) + " (searched " + where + ")");
}

Component* PluginRegistry::construct(const LoadedPlugin& plugin, const Params& params,
                                     const std::string& where) const {
  std::string who = std::string(kind_name(plugin.kind())) + " plugin '" + plugin.name() + "'";
  try {
    Component* made = plugin.info->create(params);
    if (!made) throw Error("its factory returned nothing");
    return made;
  } catch (const ConfigError& e) {
    throw;  // already says where, in the user's terms
  } catch (const std::exception& e) {
    throw Error(who + " (" + where + ") failed to start: " + user_message(e));
  } catch (...) {
    throw Error(who + " (" + where + ") failed to start with a non-standard exception");
  }
}

void PluginRegistry::destroy_and_throw(const LoadedPlugin& plugin, Component* made,
                                       const std::string& where) const {
  delete made;
  throw Error("plugin '" + plugin.name() + "' (" + where + ") does not implement the " +
              kind_name(plugin.kind()) + " interface it declares");
}

}  // namespace wm
