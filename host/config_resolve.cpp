#include "config_resolve.h"

#include <cstdlib>
#include <set>

#include "wm/error.h"

namespace wm {

//---- inheritance ----

namespace {

void merge_into(ConfigNode& base, const ConfigNode& child, const std::string& path) {
  if (!base.is_map() || !child.is_map()) {
    base = child;
    return;
  }
  for (const auto& [key, value] : child.entries) {
    std::string key_path = path.empty() ? key : path + "." + key;
    ConfigNode* inherited = base.find(key);
    const ConfigNode* replace = value.is_map() ? value.find("_replace_") : nullptr;
    if (replace) {
      if (!inherited)
        throw ConfigError(replace->loc, key_path + "._replace_",
                          "nothing inherited to replace; remove `_replace_`");
      ConfigNode replacement = value;
      replacement.erase("_replace_");
      *inherited = std::move(replacement);
    } else if (inherited) {
      merge_into(*inherited, value, key_path);
    } else {
      base.set(key, value);
    }
  }
}

void reject_markers(const ConfigNode& node, const std::string& path) {
  for (const auto& [key, value] : node.entries) {
    std::string key_path = path.empty() ? key : path + "." + key;
    if (key == "_replace_")
      throw ConfigError(value.loc, key_path, "nothing inherited to replace; remove `_replace_`");
    reject_markers(value, key_path);
  }
  for (size_t i = 0; i < node.items.size(); ++i)
    reject_markers(node.items[i], path + "." + std::to_string(i));
}

ConfigNode load_with_bases(const std::filesystem::path& path,
                           std::vector<std::filesystem::path>& chain) {
  auto canonical = std::filesystem::weakly_canonical(path);
  for (const auto& seen : chain)
    if (seen == canonical) throw Error("base cycle: " + path.string() + " inherits from itself");
  chain.push_back(canonical);
  ConfigNode file = load_yaml_file(path);
  if (!file.is_map() && !file.is_null())
    throw ConfigError(file.loc, "", "an experiment file must be a map of keys");

  ConfigNode merged = ConfigNode::make_map(file.loc);
  if (const ConfigNode* bases = file.find("base")) {
    std::vector<ConfigNode> names = bases->is_sequence() ? bases->items
                                                         : std::vector<ConfigNode>{*bases};
    for (const auto& name : names) {
      if (!name.is_scalar()) throw ConfigError(name.loc, "base", "expected a file name");
      auto base_path = path.parent_path() / name.scalar;
      if (!std::filesystem::exists(base_path))
        throw ConfigError(name.loc, "base", "no such file: " + base_path.string());
      merge_into(merged, load_with_bases(base_path, chain), "");
    }
    file.erase("base");
  }
  // a marker in the file itself is fine only where a base provides the map
  if (merged.entries.empty()) reject_markers(file, "");
  merge_into(merged, file, "");
  chain.pop_back();
  return merged;
}

}  // namespace

ConfigNode load_experiment(const std::filesystem::path& path) {
  std::vector<std::filesystem::path> chain;
  return load_with_bases(path, chain);
}

//---- overrides ----

void set_value(ConfigNode& root, const std::string& dotted, const ConfigNode& value) {
  ensure_path(root, dotted, value.loc) = value;
}

void apply_override(ConfigNode& root, const std::string& assignment, int position) {
  SourceLoc where{"<command line> arg " + std::to_string(position), 0, 0};
  auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0)
    throw ConfigError(where, "", "expected key.path=value, got '" + assignment + "'");
  bool add = assignment[0] == '+';
  std::string key = assignment.substr(add ? 1 : 0, equals - (add ? 1 : 0));
  ConfigNode value = parse_yaml(assignment.substr(equals + 1), where.file);
  value.loc = where;

  if (!add && !find_path(root, key)) {
    // name the deepest part that exists and suggest among its keys
    auto parts = split_path(key);
    ConfigNode* parent = &root;
    std::string known;
    for (size_t i = 0; i + 1 < parts.size() && parent; ++i) parent = find_path(*parent, parts[i]);
    std::string hint = parent && parent->is_map() ? did_you_mean(parts.back(), parent->keys()) : "";
    throw ConfigError(where, key,
                      "unknown override key" + hint + " (use +" + key + "=... to add a new key)");
  }
  set_value(root, key, value);
}

//---- interpolation ----

namespace {

const char* const kRunDir = "run.dir";

class Interpolator {
 public:
  explicit Interpolator(ConfigNode& root) : root_(root) {}

  void resolve(ConfigNode& node, const std::string& path) {
    if (node.is_scalar()) {
      resolve_scalar(node, path);
    } else if (node.is_map()) {
      for (auto& [key, child] : node.entries) resolve(child, path.empty() ? key : path + "." + key);
    } else if (node.is_sequence()) {
      for (size_t i = 0; i < node.items.size(); ++i)
        resolve(node.items[i], path + "." + std::to_string(i));
    }
  }

 private:
  void resolve_scalar(ConfigNode& node, const std::string& path, size_t from = 0) {
    const std::string& text = node.scalar;
    size_t start = text.find("${", from);
    if (start == std::string::npos) return;
    size_t end = text.find('}', start);
    if (end == std::string::npos)
      throw ConfigError(node.loc, path, "unclosed '${' in '" + text + "'");
    std::string reference = text.substr(start + 2, end - start - 2);
    // ${run.dir} stays as it is until the run has a folder (resolve_run_dir)
    if (reference == kRunDir) return resolve_scalar(node, path, end + 1);

    // a whole-value reference copies the target node, whatever its type
    if (start == 0 && end + 1 == text.size() && reference.rfind("env:", 0) != 0) {
      SourceLoc use_site = node.loc;
      node = target(reference, node.loc, path);
      if (node.is_scalar()) node.loc = use_site;
      return;
    }
    std::string replacement;
    if (reference.rfind("env:", 0) == 0) {
      replacement = environment(reference.substr(4), node.loc, path);
    } else {
      ConfigNode value = target(reference, node.loc, path);
      if (!value.is_scalar())
        throw ConfigError(node.loc, path,
                          "${" + reference + "} is " + value.type_name() +
                              " and cannot be spliced into text");
      replacement = value.scalar;
    }
    node.scalar = text.substr(0, start) + replacement + text.substr(end + 1);
    resolve_scalar(node, path, start);  // the rest of the text may hold more references
  }

  ConfigNode target(const std::string& reference, const SourceLoc& use_site,
                    const std::string& path) {
    ConfigNode* found = find_path(root_, reference);
    if (!found) found = through_references(reference);
    if (!found) {
      auto parts = split_path(reference);
      ConfigNode* parent = &root_;
      for (size_t i = 0; i + 1 < parts.size() && parent; ++i)
        parent = find_path(*parent, parts[i]);
      std::string hint =
          parent && parent->is_map() ? did_you_mean(parts.back(), parent->keys()) : "";
      throw ConfigError(use_site, path, "${" + reference + "}: no such key" + hint);
    }
    if (active_.count(reference)) {
      std::string cycle;
      for (const auto& step : stack_) cycle += step + " -> ";
      throw ConfigError(use_site, path, "interpolation cycle: " + cycle + reference);
    }
    active_.insert(reference);
    stack_.push_back(reference);
    resolve(*found, reference);
    stack_.pop_back();
    active_.erase(reference);
    return *found;
  }

  // ${a.b.c} where a.b is itself a reference (e.g. a sweep value `${global_vars.presets.mixup}`
  // standing for a map): resolve the parts on the way first, whatever order the file has
  ConfigNode* through_references(const std::string& reference) {
    auto parts = split_path(reference);
    std::string prefix;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      prefix += (prefix.empty() ? "" : ".") + parts[i];
      ConfigNode* node = find_path(root_, prefix);
      if (!node) return nullptr;
      if (node->is_scalar() && node->scalar.find("${") != std::string::npos) {
        if (!through_.insert(prefix).second) return nullptr;  // `a: ${a.b}`: no such key
        resolve(*node, prefix);
        through_.erase(prefix);
      }
    }
    return find_path(root_, reference);
  }

  static std::string environment(const std::string& spec, const SourceLoc& loc,
                                 const std::string& path) {
    auto comma = spec.find(',');
    std::string name = spec.substr(0, comma);
    if (const char* value = std::getenv(name.c_str())) return value;
    if (comma != std::string::npos) return spec.substr(comma + 1);
    throw ConfigError(loc, path,
                      "environment variable " + name + " is not set (give a default: ${env:" +
                          name + ",value})");
  }

  ConfigNode& root_;
  std::set<std::string> active_, through_;
  std::vector<std::string> stack_;
};

}  // namespace

void interpolate(ConfigNode& root) {
  Interpolator interpolator(root);
  interpolator.resolve(root, "");
}

//---- the run folder ----

namespace {

bool replace_run_dir(ConfigNode& node, const std::string& dir) {
  bool found = false;
  if (node.is_scalar()) {
    for (size_t at = node.scalar.find(kRunDirReference); at != std::string::npos;
         at = node.scalar.find(kRunDirReference, at + dir.size())) {
      node.scalar.replace(at, std::string(kRunDirReference).size(), dir);
      found = true;
    }
  }
  for (auto& [key, child] : node.entries) found = replace_run_dir(child, dir) || found;
  for (auto& item : node.items) found = replace_run_dir(item, dir) || found;
  return found;
}

}  // namespace

bool mentions_run_dir(const std::string& text) {
  return text.find(kRunDirReference) != std::string::npos;
}

bool resolve_run_dir(ConfigNode& root, const std::filesystem::path& dir) {
  return replace_run_dir(root, std::filesystem::absolute(dir).lexically_normal().string());
}

}  // namespace wm
