// Checks a YAML map against a schema and turns it into typed wm::Params: a plugin's or a
// procedure's `params:`, and the host's own sections (the top level, data.<name>).
#pragma once
#include <string>
#include <vector>

#include "config_node.h"
#include "wm/params.h"
#include "wm/schema.h"

namespace wm {

//---- parameters of plugins, procedures and transforms ----

// `node` may be null (no params given: all defaults). `key_path` is where the map sits, e.g.
// "model.params"; `owner` names whose parameters they are, e.g. "model 'two_stream'".
// `data_names` are the experiment's `data:` entries, which data_ref parameters must name (null:
// not checked, as for a plugin made outside an experiment).
// Unknown keys, wrong types, values out of range and missing required values throw ConfigError.
Params bind_params(const Schema& schema, const ConfigNode* node, const std::string& key_path,
                   const std::string& owner, const SourceLoc& owner_loc,
                   const std::vector<std::string>* data_names = nullptr);

//---- the host's own sections ----

// a key of a host section holding a map or a list that the host binds itself (`data`, `params`)
struct NestedKey {
  std::string name;
  std::string shape;  // what it holds, as `wmhost describe` shows it: "map", "list", ...
  std::string doc;
};

// a section of the experiment file: typed keys, bound like parameters, and nested ones
struct SectionSchema {
  Schema keys;
  std::vector<NestedKey> nested;
};

// binds the typed keys of a section at `key_path` ("" for the top level); errors speak of keys:
//   exp.yaml:2:1: metrcs: unknown key; did you mean 'metrics'? (allowed: ...)
Params bind_params(const SectionSchema& section, const ConfigNode& node,
                   const std::string& key_path);

// the conversion of a single value, as both of the above do it
Value convert_value(const ParamSpec& spec, const ConfigNode& node, const std::string& key_path);

}  // namespace wm
