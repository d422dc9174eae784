#include "config_node.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "config_limits.h"

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

// yaml-cpp nodes to ConfigNodes, counting what it makes and how deep: an alias (`*name`) is a
// copy of its anchor, so a small file can stand for billions of values ("billion laughs"), for
// nesting deeper than any file writes out, or (an anchor holding its own alias) for a loop
class Converter {
 public:
  explicit Converter(const std::string& file) : file_(file) {}

  // `depth`: the levels of maps and lists above `node`, plus one
  ConfigNode convert(const YAML::Node& node, size_t depth = 1) {
    ConfigNode out;
    out.loc = loc_of(node.Mark(), file_);
    if (++made_ > kMaxConfigNodes)
      throw ConfigError(out.loc, "",
                        "the file expands to more than " + std::to_string(kMaxConfigNodes) +
                            " values (each alias `*name` copies what its anchor holds); "
                            "write the values out or use fewer nested aliases");
    if (depth > kMaxConfigDepth)
      throw ConfigError(out.loc, "",
                        "maps and lists nested too deeply: more than " +
                            std::to_string(kMaxConfigDepth) +
                            " levels, counting the levels each alias `*name` copies (an anchor "
                            "that holds its own alias nests without end)");
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
        for (const auto& item : node) out.items.push_back(convert(item, depth + 1));
        break;
      case YAML::NodeType::Map:
        convert_map(node, depth, out);
        break;
    }
    return out;
  }

 private:
  // keys in file order; a repeated key is an error (a hash of the keys seen keeps this linear)
  void convert_map(const YAML::Node& node, size_t depth, ConfigNode& out) {
    out.type = ConfigNode::Type::Map;
    std::unordered_map<std::string, int> first_line;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar())
        throw ConfigError(loc_of(entry.first.Mark(), file_), "", "map keys must be plain names");
      std::string key = entry.first.Scalar();
      SourceLoc key_loc = loc_of(entry.first.Mark(), file_);
      auto [earlier, fresh] = first_line.emplace(key, key_loc.line);
      if (!fresh)
        throw ConfigError(key_loc, key,
                          "duplicate key (first given at line " + std::to_string(earlier->second) +
                              ")");
      out.entries.emplace_back(key, convert(entry.second, depth + 1));
      // a key with an empty value has no mark of its own: point at the key
      if (out.entries.back().second.loc.line == 0) out.entries.back().second.loc = key_loc;
    }
  }

  const std::string& file_;
  size_t made_ = 0;
};

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
    return Converter(source_name).convert(YAML::Load(text));
  } catch (const YAML::DeepRecursion& e) {
    throw ConfigError(loc_of(e.mark, source_name), "",
                      "maps and lists nested too deeply for the YAML reader (at most a few "
                      "hundred levels)");
  } catch (const YAML::ParserException& e) {
    throw ConfigError(loc_of(e.mark, source_name), "", "YAML syntax error: " + e.msg);
  }
}

//---- config files ----

namespace {

// YAML is text: any C0 control other than tab, newline and carriage return (a NUL, say) means
// the file is something else, and nothing of it is shown
bool looks_binary(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte == 0x7f;
  });
}

std::string mebibytes(std::uintmax_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// the file's bytes, read into a buffer of its stated size plus one: a file that grew since it
// was sized is read on (the buffer doubling), stopping one byte past the limit
std::string read_bounded(std::ifstream& in, std::uintmax_t stated_size) {
  constexpr size_t kLimit = kMaxConfigFileBytes;
  std::string text(static_cast<size_t>(std::min<std::uintmax_t>(stated_size, kLimit)) + 1, '\0');
  size_t got = 0;
  while (in && got < text.size()) {
    in.read(text.data() + got, static_cast<std::streamsize>(text.size() - got));
    got += static_cast<size_t>(in.gcount());
    if (got == text.size() && text.size() <= kLimit)
      text.resize(std::min(text.size() * 2, kLimit + 1));
  }
  text.resize(got);
  return text;
}

// what keeps `path` from being read as a config file ("" when nothing does); its size goes to
// `size` (the limit when it cannot be had)
std::string file_problem(const std::filesystem::path& path, std::uintmax_t& size) {
  namespace fs = std::filesystem;
  size = kMaxConfigFileBytes;
  std::error_code error;
  fs::file_status status = fs::status(path, error);
  if (status.type() == fs::file_type::not_found) return path.string() + ": no such file";
  if (error) return "cannot read " + path.string() + ": " + error.message();
  if (fs::is_directory(status)) return path.string() + " is a folder, not a YAML file";
  // a FIFO would block the read, a device (/dev/zero) never end it
  if (!fs::is_regular_file(status))
    return path.string() + " is not a regular file (a device, FIFO or socket); config files "
                           "must be plain files";
  std::uintmax_t stated = fs::file_size(path, error);
  if (error) return "";
  size = stated;
  if (size > kMaxConfigFileBytes)
    return path.string() + " is larger than " + mebibytes(kMaxConfigFileBytes) + " (" +
           std::to_string(size) + " bytes); config files are at most that";
  return "";
}

}  // namespace

std::string config_file_problem(const std::filesystem::path& path) {
  std::uintmax_t size = 0;
  return file_problem(path, size);
}

ConfigNode load_yaml_file(const std::filesystem::path& path) {
  std::uintmax_t size = 0;
  std::string problem = file_problem(path, size);
  if (!problem.empty()) throw Error(problem);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path.string() + ": not readable");
  // at most one byte past the limit: a file that grew since it was checked is refused too
  std::string text = read_bounded(in, size);
  if (in.bad()) throw Error("cannot read " + path.string() + ": read error");
  if (text.size() > kMaxConfigFileBytes)
    throw Error(path.string() + " is larger than " + mebibytes(kMaxConfigFileBytes) +
                "; config files are at most that");
  if (looks_binary(text))
    throw Error(path.string() + " holds binary data, not YAML text");
  return parse_yaml(text, path.string());
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
// a list index: digits only, and few enough to be a real position (never a library's overflow)
bool parse_index(const std::string& part, size_t& index) {
  if (part.empty() || part.size() > 9 || !std::all_of(part.begin(), part.end(), ::isdigit))
    return false;
  index = std::stoul(part);
  return true;
}
}  // namespace

ConfigNode* find_path(ConfigNode& root, const std::string& dotted) {
  ConfigNode* node = &root;
  for (const auto& part : split_path(dotted)) {
    if (node->is_map()) {
      node = node->find(part);
    } else if (size_t index; node->is_sequence() && parse_index(part, index)) {
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
    if (size_t index; node->is_sequence() && parse_index(part, index) && index < node->items.size()) {
      node = &node->items[index];
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
