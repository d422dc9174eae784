// Checks a YAML `params:` map against a schema and turns it into typed wm::Params.
#pragma once
#include <string>

#include "config_node.h"
#include "wm/params.h"
#include "wm/schema.h"

namespace wm {

// `node` may be null (no params given: all defaults). `key_path` is where the map sits, e.g.
// "model.params"; `owner` names whose parameters they are, e.g. "model 'two_stream'".
// Unknown keys, wrong types, values out of range and missing required values throw ConfigError.
Params bind_params(const Schema& schema, const ConfigNode* node, const std::string& key_path,
                   const std::string& owner, const SourceLoc& owner_loc);

// the same conversion for a single value (also used for host keys)
Value convert_value(const ParamSpec& spec, const ConfigNode& node, const std::string& key_path);

}  // namespace wm
