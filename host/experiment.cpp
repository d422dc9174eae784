#include "experiment.h"

#include "param_binding.h"
#include "procedure.h"
#include "wm/action_scaler.h"
#include "wm/suggest.h"

namespace wm {

const std::vector<std::pair<std::string, std::string>>& experiment_keys() {
  static const std::vector<std::pair<std::string, std::string>> keys = {
      {"experiment", "name of the experiment; runs go to runs/<experiment>/<timestamp>/"},
      {"seed", "seed of every random choice in the run (int, default 0)"},
      {"threads", "compute threads (int, 0 = every core, the default)"},
      {"device", "cpu or cuda (default cpu)"},
      {"base", "file(s) this one inherits from, relative to it"},
      {"global_vars", "free values for ${global_vars.x} interpolation"},
      {"data", "named datasets: {plugin, params, ids, split, fractions, subset, split_seed, "
               "action_scaler, transforms, workers, prefetch}"},
      {"model", "the model: {plugin, params}"},
      {"env", "the environment: {plugin, params}"},
      {"metrics", "list of metrics: {plugin, params, name}"},
      {"procedure", "list of steps, each {procedure_name: {params}}"},
      {"sweep", "grid of key.path: [values]; one run per point"},
  };
  return keys;
}

std::string ComponentSpec::where() const {
  return key_path + (loc.known() ? " at " + loc.str() : "");
}

namespace {

std::vector<std::string> names_of(const std::vector<std::pair<std::string, std::string>>& keys) {
  std::vector<std::string> names;
  for (const auto& key : keys) names.push_back(key.first);
  return names;
}

void require_map(const ConfigNode& node, const std::string& key_path) {
  if (!node.is_map())
    throw ConfigError(node.loc, key_path, "expected a map, got " + std::string(node.type_name()));
}

void reject_unknown_keys(const ConfigNode& node, const std::string& key_path,
                         const std::vector<std::string>& allowed) {
  for (const auto& [key, value] : node.entries)
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      throw ConfigError(value.loc, key_path.empty() ? key : key_path + "." + key,
                        "unknown key" + did_you_mean(key, allowed) + " (allowed: " +
                            join(allowed) + ")");
}

// a scalar host value typed by a one-off spec, so host keys get the same checks as plugin ones
Value host_value(const ConfigNode& parent, const std::string& key, const std::string& key_path,
                 ParamSpec spec) {
  const ConfigNode* node = parent.find(key);
  if (!node || node->is_null()) {
    if (!spec.default_value)
      throw ConfigError(parent.loc, key_path, "is required (" + spec.doc + ")");
    return *spec.default_value;
  }
  return convert_value(spec, *node, key_path);
}

ComponentSpec bind_component(const ConfigNode& node, const std::string& key_path, Kind kind,
                             PluginRegistry& registry, const std::vector<std::string>& extra_keys) {
  require_map(node, key_path);
  std::vector<std::string> allowed = {"plugin", "params"};
  allowed.insert(allowed.end(), extra_keys.begin(), extra_keys.end());
  reject_unknown_keys(node, key_path, allowed);
  const ConfigNode* plugin_node = node.find("plugin");
  if (!plugin_node || !plugin_node->is_scalar() || plugin_node->scalar.empty())
    throw ConfigError(node.loc, key_path + ".plugin",
                      std::string("missing: name the ") + kind_name(kind) +
                          " plugin (`wmhost list " + kind_plural(kind) + "` shows them)");

  ComponentSpec spec;
  spec.key_path = key_path;
  spec.loc = node.loc;
  const std::string& name = plugin_node->scalar;
  try {
    bool is_file = name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0;
    if (is_file) {
      auto file = std::filesystem::path(name);
      if (file.is_relative() && plugin_node->loc.known())
        file = std::filesystem::path(plugin_node->loc.file).parent_path() / file;
      spec.plugin = &registry.load_file(file);
      if (spec.plugin->kind() != kind)
        throw Error(file.string() + " is a " + kind_name(spec.plugin->kind()) +
                    " plugin, but a " + kind_name(kind) + " is needed here");
    } else {
      spec.plugin = &registry.get(kind, name);
    }
  } catch (const ConfigError&) {
    throw;
  } catch (const Error& e) {
    throw ConfigError(plugin_node->loc, key_path + ".plugin", e.what());
  }
  spec.name = spec.plugin->name();
  if (const ConfigNode* label = node.find("name"); label && label->is_scalar())
    spec.name = label->scalar;
  std::string owner = std::string(kind_name(kind)) + " '" + spec.plugin->name() + "'";
  spec.params = bind_params(spec.plugin->schema, node.find("params"), key_path + ".params", owner,
                            node.loc);
  return spec;
}

// `transforms: [{resize: {size: [64, 64]}}, {hflip: {}}]`: each step typed like plugin params
std::shared_ptr<const TransformPipeline> bind_transforms(const ConfigNode* list, const std::string& key_path) {
  auto pipeline = std::make_shared<TransformPipeline>();
  if (!list || list->is_null()) return pipeline;
  std::vector<std::string> known;
  for (const auto& kind : transform_kinds()) known.push_back(kind.name);
  if (!list->is_sequence())
    throw ConfigError(list->loc, key_path, "expected a list of steps, e.g. [{resize: {size: [64, 64]}}]");
  for (size_t i = 0; i < list->items.size(); ++i) {
    const ConfigNode& item = list->items[i];
    std::string at = key_path + "." + std::to_string(i);
    if (!item.is_map() || item.entries.size() != 1)
      throw ConfigError(item.loc, at, "each step is one `name: {params}` map; transforms: " + join(known));
    const auto& [name, params] = item.entries.front();
    const TransformKind* kind = find_transform_kind(name);
    if (!kind)
      throw ConfigError(item.loc, at, "unknown transform '" + name + "'" + did_you_mean(name, known) +
                                          "; transforms: " + join(known));
    at += "." + name;
    Params bound = bind_params(kind->schema(), &params, at, "transform '" + name + "'", item.loc);
    pipeline->add(kind->make(bound), at, item.loc);
  }
  return pipeline;
}

DataSpec bind_data(const ConfigNode& node, const std::string& key_path, PluginRegistry& registry) {
  DataSpec spec;
  static_cast<ComponentSpec&>(spec) = bind_component(
      node, key_path, Kind::Dataset, registry,
      {"ids", "split", "fractions", "subset", "split_seed", "action_scaler", "transforms",
       "workers", "prefetch"});
  spec.transforms = bind_transforms(node.find("transforms"), key_path + ".transforms");
  spec.workers = std::get<int64_t>(host_value(
      node, "workers", key_path + ".workers",
      {"workers", ParamType::Int, Value{int64_t{2}}, "", 0.0, 256.0, {}}));
  spec.prefetch = std::get<int64_t>(host_value(
      node, "prefetch", key_path + ".prefetch",
      {"prefetch", ParamType::Int, Value{int64_t{2}}, "", 1.0, 1024.0, {}}));
  spec.split.split = std::get<std::string>(host_value(
      node, "split", key_path + ".split",
      {"split", ParamType::Choice, Value{std::string("all")}, "", {}, {},
       {"train", "val", "test", "all"}}));
  spec.split.fractions = std::get<RealList>(host_value(
      node, "fractions", key_path + ".fractions",
      {"fractions", ParamType::RealList, Value{RealList{0.7, 0.15, 0.15}}, "", 0.0, 1.0, {}}));
  spec.split.subset = std::get<double>(host_value(
      node, "subset", key_path + ".subset",
      {"subset", ParamType::Real, Value{1.0}, "", 0.0, 1.0, {}}));
  spec.split.seed = static_cast<uint64_t>(std::get<int64_t>(host_value(
      node, "split_seed", key_path + ".split_seed",
      {"split_seed", ParamType::Int, Value{int64_t{0}}, "", 0.0, {}, {}})));
  // a scaler file, relative to the YAML that names it; read now so a bad file fails validation
  spec.action_scaler = std::get<std::string>(host_value(
      node, "action_scaler", key_path + ".action_scaler",
      {"action_scaler", ParamType::Path, Value{std::string()}, "", {}, {}, {}}));
  if (!spec.action_scaler.empty()) {
    try {
      ActionScaler::load(spec.action_scaler);
    } catch (const Error& e) {
      throw ConfigError(node.find("action_scaler")->loc, key_path + ".action_scaler", e.what());
    }
  }
  spec.ids = std::get<std::string>(host_value(
      node, "ids", key_path + ".ids", {"ids", ParamType::Path, Value{std::string()}, "", {}, {}, {}}));
  if (!spec.ids.empty()) {
    try {
      spec.listed_ids = read_id_list(spec.ids);
      if (spec.listed_ids.empty()) throw Error(spec.ids + ": the id list is empty");
    } catch (const Error& e) {
      throw ConfigError(node.find("ids")->loc, key_path + ".ids", e.what());
    }
  }
  return spec;
}

ProcedureSpec bind_procedure(const ConfigNode& node, const std::string& key_path) {
  std::vector<std::string> known;
  for (const auto& procedure : procedures()) known.push_back(procedure.name);
  if (!node.is_map() || node.entries.size() != 1)
    throw ConfigError(node.loc, key_path,
                      "each step is one `name: {params}` map; procedures: " + join(known));
  const auto& [name, params] = node.entries.front();
  ProcedureSpec spec;
  spec.key_path = key_path + "." + name;
  spec.loc = node.loc;
  spec.procedure = find_procedure(name);
  if (!spec.procedure)
    throw ConfigError(node.loc, key_path,
                      "unknown procedure '" + name + "'" + did_you_mean(name, known) +
                          "; procedures: " + join(known));
  spec.params = bind_params(spec.procedure->schema(), &params, spec.key_path,
                            "procedure '" + name + "'", node.loc);
  return spec;
}

}  // namespace

Experiment validate_experiment(const ConfigNode& resolved, PluginRegistry& registry) {
  Experiment experiment;
  experiment.resolved = resolved;
  require_map(resolved, "");
  reject_unknown_keys(resolved, "", names_of(experiment_keys()));

  experiment.name = std::get<std::string>(host_value(
      resolved, "experiment", "experiment",
      {"experiment", ParamType::String, std::nullopt, "a name for the runs' folder", {}, {}, {}}));
  if (experiment.name.empty() || experiment.name.find('/') != std::string::npos)
    throw ConfigError(resolved.find("experiment")->loc, "experiment",
                      "must be a non-empty name without '/'");
  experiment.seed = std::get<int64_t>(host_value(
      resolved, "seed", "seed", {"seed", ParamType::Int, Value{int64_t{0}}, "", 0.0, {}, {}}));
  experiment.threads = static_cast<int>(std::get<int64_t>(host_value(
      resolved, "threads", "threads",
      {"threads", ParamType::Int, Value{int64_t{0}}, "", 0.0, 1024.0, {}})));
  experiment.device = std::get<std::string>(host_value(
      resolved, "device", "device",
      {"device", ParamType::Choice, Value{std::string("cpu")}, "", {}, {}, {"cpu", "cuda"}}));

  if (const ConfigNode* data = resolved.find("data")) {
    require_map(*data, "data");
    for (const auto& [key, node] : data->entries)
      experiment.data.emplace(key, bind_data(node, "data." + key, registry));
  }
  if (const ConfigNode* model = resolved.find("model"))
    experiment.model = bind_component(*model, "model", Kind::Model, registry, {});
  if (const ConfigNode* env = resolved.find("env"))
    experiment.env = bind_component(*env, "env", Kind::Env, registry, {});
  if (const ConfigNode* metrics = resolved.find("metrics")) {
    if (!metrics->is_sequence())
      throw ConfigError(metrics->loc, "metrics", "expected a list of {plugin: ...} entries");
    for (size_t i = 0; i < metrics->items.size(); ++i)
      experiment.metrics.push_back(bind_component(
          metrics->items[i], "metrics." + std::to_string(i), Kind::Metric, registry, {"name"}));
  }

  const ConfigNode* steps = resolved.find("procedure");
  if (!steps || !steps->is_sequence() || steps->items.empty())
    throw ConfigError(steps ? steps->loc : resolved.loc, "procedure",
                      "an experiment needs a list of steps, e.g. `procedure: [{evaluate: {}}]`");
  for (size_t i = 0; i < steps->items.size(); ++i) {
    experiment.procedures.push_back(
        bind_procedure(steps->items[i], "procedure." + std::to_string(i)));
    const ProcedureSpec& step = experiment.procedures.back();
    step.procedure->check(experiment, step);
  }
  return experiment;
}

}  // namespace wm
