// The host's config tree. yaml-cpp nodes are converted at once into ConfigNodes that carry
// file:line:col on every key and value; merges, overrides and interpolation work on this tree
// (yaml-cpp's Clone drops marks, and yaml-cpp accepts duplicate keys silently).
#pragma once
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "wm/error.h"

namespace wm {

struct ConfigNode {
  enum class Type { Null, Scalar, Sequence, Map };

  Type type = Type::Null;
  std::string scalar;  // for Scalar
  bool quoted = false; // a quoted scalar is always a string
  bool interpolated = false;  // its ${...} are resolved: the text is never scanned again
  std::vector<ConfigNode> items;                          // for Sequence
  std::vector<std::pair<std::string, ConfigNode>> entries;  // for Map, in file order
  SourceLoc loc;  // where the value starts

  static ConfigNode make_scalar(std::string text, SourceLoc loc = {}, bool quoted = false);
  static ConfigNode make_map(SourceLoc loc = {});

  bool is_null() const { return type == Type::Null; }
  bool is_scalar() const { return type == Type::Scalar; }
  bool is_sequence() const { return type == Type::Sequence; }
  bool is_map() const { return type == Type::Map; }
  const char* type_name() const;  // "a map", "a list", ...

  // map access
  ConfigNode* find(const std::string& key);
  const ConfigNode* find(const std::string& key) const;
  ConfigNode& set(const std::string& key, ConfigNode value);  // replaces or appends
  bool erase(const std::string& key);
  std::vector<std::string> keys() const;
};

//---- reading and writing YAML ----

// throws ConfigError with file:line:col for syntax errors, duplicate keys and files that expand
// past kMaxConfigNodes values (config_limits.h); load_yaml_file reads only a regular text file
// of at most kMaxConfigFileBytes, and its errors never quote a file that is not YAML text
ConfigNode load_yaml_file(const std::filesystem::path& path);
// why `path` cannot be a config file (a folder, a FIFO, too large, ...), or "" when it can be
std::string config_file_problem(const std::filesystem::path& path);
ConfigNode parse_yaml(const std::string& text, const std::string& source_name);
std::string to_yaml(const ConfigNode& node);

//---- dotted paths: "model.params.dim", "metrics.0.plugin" ----

std::vector<std::string> split_path(const std::string& dotted);
ConfigNode* find_path(ConfigNode& root, const std::string& dotted);
const ConfigNode* find_path(const ConfigNode& root, const std::string& dotted);
// creates missing maps on the way; throws if a step crosses a scalar
ConfigNode& ensure_path(ConfigNode& root, const std::string& dotted, const SourceLoc& loc);

}  // namespace wm
