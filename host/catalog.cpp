#include "catalog.h"

#include "analysis/analysis.h"
#include "engine/transforms.h"
#include "experiment.h"
#include "plugin_registry.h"
#include "procedure.h"
#include "wm/abi.h"

namespace wm {

//---- entries ----

// a plugin's EntryKind is its wm::Kind
static_assert(static_cast<int>(EntryKind::Dataset) == static_cast<int>(Kind::Dataset) &&
              static_cast<int>(EntryKind::Metric) == static_cast<int>(Kind::Metric));

const char* entry_kind_name(EntryKind kind) {
  switch (kind) {
    case EntryKind::Dataset: return "dataset plugin";
    case EntryKind::Model: return "model plugin";
    case EntryKind::Env: return "env plugin";
    case EntryKind::Metric: return "metric plugin";
    case EntryKind::Procedure: return "procedure";
    case EntryKind::Transform: return "transform";
    case EntryKind::Analysis: return "analysis step";
    case EntryKind::Section: return "section";
  }
  return "?";
}

const char* entry_kind_plural(EntryKind kind) {
  switch (kind) {
    case EntryKind::Dataset: return kind_plural(Kind::Dataset);
    case EntryKind::Model: return kind_plural(Kind::Model);
    case EntryKind::Env: return kind_plural(Kind::Env);
    case EntryKind::Metric: return kind_plural(Kind::Metric);
    case EntryKind::Procedure: return "procedures";
    case EntryKind::Transform: return "transforms";
    case EntryKind::Analysis: return "analysis";
    case EntryKind::Section: return "sections";
  }
  return "?";
}

const std::vector<EntryKind>& entry_kinds() {
  static const std::vector<EntryKind> kinds = {EntryKind::Dataset,   EntryKind::Model,
                                               EntryKind::Env,       EntryKind::Metric,
                                               EntryKind::Procedure, EntryKind::Transform,
                                               EntryKind::Analysis,  EntryKind::Section};
  return kinds;
}

const LoadedPlugin* Entry::plugin() const {
  auto* found = std::get_if<const LoadedPlugin*>(&factory);
  return found ? *found : nullptr;
}
const Procedure* Entry::procedure() const {
  auto* found = std::get_if<const Procedure*>(&factory);
  return found ? *found : nullptr;
}
const TransformKind* Entry::transform() const {
  auto* found = std::get_if<const TransformKind*>(&factory);
  return found ? *found : nullptr;
}

//---- what the host brings ----

namespace {

// the procedures, in the order `wmhost list` and the unknown-procedure message show them
const std::vector<const Procedure*>& host_procedures() {
  static const std::vector<const Procedure*> all = {
      &train_procedure,   &evaluate_procedure, &rollout_procedure, &fit_action_scaler_procedure,
      &write_fixture_procedure,
      &tiers_procedure,   &probe_procedure,    &collect_procedure,  &load_procedure,
      &score_procedure};
  return all;
}

Entry section_entry(const std::string& name, const std::string& summary,
                    const SectionSchema& section) {
  return {EntryKind::Section, name, WM_SDK_VERSION, summary, section.keys, section.nested, {}};
}

}  // namespace

void Catalog::add_host_entries() {
  // every step also takes `name:`, bound once by the experiment binder (bind_step_name)
  const std::vector<NestedKey> step_keys = {
      {"name", "text", "label of the step's summary values, <procedure>[<name>]/<key> (default: "
                       "its data or policy)"}};
  for (const Procedure* procedure : host_procedures())
    entries_.push_back({EntryKind::Procedure, procedure->name, WM_SDK_VERSION, procedure->summary,
                        procedure->schema(), step_keys, procedure});
  for (const TransformKind& transform : transform_kinds())
    entries_.push_back({EntryKind::Transform, transform.name, WM_SDK_VERSION, transform.summary,
                        transform.schema(), {}, &transform});
  for (const analysis::StepKind& kind : analysis::step_kinds())
    entries_.push_back({EntryKind::Analysis, kind.name, WM_SDK_VERSION, kind.summary,
                        analysis::step_schema(kind), kind.nested, {}});
  entries_.push_back(section_entry("experiment", "the top level of an experiment file",
                                   experiment_schema()));
  entries_.push_back(section_entry("data", "one entry under `data:` (data.<name>)",
                                   data_entry_schema()));
  entries_.push_back(section_entry("distributed", "how the ranks of a data-parallel run talk "
                                   "(`distributed:`)", distributed_schema()));
}

//---- the catalog ----

Catalog::Catalog() { add_host_entries(); }

Catalog::Catalog(const PluginRegistry& plugins) {
  for (Kind kind : {Kind::Dataset, Kind::Model, Kind::Env, Kind::Metric})
    for (const LoadedPlugin* plugin : plugins.list(kind))
      entries_.push_back({static_cast<EntryKind>(kind), plugin->name(), plugin->info->version,
                          plugin->info->summary, plugin->schema, {}, plugin});
  add_host_entries();
}

const Entry* Catalog::find(const std::string& name, std::optional<EntryKind> kind) const {
  for (const auto& entry : entries_)
    if (entry.name == name && (!kind || entry.kind == *kind)) return &entry;
  return nullptr;
}

std::vector<const Entry*> Catalog::list(EntryKind kind) const {
  std::vector<const Entry*> found;
  for (const auto& entry : entries_)
    if (entry.kind == kind) found.push_back(&entry);
  return found;
}

std::vector<std::string> Catalog::names(std::optional<EntryKind> kind) const {
  std::vector<std::string> found;
  for (const auto& entry : entries_)
    if (!kind || entry.kind == *kind) found.push_back(entry.name);
  return found;
}

const Catalog& host_catalog() {
  static const Catalog catalog;
  return catalog;
}

}  // namespace wm
