#include "experiment.h"

#include <cmath>

#include "catalog.h"
#include "config_resolve.h"
#include "procedure.h"
#include "wm/error.h"
#include "wm/io/action_scaler.h"

namespace wm {

std::string ComponentSpec::where() const {
  return key_path + (loc.known() ? " at " + loc.str() : "");
}

//---- the host's own keys ----

namespace {

// what every component section holds: which plugin, and that plugin's parameters
SectionSchema component_schema(Kind kind) {
  SectionSchema section;
  section.keys
      .text("plugin", "",
            std::string("the ") + kind_name(kind) + " plugin: a name from `wmhost list " +
                kind_plural(kind) + "`, or a .so file")
      .required();
  section.nested = {{"params", "map", "the plugin's parameters: `wmhost describe <plugin>`"}};
  return section;
}

}  // namespace

const SectionSchema& experiment_schema() {
  static const SectionSchema section = [] {
    SectionSchema top;
    top.keys
        .text("experiment", "", "name of the experiment; runs go to runs/<experiment>/<timestamp>/")
        .required()
        .integer("seed", 0, "seed of every random choice in the run").at_least(0)
        .integer("threads", 0, "compute threads (0: every core)").range(0, 1024)
        .choice("device", "cpu", {"cpu", "cuda"}, "where models and batches live");
    top.nested = {
        {"base", "file(s)", "file(s) this one inherits from, relative to it"},
        {"global_vars", "map", "free values for ${global_vars.x} interpolation"},
        {"data", "map", "named datasets, each {plugin, params, split, ...}: `wmhost describe "
                        "data`"},
        {"model", "map", "the model: {plugin, params}"},
        {"env", "map", "the environment: {plugin, params}"},
        {"envs", "map", "more named environments, each {plugin, params}; rollout and collect "
                        "pick one with `env: NAME`"},
        {"metrics", "list", "the metrics, each {plugin, params, name}"},
        {"baselines", "list", "models evaluate can score beside the model (`evaluate: {baseline: "
                              "NAME}`), each {plugin, params, name}; default [{plugin: copy_last}]"},
        {"procedure", "list", "the steps, each {name: {params}}: `wmhost list procedures`"},
        {"sweep", "map or list", "grid of key.path: [values], or a list of grids with the same keys run one "
                                 "after the other; one run per point"},
        {"analysis", "list", "steps run on the sweep's summary once every point is done, each "
                             "{kind: {keys}}: `wmhost list analysis`; again with `wmhost analyze`"},
        {"distributed", "map", "how the ranks of a data-parallel run talk (README, \"Training on "
                               "several processes or machines\"): `wmhost describe distributed`"},
    };
    return top;
  }();
  return section;
}

const SectionSchema& data_entry_schema() {
  static const SectionSchema section = [] {
    SectionSchema data = component_schema(Kind::Dataset);
    data.keys
        .choice("split", "all", {"train", "val", "test", "all"},
                "the part of the data set to use, chosen by a seeded hash of each sample's group")
        .reals("fractions", {0.7, 0.15, 0.15}, "shares of train, val and test").range(0, 1)
        .text("split_by", "group",
              "what a split keeps together: group (the dataset's video or episode), sample (each "
              "id alone), or a regex whose first capture on the id is the group")
        .real("subset", 1.0, "up to 1: fraction of the split to keep; above 1: an exact count "
                             "of samples; smaller subsets nest in larger ones")
        .at_least(0)
        .integer("split_seed", 0, "changes which samples land in which split and subset")
        .at_least(0)
        .path("ids", "a file of the sample ids to keep, one per line (e.g. a tier from `tiers`)")
        .path("action_scaler", "a scaler file (from fit_action_scaler) applied to `actions`")
        .integer("workers", 2, "loader threads; 0: in the procedure's thread").range(0, 256)
        .integer("prefetch", 2, "batches each loader thread prepares ahead").range(1, 1024);
    data.nested.push_back({"transforms", "list",
                           "steps the loader applies, each {name: {params}}: `wmhost list "
                           "transforms`"});
    data.nested.push_back({"batch_transforms", "list",
                           "MixUp / CutMix of collated training batches: [{mixup: {alpha: 0.2, p: "
                           "0.5}}, {cutmix: {alpha: 1.0, p: 0.5}}]"});
    return data;
  }();
  return section;
}

const SectionSchema& distributed_schema() {
  static const SectionSchema section = [] {
    SectionSchema top;
    // the defaults are c10d's (kProcessGroupDefaultTimeout, kDefaultBucketBytesCap, ...)
    top.keys
        .choice("backend", "auto", {"auto", "gloo", "nccl"},
                "auto: nccl with device cuda, gloo otherwise")
        .real("timeout_s", 1800, "a collective or the rendezvous waiting this long for a rank fails "
                                 "the run").at_least(1)
        .real("bucket_mb", 25, "gradients are averaged in flat buckets of at most this size")
        .at_least(0.001)
        .real("first_bucket_mb", 1, "the first bucket (the last layers' gradients)").at_least(0.001);
    return top;
  }();
  return section;
}

//---- binding ----

namespace {

void require_map(const ConfigNode& node, const std::string& key_path) {
  if (!node.is_map())
    throw ConfigError(node.loc, key_path, "expected a map, got " + std::string(node.type_name()));
}

// what is wrong with a name that becomes part of a folder or a summary key, or "": names hold
// no '/' and no control characters (a tab or newline would break summary.csv and the logs)
std::string name_problem(const std::string& name) {
  if (name.empty()) return "is empty";
  if (name.find('/') != std::string::npos) return "holds a '/'";
  for (char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "holds a control character";
  return "";
}

// `keys` are the section's typed keys, already bound: the plugin named there and its params
ComponentSpec bind_component(const ConfigNode& node, const Params& keys,
                             const std::string& key_path, Kind kind, PluginRegistry& registry,
                             const std::vector<std::string>& data_names) {
  const ConfigNode* plugin_node = node.find("plugin");
  const std::string name = keys.get<std::string>("plugin");
  if (name.empty())
    throw keys.error("plugin", std::string("missing: name the ") + kind_name(kind) +
                                   " plugin (`wmhost list " + kind_plural(kind) + "` shows them)");
  ComponentSpec spec;
  spec.key_path = key_path;
  spec.loc = node.loc;
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
  if (keys.has("name") && !keys.get<std::string>("name").empty()) {
    spec.name = keys.get<std::string>("name");
    std::string problem = name_problem(spec.name);
    if (!problem.empty())
      throw keys.error("name", problem + "; it labels the values in metrics.jsonl and the summary");
  }
  std::string owner = std::string(kind_name(kind)) + " '" + spec.plugin->name() + "'";
  spec.params = bind_params(spec.plugin->schema, node.find("params"), key_path + ".params", owner,
                            node.loc, &data_names);
  return spec;
}

ComponentSpec bind_component(const ConfigNode& node, const std::string& key_path, Kind kind,
                             PluginRegistry& registry, const std::vector<std::string>& data_names,
                             bool named = false) {
  static const SectionSchema model = component_schema(Kind::Model);
  static const SectionSchema env = component_schema(Kind::Env);
  static const SectionSchema metric = [] {
    SectionSchema section = component_schema(Kind::Metric);
    section.keys.text("name", "", "label of its outputs (default: the plugin's name)");
    return section;
  }();
  const SectionSchema& section = kind == Kind::Env ? env : kind == Kind::Metric || named ? metric : model;
  require_map(node, key_path);
  return bind_component(node, bind_params(section, node, key_path), key_path, kind, registry,
                        data_names);
}

// `transforms: [{resize: {size: [64, 64]}}, {hflip: {}}]`: each step typed like plugin params
std::shared_ptr<const TransformPipeline> bind_transforms(const ConfigNode* list,
                                                         const std::string& key_path) {
  auto pipeline = std::make_shared<TransformPipeline>();
  if (!list || list->is_null()) return pipeline;
  const Catalog& catalog = host_catalog();
  std::vector<std::string> known = catalog.names(EntryKind::Transform);
  if (!list->is_sequence())
    throw ConfigError(list->loc, key_path, "expected a list of steps, e.g. [{resize: {size: [64, 64]}}]");
  for (size_t i = 0; i < list->items.size(); ++i) {
    const ConfigNode& item = list->items[i];
    std::string at = key_path + "." + std::to_string(i);
    if (!item.is_map() || item.entries.size() != 1)
      throw ConfigError(item.loc, at, "each step is one `name: {params}` map; transforms: " + join(known));
    const auto& [name, params] = item.entries.front();
    const Entry* entry = catalog.find(name, EntryKind::Transform);
    if (!entry)
      throw ConfigError(item.loc, at, "unknown transform '" + name + "'" + did_you_mean(name, known) +
                                          "; transforms: " + join(known));
    at += "." + name;
    Params bound = bind_params(entry->schema, &params, at, "transform '" + name + "'", item.loc);
    pipeline->add(entry->transform()->make(bound), at, item.loc);
  }
  return pipeline;
}

// under the run folder: a file an earlier step writes, checked when its consumer is built
bool under_run_dir(const std::filesystem::path& run_dir, const std::string& path) {
  if (mentions_run_dir(path)) return true;
  if (run_dir.empty()) return false;
  auto relative = std::filesystem::path(path).lexically_normal().lexically_relative(
      std::filesystem::absolute(run_dir).lexically_normal());
  return !relative.empty() && *relative.begin() != "..";
}

DataSpec bind_data(const ConfigNode& node, const std::string& key_path, PluginRegistry& registry,
                   const std::vector<std::string>& data_names, const std::filesystem::path& run_dir) {
  require_map(node, key_path);
  Params keys = bind_params(data_entry_schema(), node, key_path);
  DataSpec spec;
  static_cast<ComponentSpec&>(spec) =
      bind_component(node, keys, key_path, Kind::Dataset, registry, data_names);
  spec.transforms = bind_transforms(node.find("transforms"), key_path + ".transforms");
  spec.batch_transforms = bind_batch_transforms(node.find("batch_transforms"), key_path + ".batch_transforms");
  spec.workers = keys.get<int64_t>("workers");
  spec.prefetch = keys.get<int64_t>("prefetch");
  spec.split.split = keys.get<std::string>("split");
  spec.split.fractions = keys.get<RealList>("fractions");
  if (spec.split.fractions.size() != 3)
    throw keys.error("fractions", "needs three shares (train, val, test), got " +
                                      std::to_string(spec.split.fractions.size()));
  if (spec.split.fractions[0] + spec.split.fractions[1] + spec.split.fractions[2] <= 0)
    throw keys.error("fractions", "the three shares must add up to more than 0");
  spec.split.subset = keys.get<double>("subset");
  if (spec.split.subset <= 0)
    throw keys.error("subset", "must be above 0: a fraction of the split up to 1, or a whole "
                               "number of samples");
  if (spec.split.subset > 1 && spec.split.subset != std::floor(spec.split.subset))
    throw keys.error("subset", "is neither a fraction (at most 1) nor a whole number of samples");
  spec.split.split_by = keys.get<std::string>("split_by");
  try {
    check_split_by(spec.split.split_by);
  } catch (const Error& e) {
    throw keys.error("split_by", e.what());
  }
  spec.keys = keys;
  spec.split.seed = static_cast<uint64_t>(keys.get<int64_t>("split_seed"));
  // the files are read now, so a bad one fails validation; one under ${run.dir} is read when
  // the entry is built, after the steps before it have written it
  spec.action_scaler = keys.get<std::string>("action_scaler");
  if (!spec.action_scaler.empty() && !under_run_dir(run_dir, spec.action_scaler)) {
    try {
      io::ActionScaler::load(spec.action_scaler);
    } catch (const Error& e) {
      throw keys.error("action_scaler", e.what());
    }
  }
  spec.ids = keys.get<std::string>("ids");
  if (!spec.ids.empty() && !under_run_dir(run_dir, spec.ids)) {
    try {
      spec.listed_ids = read_id_list(spec.ids);
      if (spec.listed_ids.empty()) throw Error(spec.ids + ": the id list is empty");
    } catch (const Error& e) {
      throw keys.error("ids", e.what());
    }
  }
  return spec;
}

// metrics label their values by name: two of one name would overwrite each other in evaluate
void check_metric_names(const std::vector<ComponentSpec>& metrics) {
  for (size_t i = 0; i < metrics.size(); ++i) {
    if (metrics[i].name == "samples" || metrics[i].name == "skipped_samples")
      throw ConfigError(metrics[i].loc, metrics[i].key_path,
                        "the name '" + metrics[i].name + "' is taken by evaluate's own count; "
                        "give the metric another `name:`");
    // the other keys of evaluate's metrics.jsonl line, and the prefixes of its other scoreboards
    // (the baseline's values, each extra gap's): one of these would overwrite or repeat a key
    const std::string& name = metrics[i].name;
    bool gap = name.size() > 3 && name.compare(0, 3, "gap") == 0 &&
               name.find_first_not_of("0123456789", 3) == std::string::npos;
    std::string taken_by = gap ? "the values of an extra gap" : name == "baseline" ? "the baseline's values" : "";
    for (const char* key : {"time", "step", "procedure", "data", "label"})
      if (name == key) taken_by = std::string("its `") + key + "` key";
    if (!taken_by.empty())
      throw ConfigError(metrics[i].loc, metrics[i].key_path,
                        "the name '" + name + "' is taken by evaluate's metrics.jsonl line (" +
                            taken_by + "); give the metric another `name:`");
    for (size_t j = 0; j < i; ++j)
      if (metrics[j].name == metrics[i].name)
        throw ConfigError(metrics[i].loc, metrics[i].key_path,
                          "metric name '" + metrics[i].name + "' is also the name of " +
                              metrics[j].where() + "; their values would overwrite each other: "
                              "give one of them a `name:` (e.g. name: " + metrics[i].name + "_2)");
  }
}

// every step's optional `name:`, taken out of its parameters here so no procedure declares it:
// it labels the step's summary values (`evaluate[NAME]/psnr`)
std::string bind_step_name(ConfigNode& params, const std::string& key_path) {
  const ConfigNode* named = params.is_map() ? params.find("name") : nullptr;
  if (!named) return "";
  std::string label = named->is_scalar() ? named->scalar : "";
  if (label.find_first_of("[]") != std::string::npos || !name_problem(label).empty())
    throw ConfigError(named->loc, key_path + ".name",
                      "expected a label without '[', ']', '/' or control characters (it names "
                      "the step's summary values, e.g. name: ood gives evaluate[ood]/psnr)");
  params.erase("name");
  return label;
}

// the sections a procedure declares it needs (Procedure::needs)
void check_needs(const Experiment& experiment, const ProcedureSpec& step) {
  const Procedure::Needs& needs = step.procedure->needs;
  if (needs.model && !experiment.model)
    throw ConfigError(step.loc, step.key_path, "needs a `model:` section");
  if (needs.env && !experiment.env && experiment.envs.empty())
    throw ConfigError(step.loc, step.key_path, "needs an `env:` section");
  if (needs.metrics && experiment.metrics.empty())
    throw ConfigError(step.loc, step.key_path, "needs at least one entry under `metrics:`");
}

// one step: known, its needs met, its parameters bound (data entries among them), checked
ProcedureSpec bind_procedure(const ConfigNode& node, const std::string& key_path,
                             const Experiment& experiment,
                             const std::vector<std::string>& data_names) {
  const Catalog& catalog = host_catalog();
  std::vector<std::string> known = catalog.names(EntryKind::Procedure);
  if (!node.is_map() || node.entries.size() != 1)
    throw ConfigError(node.loc, key_path,
                      "each step is one `name: {params}` map; procedures: " + join(known));
  const auto& [name, params] = node.entries.front();
  const Entry* entry = catalog.find(name, EntryKind::Procedure);
  if (!entry)
    throw ConfigError(node.loc, key_path,
                      "unknown procedure '" + name + "'" + did_you_mean(name, known) +
                          "; procedures: " + join(known));
  ProcedureSpec spec;
  spec.key_path = key_path + "." + name;
  spec.loc = node.loc;
  spec.procedure = entry->procedure();
  check_needs(experiment, spec);
  ConfigNode own = params;
  spec.label = bind_step_name(own, spec.key_path);
  spec.params = bind_params(entry->schema, &own, spec.key_path, "procedure '" + name + "'",
                            node.loc, &data_names);
  if (spec.label.empty())
    for (const char* key : {"data", "policy"})
      if (spec.params.has(key)) {
        spec.label = spec.params.get<std::string>(key);
        break;
      }
  if (spec.procedure->check) spec.procedure->check(experiment, spec);
  return spec;
}

// two steps reporting under one summary key prefix would overwrite each other's values
void check_step_labels(const std::vector<ProcedureSpec>& steps) {
  std::map<std::string, const ProcedureSpec*> seen;
  for (const auto& step : steps) {
    std::string prefix = summary_key(step.procedure->name, step.label, "");
    auto [first, fresh] = seen.emplace(prefix, &step);
    if (fresh) continue;
    throw ConfigError(step.loc, step.key_path,
                      "reports as " + prefix + "..., like " + first->second->key_path + " at " +
                          first->second->loc.str() + ", and would overwrite its summary values; "
                          "give one of them a `name:` (e.g. name: after_training)");
  }
}

}  // namespace

bool written_by_run(const Experiment& experiment, const std::string& path) {
  return under_run_dir(experiment.run_dir, path);
}

Experiment validate_experiment(const ConfigNode& resolved, PluginRegistry& registry,
                               const std::filesystem::path& run_dir) {
  Experiment experiment;
  experiment.resolved = resolved;
  experiment.run_dir = run_dir;
  require_map(resolved, "");
  Params top = bind_params(experiment_schema(), resolved, "");
  experiment.name = top.get<std::string>("experiment");
  // it names the folder runs/<experiment>/: '..' would put runs outside it
  std::string problem = name_problem(experiment.name);
  if (experiment.name == "." || experiment.name == "..") problem = "is '" + experiment.name + "'";
  if (!problem.empty())
    throw top.error("experiment", problem + "; it must be a folder name (not '.' or '..', no '/' "
                                            "or control characters)");
  experiment.seed = top.get<int64_t>("seed");
  experiment.threads = top.get<int>("threads");
  experiment.device = top.get<std::string>("device");

  // data first: every other section may name its entries
  std::vector<std::string> data_names;
  if (const ConfigNode* data = resolved.find("data")) {
    require_map(*data, "data");
    data_names = data->keys();
    for (const auto& [key, node] : data->entries) {
      if (std::string issue = name_problem(key); !issue.empty())
        throw ConfigError(node.loc, "data." + key,
                          "the entry's name " + issue + "; it labels summary values "
                              "(evaluate[NAME]/psnr): any name without '/' or control characters");
      experiment.data.emplace(key, bind_data(node, "data." + key, registry, data_names, run_dir));
    }
  }
  if (const ConfigNode* model = resolved.find("model"))
    experiment.model = bind_component(*model, "model", Kind::Model, registry, data_names);
  if (const ConfigNode* env = resolved.find("env"))
    experiment.env = bind_component(*env, "env", Kind::Env, registry, data_names);
  if (const ConfigNode* envs = resolved.find("envs")) {
    require_map(*envs, "envs");
    for (const auto& [key, node] : envs->entries) {
      if (std::string issue = name_problem(key); !issue.empty())
        throw ConfigError(node.loc, "envs." + key, "the entry's name " + issue);
      experiment.envs.emplace(key, bind_component(node, "envs." + key, Kind::Env, registry, data_names));
    }
  }
  if (const ConfigNode* metrics = resolved.find("metrics")) {
    if (!metrics->is_sequence())
      throw ConfigError(metrics->loc, "metrics", "expected a list of {plugin: ...} entries");
    for (size_t i = 0; i < metrics->items.size(); ++i)
      experiment.metrics.push_back(bind_component(metrics->items[i], "metrics." + std::to_string(i),
                                                  Kind::Metric, registry, data_names));
    check_metric_names(experiment.metrics);
  }

  // baselines: named models; without the section, copy_last (when that plugin is here)
  if (const ConfigNode* baselines = resolved.find("baselines")) {
    if (!baselines->is_sequence())
      throw ConfigError(baselines->loc, "baselines", "expected a list of {plugin: ...} entries");
    for (size_t i = 0; i < baselines->items.size(); ++i)
      experiment.baselines.push_back(bind_component(baselines->items[i], "baselines." + std::to_string(i),
                                                    Kind::Model, registry, data_names, /*named=*/true));
  } else if (registry.find("copy_last")) {
    ConfigNode copy_last = parse_yaml("{plugin: copy_last}", "<default baselines>");
    experiment.baselines.push_back(
        bind_component(copy_last, "baselines.0", Kind::Model, registry, data_names, true));
  }

  const ConfigNode* steps = resolved.find("procedure");
  if (!steps || !steps->is_sequence() || steps->items.empty())
    throw ConfigError(steps ? steps->loc : resolved.loc, "procedure",
                      "an experiment needs a list of steps, e.g. `procedure: [{evaluate: {}}]`");
  for (size_t i = 0; i < steps->items.size(); ++i)
    experiment.procedures.push_back(bind_procedure(
        steps->items[i], "procedure." + std::to_string(i), experiment, data_names));
  check_step_labels(experiment.procedures);
  experiment.analysis = analysis::bind_steps(resolved.find("analysis"));
  if (const ConfigNode* node = resolved.find("distributed")) {
    require_map(*node, "distributed");
    Params keys = bind_params(distributed_schema(), *node, "distributed");
    experiment.distributed = {keys.get<std::string>("backend"), keys.get<double>("timeout_s"),
                              keys.get<double>("bucket_mb"), keys.get<double>("first_bucket_mb")};
  }
  return experiment;
}

}  // namespace wm
