#include "config_node.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace wm {

ConfigNode ConfigNode::make_scalar(std::string text, SourceLoc loc, bool quoted) {
  ConfigNode node;
  node.type = Type::Scalar;
  node.scalar = std::move(text);
  node.loc = std::move(loc);
  node.quoted = quoted;
  return node;
}

ConfigNode ConfigNode::make_map(SourceLoc loc) {
  ConfigNode node;
  node.type = Type::Map;
  node.loc = std::move(loc);
  return node;
}

const char* ConfigNode::type_name() const {
  switch (type) {
    case Type::Null: return "empty";
    case Type::Scalar: return "a single value";
    case Type::Sequence: return "a list";
    case Type::Map: return "a map";
  }
  return "?";
}

ConfigNode* ConfigNode::find(const std::string& key) {
  for (auto& [name, value] : entries)
    if (name == key) return &value;
  return nullptr;
}

const ConfigNode* ConfigNode::find(const std::string& key) const {
  return const_cast<ConfigNode*>(this)->find(key);
}

ConfigNode& ConfigNode::set(const std::string& key, ConfigNode value) {
  if (type == Type::Null) type = Type::Map;
  if (ConfigNode* existing = find(key)) return *existing = std::move(value);
  entries.emplace_back(key, std::move(value));
  return entries.back().second;
}

bool ConfigNode::erase(const std::string& key) {
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const auto& entry) { return entry.first == key; });
  if (it == entries.end()) return false;
  entries.erase(it);
  return true;
}

std::vector<std::string> ConfigNode::keys() const {
  std::vector<std::string> names;
  for (const auto& entry : entries) names.push_back(entry.first);
  return names;
}

//---- yaml-cpp conversion ----

namespace {

SourceLoc loc_of(const YAML::Mark& mark, const std::string& file) {
  if (mark.line < 0) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

ConfigNode convert(const YAML::Node& node, const std::string& file) {
  ConfigNode out;
  out.loc = loc_of(node.Mark(), file);
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out.type = ConfigNode::Type::Null;
      break;
    case YAML::NodeType::Scalar:
      out.type = ConfigNode::Type::Scalar;
      out.scalar = node.Scalar();
      out.quoted = node.Tag() == "!";
      break;
    case YAML::NodeType::Sequence:
      out.type = ConfigNode::Type::Sequence;
      for (const auto& item : node) out.items.push_back(convert(item, file));
      break;
    case YAML::NodeType::Map:
      out.type = ConfigNode::Type::Map;
      for (const auto& entry : node) {
        if (!entry.first.IsScalar())
          throw ConfigError(loc_of(entry.first.Mark(), file), "", "map keys must be plain names");
        std::string key = entry.first.Scalar();
        if (const ConfigNode* earlier = out.find(key))
          throw ConfigError(loc_of(entry.first.Mark(), file), key,
                            "duplicate key (first given at line " +
                                std::to_string(earlier->loc.line) + ")");
        out.entries.emplace_back(key, convert(entry.second, file));
        // a key with an empty value has no mark of its own: point at the key
        if (out.entries.back().second.loc.line == 0)
          out.entries.back().second.loc = loc_of(entry.first.Mark(), file);
      }
      break;
  }
  return out;
}

void emit(YAML::Emitter& out, const ConfigNode& node) {
  switch (node.type) {
    case ConfigNode::Type::Null: out << YAML::Null; break;
    case ConfigNode::Type::Scalar:
      if (node.quoted) out << YAML::DoubleQuoted;
      out << node.scalar;
      break;
    case ConfigNode::Type::Sequence: {
      bool flat = std::all_of(node.items.begin(), node.items.end(),
                              [](const ConfigNode& item) { return item.is_scalar(); });
      if (flat) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : node.items) emit(out, item);
      out << YAML::EndSeq;
      break;
    }
    case ConfigNode::Type::Map:
      out << YAML::BeginMap;
      for (const auto& [key, value] : node.entries) {
        out << YAML::Key << key << YAML::Value;
        emit(out, value);
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

ConfigNode parse_yaml(const std::string& text, const std::string& source_name) {
  try {
    return convert(YAML::Load(text), source_name);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(loc_of(e.mark, source_name), "", "YAML syntax error: " + e.msg);
  }
}

ConfigNode load_yaml_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read " + path.string() + ": no such file or not readable");
  std::stringstream text;
  text << in.rdbuf();
  return parse_yaml(text.str(), path.string());
}

std::string to_yaml(const ConfigNode& node) {
  YAML::Emitter out;
  emit(out, node);
  return std::string(out.c_str()) + "\n";
}

//---- dotted paths ----

std::vector<std::string> split_path(const std::string& dotted) {
  std::vector<std::string> parts;
  std::stringstream in(dotted);
  for (std::string part; std::getline(in, part, '.');) parts.push_back(part);
  return parts;
}

namespace {
bool is_index(const std::string& part) {
  return !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
}
}  // namespace

ConfigNode* find_path(ConfigNode& root, const std::string& dotted) {
  ConfigNode* node = &root;
  for (const auto& part : split_path(dotted)) {
    if (node->is_map()) {
      node = node->find(part);
    } else if (node->is_sequence() && is_index(part)) {
      size_t index = std::stoul(part);
      node = index < node->items.size() ? &node->items[index] : nullptr;
    } else {
      return nullptr;
    }
    if (!node) return nullptr;
  }
  return node;
}

const ConfigNode* find_path(const ConfigNode& root, const std::string& dotted) {
  return find_path(const_cast<ConfigNode&>(root), dotted);
}

ConfigNode& ensure_path(ConfigNode& root, const std::string& dotted, const SourceLoc& loc) {
  ConfigNode* node = &root;
  std::string walked;
  for (const auto& part : split_path(dotted)) {
    walked += (walked.empty() ? "" : ".") + part;
    if (node->is_sequence() && is_index(part) && std::stoul(part) < node->items.size()) {
      node = &node->items[std::stoul(part)];
      continue;
    }
    if (node->is_null()) *node = ConfigNode::make_map(loc);
    if (!node->is_map())
      throw ConfigError(loc, walked, "cannot add a key inside " + std::string(node->type_name()));
    ConfigNode* child = node->find(part);
    if (!child) {
      ConfigNode empty;
      empty.loc = loc;
      child = &node->set(part, std::move(empty));
    }
    node = child;
  }
  return *node;
}

}  // namespace wm
