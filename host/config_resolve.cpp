#include "config_resolve.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <unordered_map>

#include "config_limits.h"
#include "wm/error.h"

namespace wm {

//---- inheritance ----

namespace {

void merge_into(ConfigNode& base, const ConfigNode& child, const std::string& path) {
  if (!base.is_map() || !child.is_map()) {
    base = child;
    return;
  }
  // where each inherited key sits, so a map of many keys merges in linear time
  std::unordered_map<std::string, size_t> position;
  for (size_t i = 0; i < base.entries.size(); ++i) position.emplace(base.entries[i].first, i);
  for (const auto& [key, value] : child.entries) {
    std::string key_path = path.empty() ? key : path + "." + key;
    auto at = position.find(key);
    ConfigNode* inherited = at == position.end() ? nullptr : &base.entries[at->second].second;
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
      position.emplace(key, base.entries.size());
      base.entries.emplace_back(key, value);
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

// why `path` cannot be an experiment or base file, or "": a regular YAML file of bounded size.
// A file that is not named .yaml/.yml is refused before it is read, so no message ever quotes
// a file that was never meant as a config (`base: /etc/shadow`)
std::string experiment_file_problem(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string problem = config_file_problem(path);
  if (problem.empty() && extension != ".yaml" && extension != ".yml")
    problem = path.string() + " is not a YAML file (experiment and base files end in .yaml or .yml)";
  return problem;
}

struct BaseLoader {
  std::vector<std::filesystem::path> chain;  // the files being loaded, outermost first
  size_t loaded = 0;                         // files read so far, repeats included

  ConfigNode load(const std::filesystem::path& path) {
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
        std::string problem = experiment_file_problem(base_path);
        if (!problem.empty()) throw ConfigError(name.loc, "base", problem);
        // a base listed many times over, at every level, would be read exponentially often
        if (++loaded > kMaxBaseFiles)
          throw ConfigError(name.loc, "base",
                            "more than " + std::to_string(kMaxBaseFiles) +
                                " base files read for one experiment (counting repeats)");
        // a base's own errors name their file:line; one without a place points at this line
        ConfigNode inherited;
        try {
          inherited = load(base_path);
        } catch (const ConfigError&) {
          throw;
        } catch (const Error& e) {
          throw ConfigError(name.loc, "base", e.what());
        }
        merge_into(merged, inherited, "");
      }
      file.erase("base");
    }
    // a marker in the file itself is fine only where a base provides the map
    if (merged.entries.empty()) reject_markers(file, "");
    merge_into(merged, file, "");
    chain.pop_back();
    return merged;
  }
};

}  // namespace

ConfigNode load_experiment(const std::filesystem::path& path) {
  std::string problem = experiment_file_problem(path);
  if (!problem.empty()) throw Error(problem);
  return BaseLoader{}.load(path);
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

size_t count_nodes(const ConfigNode& node) {
  size_t count = 1;
  for (const auto& entry : node.entries) count += count_nodes(entry.second);
  for (const auto& item : node.items) count += count_nodes(item);
  return count;
}

class Interpolator {
 public:
  explicit Interpolator(ConfigNode& root) : root_(root) {}

  void resolve(ConfigNode& node, const std::string& path) {
    // levels of maps and lists, plus one per reference being followed: a `${}` copy puts a whole
    // tree at its use site, so copies of deeply nested values could stack without end
    if (depth_ >= kMaxConfigDepth + kMaxReferenceDepth)
      throw ConfigError(node.loc, path,
                        "values nested more than " +
                            std::to_string(kMaxConfigDepth + kMaxReferenceDepth) +
                            " levels deep through ${} copies of nested maps and lists");
    ++depth_;
    resolve_nested(node, path);
    --depth_;
  }

 private:
  void resolve_nested(ConfigNode& node, const std::string& path) {
    if (node.is_scalar()) {
      if (!node.interpolated) resolve_scalar(node, path);
    } else if (node.is_map()) {
      for (auto& [key, child] : node.entries) resolve(child, path.empty() ? key : path + "." + key);
    } else if (node.is_sequence()) {
      for (size_t i = 0; i < node.items.size(); ++i)
        resolve(node.items[i], path + "." + std::to_string(i));
    }
  }

  // one pass over the text, left to right: what a reference puts in (an environment variable's
  // value, another key's text) is never scanned again, so `${env:X}` holding "${env:X}" is text
  void resolve_scalar(ConfigNode& node, const std::string& path) {
    const std::string text = node.scalar;
    std::string out;
    size_t from = 0;
    for (size_t start; (start = text.find("${", from)) != std::string::npos;) {
      size_t end = text.find('}', start);
      if (end == std::string::npos)
        throw ConfigError(node.loc, path, "unclosed '${' in '" + text + "'");
      std::string reference = text.substr(start + 2, end - start - 2);
      out += text.substr(from, start - from);
      from = end + 1;
      // ${run.dir} stays as it is until the run has a folder (resolve_run_dir)
      if (reference == kRunDir) {
        out += kRunDirReference;
        continue;
      }
      bool env = reference.rfind("env:", 0) == 0;
      // a whole-value reference copies the target node, whatever its type
      if (start == 0 && end + 1 == text.size() && !env) {
        SourceLoc use_site = node.loc;
        node = copy_of(target(reference, node.loc, path), reference, use_site, path);
        if (node.is_scalar()) node.loc = use_site;
        return;
      }
      if (env) {
        out += environment(reference.substr(4), node.loc, path);
        continue;
      }
      const ConfigNode& value = target(reference, node.loc, path);
      if (!value.is_scalar())
        throw ConfigError(node.loc, path,
                          "${" + reference + "} is " + value.type_name() +
                              " and cannot be spliced into text");
      out += value.scalar;
    }
    node.scalar = out + text.substr(from);
    node.interpolated = true;
  }

  // a whole-value copy, counted: `${}` copies of copies grow exponentially ("billion laughs")
  ConfigNode copy_of(const ConfigNode& value, const std::string& reference,
                     const SourceLoc& use_site, const std::string& path) {
    copied_ += count_nodes(value);
    if (copied_ > kMaxConfigNodes)
      throw ConfigError(use_site, path,
                        "${" + reference + "}: interpolation makes more than " +
                            std::to_string(kMaxConfigNodes) +
                            " values (copies of copies of lists or maps)");
    return value;
  }

  // "a -> b -> c -> ... (250 more) ... -> x -> y -> z": the first and last links of a chain
  std::string chain(const std::string& next) const {
    std::vector<std::string> links = {origin_};
    links.insert(links.end(), stack_.begin(), stack_.end());
    links.push_back(next);
    if (links.size() <= 8) return join(links, " -> ");
    std::vector<std::string> shown(links.begin(), links.begin() + 3);
    shown.push_back("... (" + std::to_string(links.size() - 6) + " more) ...");
    shown.insert(shown.end(), links.end() - 3, links.end());
    return join(shown, " -> ");
  }

  const ConfigNode& target(const std::string& reference, const SourceLoc& use_site,
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
    if (stack_.empty()) origin_ = path;
    if (active_.count(reference)) {
      std::string cycle;
      for (const auto& step : stack_) cycle += step + " -> ";
      throw ConfigError(use_site, path, "interpolation cycle: " + cycle + reference);
    }
    // each link is a level of recursion: a chain of thousands would overflow the stack
    if (stack_.size() >= kMaxReferenceDepth)
      throw ConfigError(use_site, path,
                        "${} references nested deeper than " + std::to_string(kMaxReferenceDepth) +
                            " links: " + chain(reference));
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
  std::vector<std::string> stack_;  // the references being resolved, outermost first
  std::string origin_;              // the key whose value started them
  size_t copied_ = 0;               // values made by whole-value copies
  size_t depth_ = 0;                // resolve() calls in progress (levels plus links)
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
