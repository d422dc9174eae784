#include "wm/schema.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "wm/error.h"

namespace wm {

const char* type_name(ParamType type) {
  switch (type) {
    case ParamType::Bool: return "bool";
    case ParamType::Int: return "int";
    case ParamType::Real: return "float";
    case ParamType::String: return "string";
    case ParamType::Choice: return "choice";
    case ParamType::Path: return "path";
    case ParamType::IntList: return "int list";
    case ParamType::RealList: return "float list";
    case ParamType::Strings: return "string list";
    case ParamType::DataRef: return "data name";
  }
  return "?";
}

namespace {
std::string format_real(double value) {
  std::ostringstream out;
  out << value;
  std::string text = out.str();
  // keep floats recognisable as floats when they are whole numbers
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}
template <class List, class Format>
std::string format_list(const List& list, Format format) {
  std::string text = "[";
  for (size_t i = 0; i < list.size(); ++i) text += (i ? ", " : "") + format(list[i]);
  return text + "]";
}
}  // namespace

std::string format_value(const Value& value) {
  struct Formatter {
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return format_real(v); }
    std::string operator()(const std::string& v) const { return v.empty() ? "\"\"" : v; }
    std::string operator()(const IntList& v) const {
      return format_list(v, [](int64_t x) { return std::to_string(x); });
    }
    std::string operator()(const RealList& v) const { return format_list(v, format_real); }
    std::string operator()(const StringList& v) const {
      return format_list(v, [](const std::string& x) { return x; });
    }
  };
  return std::visit(Formatter{}, value);
}

namespace {
std::string format_bound(double bound, ParamType type) {
  bool whole = type == ParamType::Int || type == ParamType::IntList;
  if (whole && bound == std::floor(bound)) return std::to_string(static_cast<long long>(bound));
  return format_real(bound);
}
}  // namespace

std::string describe_limits(const ParamSpec& spec) {
  if (spec.type == ParamType::Choice) {
    std::string text = "one of {";
    for (size_t i = 0; i < spec.choices.size(); ++i) text += (i ? ", " : "") + spec.choices[i];
    return text + "}";
  }
  if (spec.min && spec.max)
    return "in [" + format_bound(*spec.min, spec.type) + ", " + format_bound(*spec.max, spec.type) +
           "]";
  if (spec.min) return ">= " + format_bound(*spec.min, spec.type);
  if (spec.max) return "<= " + format_bound(*spec.max, spec.type);
  return "";
}

Schema& Schema::add(ParamSpec spec) {
  WM_CHECK(find(spec.name) == nullptr) << "parameter '" << spec.name << "' declared twice";
  params_.push_back(std::move(spec));
  return *this;
}

ParamSpec& Schema::last() {
  WM_CHECK(!params_.empty()) << "a schema modifier needs a parameter before it";
  return params_.back();
}

Schema& Schema::boolean(const std::string& name, bool default_value, const std::string& doc) {
  return add({name, ParamType::Bool, Value{default_value}, doc, {}, {}, {}});
}
Schema& Schema::integer(const std::string& name, int64_t default_value, const std::string& doc) {
  return add({name, ParamType::Int, Value{default_value}, doc, {}, {}, {}});
}
Schema& Schema::real(const std::string& name, double default_value, const std::string& doc) {
  return add({name, ParamType::Real, Value{default_value}, doc, {}, {}, {}});
}
Schema& Schema::text(const std::string& name, const std::string& default_value,
                     const std::string& doc) {
  return add({name, ParamType::String, Value{default_value}, doc, {}, {}, {}});
}
Schema& Schema::choice(const std::string& name, const std::string& default_value,
                       std::vector<std::string> choices, const std::string& doc) {
  WM_CHECK(std::find(choices.begin(), choices.end(), default_value) != choices.end())
      << "default of '" << name << "' is not one of its choices";
  return add({name, ParamType::Choice, Value{default_value}, doc, {}, {}, std::move(choices)});
}
Schema& Schema::path(const std::string& name, const std::string& doc) {
  return add({name, ParamType::Path, Value{std::string()}, doc, {}, {}, {}});
}
Schema& Schema::integers(const std::string& name, IntList default_value, const std::string& doc) {
  return add({name, ParamType::IntList, Value{std::move(default_value)}, doc, {}, {}, {}});
}
Schema& Schema::reals(const std::string& name, RealList default_value, const std::string& doc) {
  return add({name, ParamType::RealList, Value{std::move(default_value)}, doc, {}, {}, {}});
}

Schema& Schema::strings(const std::string& name, StringList default_value,
                        const std::string& doc) {
  return add({name, ParamType::Strings, Value{std::move(default_value)}, doc, {}, {}, {}});
}
Schema& Schema::data_ref(const std::string& name, const std::string& default_value,
                         const std::string& doc) {
  return add({name, ParamType::DataRef, Value{default_value}, doc, {}, {}, {}});
}

Schema& Schema::at_least(double min) {
  last().min = min;
  return *this;
}
Schema& Schema::at_most(double max) {
  last().max = max;
  return *this;
}
Schema& Schema::range(double min, double max) { return at_least(min).at_most(max); }
Schema& Schema::required() {
  last().default_value.reset();
  return *this;
}

const ParamSpec* Schema::find(const std::string& name) const {
  for (const auto& spec : params_)
    if (spec.name == name) return &spec;
  return nullptr;
}

std::vector<std::string> Schema::names() const {
  std::vector<std::string> names;
  for (const auto& spec : params_) names.push_back(spec.name);
  return names;
}

}  // namespace wm
