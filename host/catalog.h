// One catalog of the named things a config can mention: plugins of the four kinds, procedures,
// transforms, analysis steps and the host's own sections. Each is an Entry {kind, name, version,
// summary, schema, factory}; `wmhost list` and `wmhost describe` print it, and the experiment
// binder finds procedures and transforms in it.
#pragma once
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "param_binding.h"
#include "wm/component.h"
#include "wm/schema.h"

namespace wm {

struct LoadedPlugin;
class PluginRegistry;
struct Procedure;
struct TransformKind;

//---- entries ----

// the plugin kinds first, in the order of wm::Kind
enum class EntryKind { Dataset, Model, Env, Metric, Procedure, Transform, Analysis, Section };

const char* entry_kind_name(EntryKind kind);    // "dataset plugin", "procedure", "section", ...
const char* entry_kind_plural(EntryKind kind);  // "datasets", "procedures": `wmhost list <plural>`
const std::vector<EntryKind>& entry_kinds();    // all of them, in order

struct Entry {
  EntryKind kind;
  std::string name;
  std::string version;  // a plugin's own; the host's for what the host brings
  std::string summary;
  Schema schema;
  std::vector<NestedKey> nested;  // sections: the maps and lists under them
  // what makes the named thing: a plugin's library (its create), a procedure (its run), a
  // transform kind (its make); nothing for a section
  std::variant<std::monostate, const LoadedPlugin*, const Procedure*, const TransformKind*> factory;

  const LoadedPlugin* plugin() const;  // null unless a plugin
  const Procedure* procedure() const;  // null unless a procedure
  const TransformKind* transform() const;  // null unless a transform
};

//---- the catalog ----

class Catalog {
 public:
  Catalog();  // what the host brings: procedures, transforms, sections
  explicit Catalog(const PluginRegistry& plugins);  // and every usable plugin, before those

  // by name; with no kind, the first match in kind order (a plugin before a procedure)
  const Entry* find(const std::string& name, std::optional<EntryKind> kind = std::nullopt) const;
  // in registration order (plugins sorted by name, procedures in the order the docs use)
  std::vector<const Entry*> list(EntryKind kind) const;
  std::vector<std::string> names(std::optional<EntryKind> kind = std::nullopt) const;

 private:
  void add_host_entries();
  std::vector<Entry> entries_;
};

// the host's own entries, built once (no plugins)
const Catalog& host_catalog();

}  // namespace wm
