// The validated parameters a plugin's constructor receives. Plugins never see raw YAML.
#pragma once
#include <map>
#include <string>

#include "wm/error.h"
#include "wm/schema.h"

namespace wm {

class Params {
 public:
  Params() = default;
  // owner names the parameters' home for messages, e.g. "model 'two_stream'"
  explicit Params(std::string owner) : owner_(std::move(owner)) {}

  // typed read: bool, int, int64_t, double, float, std::string, IntList, RealList or StringList.
  // Reading a parameter the schema did not declare is a plugin bug and throws.
  template <class T>
  T get(const std::string& name) const;

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  void set(const std::string& name, Value value, SourceLoc loc = {}, std::string key_path = {});
  const std::map<std::string, Value>& values() const { return values_; }

  // an error about one parameter's value, located at its YAML line:
  //   throw params.error("heads", "must divide dim (192)");
  ConfigError error(const std::string& name, const std::string& message) const;

 private:
  const Value& find(const std::string& name) const;
  std::string owner_;
  std::map<std::string, Value> values_;
  std::map<std::string, std::pair<SourceLoc, std::string>> where_;
};

// the types get() reads; defined in libwmsdk
template <> bool Params::get<bool>(const std::string&) const;
template <> int Params::get<int>(const std::string&) const;
template <> int64_t Params::get<int64_t>(const std::string&) const;
template <> double Params::get<double>(const std::string&) const;
template <> float Params::get<float>(const std::string&) const;
template <> std::string Params::get<std::string>(const std::string&) const;
template <> IntList Params::get<IntList>(const std::string&) const;
template <> RealList Params::get<RealList>(const std::string&) const;
template <> StringList Params::get<StringList>(const std::string&) const;

}  // namespace wm
