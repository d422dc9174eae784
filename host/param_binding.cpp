#include "param_binding.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "wm/error.h"
#include "wm/io/frame_records.h"  // split_list

namespace wm {

namespace {

bool parse_bool(const ConfigNode& node, bool& out) {
  static const std::vector<std::string> yes = {"true", "True", "TRUE", "yes", "on"};
  static const std::vector<std::string> no = {"false", "False", "FALSE", "no", "off"};
  if (!node.is_scalar() || node.quoted) return false;
  if (std::find(yes.begin(), yes.end(), node.scalar) != yes.end()) return out = true, true;
  if (std::find(no.begin(), no.end(), node.scalar) != no.end()) return out = false, true;
  return false;
}

[[noreturn]] void type_error(const ParamSpec& spec, const ConfigNode& node,
                             const std::string& key_path) {
  std::string got = node.is_scalar() ? "'" + node.scalar + "'" : node.type_name();
  bool flag;
  // a boolean where a number belongs (e.g. the disc world's gravity, once a switch) is refused,
  // never read as 1 or 0, and the message gives the number
  std::string hint = spec.type == ParamType::Real && parse_bool(node, flag)
                         ? std::string(" (a number: write ") + (flag ? "1" : "0") + ")"
                         : "";
  throw ConfigError(node.loc, key_path, std::string("expected ") + type_name(spec.type) +
                                            ", got " + got + hint);
}

bool parse_int(const ConfigNode& node, int64_t& out) {
  if (!node.is_scalar() || node.quoted || node.scalar.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(node.scalar.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  out = value;
  return true;
}

bool parse_real(const ConfigNode& node, double& out) {
  if (!node.is_scalar() || node.quoted || node.scalar.empty()) return false;
  const std::string& text = node.scalar;
  if (text == ".inf" || text == "+.inf") return out = INFINITY, true;
  if (text == "-.inf") return out = -INFINITY, true;
  if (text == ".nan" || text == ".NaN") return out = NAN, true;
  errno = 0;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (*end != '\0') return false;
  // out of range: 1e999 is read as infinite (and refused as such), 1e-999 as the tiny value
  if (errno != 0 && errno != ERANGE) return false;
  out = value;
  return true;
}

// every real is finite: `.inf` passes any `at_least()`, and NaN compares false with every bound
void check_finite(double value, const ConfigNode& node, const std::string& key_path) {
  if (std::isfinite(value)) return;
  throw ConfigError(node.loc, key_path, "must be a finite number, got " + node.scalar);
}

void check_range(const ParamSpec& spec, double value, const ConfigNode& node,
                 const std::string& key_path) {
  bool below = spec.min && value < *spec.min;
  bool above = spec.max && value > *spec.max;
  if (!below && !above && !std::isnan(value)) return;
  std::string bound = describe_limits(spec);
  if (bound.empty()) bound = "a number";
  throw ConfigError(node.loc, key_path, "must be " + bound + ", got " + node.scalar);
}

std::string resolve_path(const std::string& text, const SourceLoc& loc) {
  if (text.empty()) return text;
  std::filesystem::path path(text);
  if (path.is_absolute()) return text;
  // relative paths mean "next to the YAML file that names them", never the working directory
  bool from_file = loc.known() && loc.file[0] != '<';
  std::filesystem::path base = from_file ? std::filesystem::path(loc.file).parent_path() : "";
  if (base.empty()) base = std::filesystem::current_path();
  return (std::filesystem::absolute(base) / path).lexically_normal().string();
}

}  // namespace

Value convert_value(const ParamSpec& spec, const ConfigNode& node, const std::string& key_path) {
  switch (spec.type) {
    case ParamType::Bool: {
      bool value;
      if (!parse_bool(node, value)) type_error(spec, node, key_path);
      return value;
    }
    case ParamType::Int: {
      int64_t value;
      if (!parse_int(node, value)) type_error(spec, node, key_path);
      check_range(spec, static_cast<double>(value), node, key_path);
      return value;
    }
    case ParamType::Real: {
      double value;
      if (!parse_real(node, value)) type_error(spec, node, key_path);
      check_finite(value, node, key_path);
      check_range(spec, value, node, key_path);
      return value;
    }
    case ParamType::String:
    case ParamType::DataRef:  // checked against the experiment's data by bind_params
      if (!node.is_scalar()) type_error(spec, node, key_path);
      return node.scalar;
    case ParamType::Choice:
      if (!node.is_scalar()) type_error(spec, node, key_path);
      if (std::find(spec.choices.begin(), spec.choices.end(), node.scalar) == spec.choices.end())
        throw ConfigError(node.loc, key_path,
                          "'" + node.scalar + "' is not one of: " + join(spec.choices) +
                              did_you_mean(node.scalar, spec.choices));
      return node.scalar;
    case ParamType::Path:
      if (!node.is_scalar()) type_error(spec, node, key_path);
      return resolve_path(node.scalar, node.loc);
    case ParamType::IntList: {
      if (!node.is_sequence()) type_error(spec, node, key_path);
      IntList values;
      for (size_t i = 0; i < node.items.size(); ++i) {
        int64_t value;
        std::string item_path = key_path + "." + std::to_string(i);
        if (!parse_int(node.items[i], value))
          type_error({spec.name, ParamType::Int, {}, {}, {}, {}, {}}, node.items[i], item_path);
        check_range(spec, static_cast<double>(value), node.items[i], item_path);
        values.push_back(value);
      }
      return values;
    }
    case ParamType::RealList: {
      if (!node.is_sequence()) type_error(spec, node, key_path);
      RealList values;
      for (size_t i = 0; i < node.items.size(); ++i) {
        double value;
        std::string item_path = key_path + "." + std::to_string(i);
        if (!parse_real(node.items[i], value))
          type_error({spec.name, ParamType::Real, {}, {}, {}, {}, {}}, node.items[i], item_path);
        check_finite(value, node.items[i], item_path);
        check_range(spec, value, node.items[i], item_path);
        values.push_back(value);
      }
      return values;
    }
    case ParamType::Strings: {
      if (node.is_scalar()) return io::split_list(node.scalar);  // the older `a, b` form
      if (!node.is_sequence()) type_error(spec, node, key_path);
      StringList values;
      for (size_t i = 0; i < node.items.size(); ++i) {
        if (!node.items[i].is_scalar())
          type_error({spec.name, ParamType::String, {}, {}, {}, {}, {}}, node.items[i],
                     key_path + "." + std::to_string(i));
        values.push_back(node.items[i].scalar);
      }
      return values;
    }
  }
  throw Error("unhandled parameter type");
}

namespace {

std::string child_path(const std::string& key_path, const std::string& key) {
  return key_path.empty() ? key : key_path + "." + key;
}

// a data_ref must name an entry of the experiment's `data:`; an optional one (empty default)
// may also be left empty
void check_data_ref(const ParamSpec& spec, const std::string& name,
                    const std::vector<std::string>& known, const SourceLoc& loc,
                    const std::string& key_path) {
  bool optional = spec.default_value && std::get<std::string>(*spec.default_value).empty();
  if (name.empty() && optional) return;
  if (std::find(known.begin(), known.end(), name) != known.end()) return;
  throw ConfigError(loc, key_path, "no `data." + name + "` in this experiment" +
                                       did_you_mean(name, known) + " (have: " +
                                       (known.empty() ? "none" : join(known)) + ")");
}

// one map bound against `schema`. `nested` is set for a host section: its keys may sit beside
// the typed ones, and messages speak of keys instead of the parameters of `owner`.
Params bind_schema(const Schema& schema, const std::vector<NestedKey>* nested, const ConfigNode* node,
                   const std::string& key_path, const std::string& owner, const SourceLoc& owner_loc,
                   const std::vector<std::string>* data_names) {
  bool section = nested != nullptr;
  Params params(section ? (key_path.empty() ? "the experiment" : key_path) : owner);
  if (node && !node->is_null() && !node->is_map())
    throw ConfigError(
        node->loc, key_path,
        std::string(section ? "expected a map, got " : "expected a map of parameters, got ") +
            node->type_name());

  // unknown keys first, with the nearest known one
  static const decltype(ConfigNode::entries) no_entries;
  std::vector<std::string> allowed = schema.names();
  if (section)
    for (const auto& key : *nested) allowed.push_back(key.name);
  for (const auto& [key, value] : node ? node->entries : no_entries) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    if (section)
      throw ConfigError(value.loc, child_path(key_path, key),
                        "unknown key" + did_you_mean(key, allowed) + " (allowed: " + join(allowed) +
                            ")");
    std::string known = allowed.empty() ? " (it takes none)" : did_you_mean(key, allowed);
    throw ConfigError(value.loc, child_path(key_path, key),
                      "unknown parameter of " + owner + known);
  }

  // then every declared value: given, defaulted or missing
  for (const auto& spec : schema.params()) {
    std::string param_path = child_path(key_path, spec.name);
    const ConfigNode* given = node ? node->find(spec.name) : nullptr;
    SourceLoc loc = owner_loc;
    if (given && !given->is_null()) {
      loc = given->loc;
      params.set(spec.name, convert_value(spec, *given, param_path), loc, param_path);
    } else if (spec.default_value) {
      params.set(spec.name, *spec.default_value, owner_loc, param_path);
    } else if (section) {
      throw ConfigError(given ? given->loc : owner_loc, param_path,
                        "is required (" + spec.doc + ")");
    } else {
      throw ConfigError(given ? given->loc : owner_loc, param_path,
                        std::string("required ") + type_name(spec.type) + " parameter of " +
                            owner + " is missing (" + spec.doc + ")");
    }
    if (spec.type == ParamType::DataRef && data_names)
      check_data_ref(spec, params.get<std::string>(spec.name), *data_names, loc, param_path);
  }
  return params;
}

}  // namespace

Params bind_params(const Schema& schema, const ConfigNode* node, const std::string& key_path,
                   const std::string& owner, const SourceLoc& owner_loc,
                   const std::vector<std::string>* data_names) {
  return bind_schema(schema, nullptr, node, key_path, owner, owner_loc, data_names);
}

Params bind_params(const SectionSchema& section, const ConfigNode& node,
                   const std::string& key_path) {
  return bind_schema(section.keys, &section.nested, &node, key_path, "", node.loc, nullptr);
}

}  // namespace wm
