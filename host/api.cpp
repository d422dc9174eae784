#include "api.h"

#include "config_node.h"
#include "param_binding.h"
#include "plugin_registry.h"
#include "wm/error.h"

namespace wm {

Host::Host(const std::vector<std::filesystem::path>& plugin_dirs) {
  std::vector<std::string> dirs;
  for (const auto& dir : plugin_dirs) dirs.push_back(dir.string());
  registry_ = std::make_unique<PluginRegistry>(PluginRegistry::default_search_path(dirs));
}

Host::~Host() = default;

namespace {
bool is_file(const std::string& plugin) {
  return plugin.find('/') != std::string::npos || std::filesystem::path(plugin).extension() == ".so";
}
}  // namespace

const LoadedPlugin& Host::plugin(const std::string& plugin) {
  if (is_file(plugin)) return registry_->load_file(plugin);
  if (const LoadedPlugin* found = registry_->find(plugin)) return *found;
  std::vector<std::string> known;
  for (const auto* entry : registry_->list()) known.push_back(entry->name());
  throw Error("unknown plugin '" + plugin + "'" + did_you_mean(plugin, known));
}

const LoadedPlugin& Host::plugin(Kind kind, const std::string& plugin) {
  const LoadedPlugin& found = is_file(plugin) ? registry_->load_file(plugin) : registry_->get(kind, plugin);
  if (found.kind() != kind)
    throw Error(plugin + " is a " + kind_name(found.kind()) + " plugin, not a " + kind_name(kind));
  return found;
}

std::shared_ptr<Component> Host::make_component(Kind kind, const std::string& plugin,
                                                 const std::string& params_yaml) {
  const LoadedPlugin& found = this->plugin(kind, plugin);
  ConfigNode node = parse_yaml(params_yaml, "<params of " + found.name() + ">");
  Params params = bind_params(found.schema, &node, "params", found.name(), node.loc);
  return registry_->create<Component>(found, params, found.name());
}

}  // namespace wm
