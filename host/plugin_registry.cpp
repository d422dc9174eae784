#include "plugin_registry.h"

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "plugin_file.h"
#include "plugin_probe.h"
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

//---- finding files ----

namespace {

// the wm_*.so entries of one folder, sorted; an entry that cannot be read is skipped, never fatal
std::vector<std::filesystem::path> plugin_files_in(const std::filesystem::path& dir,
                                                   std::vector<BrokenPlugin>& broken) {
  std::vector<std::filesystem::path> files;
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) return files;
  std::filesystem::directory_iterator entry(dir, error), end;
  for (; !error && entry != end; entry.increment(error)) {
    std::string name = entry->path().filename().string();
    if (name.rfind("wm_", 0) == 0 && entry->path().extension() == ".so") files.push_back(entry->path());
  }
  if (error)
    broken.push_back({dir, dir.string() + ": cannot list the plugin folder (" + error.message() +
                               "); its remaining files were skipped", ""});
  std::sort(files.begin(), files.end());
  return files;
}

// the plugin name a file's header states, or "" (for messages about a file that was skipped)
std::string header_name(const std::filesystem::path& file) {
  try {
    auto info = read_plugin_file(file);
    return info.header ? info.header->name : "";
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

PluginRegistry::PluginRegistry(std::vector<std::filesystem::path> search_path)
    : search_path_(std::move(search_path)) {
  // what can be checked from the files alone, for every file, before any plugin code runs
  std::vector<std::filesystem::path> seen, candidates;
  for (const auto& dir : search_path_)
    for (const auto& file : plugin_files_in(dir, broken_)) {
      std::error_code error;
      auto canonical = std::filesystem::weakly_canonical(file, error);
      if (error) {
        broken_.push_back({file, file.string() + ": cannot resolve the file (" + error.message() +
                                     "; a symbolic link loop?); remove or fix the link", ""});
        continue;
      }
      if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) continue;
      seen.push_back(canonical);
      try {
        check_file(file);
        candidates.push_back(file);
      } catch (const std::exception& e) {
        broken_.push_back({file, e.what(), ""});
      }
    }
  // their code, in a child process first: a library that kills it is skipped here
  for (const auto& probe : probe_plugin_files(candidates)) {
    if (!probe.failure.empty()) {
      // like every unusable file: `wmhost list` shows it, and using its name gives the reason
      log().debug("skipped plugin file {}: {}", probe.file.string(), probe.failure);
      broken_.push_back({probe.file, probe.file.string() + ": " + probe.failure,
                         header_name(probe.file)});
      continue;
    }
    try {
      add(open(probe.file));
    } catch (const std::exception& e) {
      broken_.push_back({probe.file, e.what(), ""});
    }
  }
}

void PluginRegistry::check_file(const std::filesystem::path& file) const {
  std::error_code error;
  auto status = std::filesystem::status(file, error);
  if (error && error != std::errc::no_such_file_or_directory)
    throw Error(file.string() + ": cannot read the plugin file (" + error.message() + ")");
  if (!std::filesystem::exists(status)) {
    bool dangling = std::filesystem::is_symlink(std::filesystem::symlink_status(file, error));
    throw Error(file.string() + (dangling ? ": a link to a file that does not exist"
                                          : ": no such plugin file"));
  }
  if (!std::filesystem::is_regular_file(status))
    throw Error(file.string() + ": not a regular file (a plugin is a .so library)");
  // read from the file, before any plugin code runs: truncated, foreign or mismatched libraries
  PluginFile info = read_plugin_file(file);
  check_toolboxes(file, info, WM_TOOLBOX_VERSIONS, WM_SDK_ABI_VERSION);
  check_plugin_header(file, info);
}

LoadedPlugin PluginRegistry::open(const std::filesystem::path& file) const {
  LoadedPlugin plugin;
  plugin.file = file;
  // a crash from here on happens after this line, which names the file (wmhost -v)
  log().debug("loading plugin {}", file.string());
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

  // the handshake again, as loaded: the file may have been replaced since it was read
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
  std::error_code error;
  auto canonical = std::filesystem::weakly_canonical(file, error);
  if (error)
    throw Error(file.string() + ": cannot resolve the file (" + error.message() +
                "; a symbolic link loop?)");
  for (const auto& plugin : plugins_) {
    auto known = std::filesystem::weakly_canonical(plugin->file, error);
    if (!error && known == canonical) return *plugin;
  }
  // the same checks and child-process load as the search path's files
  check_file(file);
  auto probe = probe_plugin_files({file});
  if (!probe.front().failure.empty()) throw Error(file.string() + ": " + probe.front().failure);
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
