#include "wm/params.h"

namespace wm {

void Params::set(const std::string& name, Value value, SourceLoc loc, std::string key_path) {
  values_[name] = std::move(value);
  where_[name] = {std::move(loc), std::move(key_path)};
}

const Value& Params::find(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    throw Error("plugin bug: " + (owner_.empty() ? std::string("a plugin") : owner_) +
                " reads parameter '" + name + "', which its schema does not declare");
  return it->second;
}

ConfigError Params::error(const std::string& name, const std::string& message) const {
  auto it = where_.find(name);
  if (it == where_.end()) return ConfigError({}, name, message);
  return ConfigError(it->second.first, it->second.second.empty() ? name : it->second.second,
                     message);
}

namespace {
template <class T>
const T& as(const Value& value, const std::string& name) {
  if (auto* typed = std::get_if<T>(&value)) return *typed;
  throw Error("plugin bug: parameter '" + name + "' read with the wrong type");
}
}  // namespace

template <>
bool Params::get<bool>(const std::string& name) const {
  return as<bool>(find(name), name);
}
template <>
int64_t Params::get<int64_t>(const std::string& name) const {
  return as<int64_t>(find(name), name);
}
template <>
int Params::get<int>(const std::string& name) const {
  return static_cast<int>(as<int64_t>(find(name), name));
}
template <>
double Params::get<double>(const std::string& name) const {
  const Value& value = find(name);
  if (auto* whole = std::get_if<int64_t>(&value)) return static_cast<double>(*whole);
  return as<double>(value, name);
}
template <>
float Params::get<float>(const std::string& name) const {
  return static_cast<float>(get<double>(name));
}
template <>
std::string Params::get<std::string>(const std::string& name) const {
  return as<std::string>(find(name), name);
}
template <>
IntList Params::get<IntList>(const std::string& name) const {
  return as<IntList>(find(name), name);
}
template <>
RealList Params::get<RealList>(const std::string& name) const {
  return as<RealList>(find(name), name);
}
template <>
StringList Params::get<StringList>(const std::string& name) const {
  return as<StringList>(find(name), name);
}

}  // namespace wm
