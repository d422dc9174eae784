// Declared parameters: every plugin (and every host procedure) lists its parameters with type,
// default, range or choices and a doc line. The host validates YAML against the schema before
// anything runs, and `wmhost describe` prints it.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace wm {

//---- values ----

using IntList = std::vector<int64_t>;
using RealList = std::vector<double>;
using StringList = std::vector<std::string>;
using Value = std::variant<bool, int64_t, double, std::string, IntList, RealList, StringList>;

// DataRef: the name of an entry under the experiment's `data:` (a std::string), checked against
// them when the experiment is validated
enum class ParamType { Bool, Int, Real, String, Choice, Path, IntList, RealList, Strings, DataRef };

const char* type_name(ParamType type);  // "bool", "int", "float", ...
std::string format_value(const Value& value);  // as it would be written in YAML

//---- one parameter ----

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::String;
  std::optional<Value> default_value;  // empty: the parameter is required
  std::string doc;
  std::optional<double> min, max;      // inclusive; for numbers and every element of lists
  std::vector<std::string> choices;    // for ParamType::Choice
};

// "in [0, 1]", ">= 8", "one of {layer, rms}" or "" for a parameter without limits
std::string describe_limits(const ParamSpec& spec);

//---- a plugin's schema, built fluently ----
//   wm::Schema{}.integer("dim", 192, "token width").at_least(8)
//               .choice("norm", "layer", {"layer", "rms"}, "normalisation");
class Schema {
 public:
  Schema& boolean(const std::string& name, bool default_value, const std::string& doc);
  Schema& integer(const std::string& name, int64_t default_value, const std::string& doc);
  Schema& real(const std::string& name, double default_value, const std::string& doc);
  Schema& text(const std::string& name, const std::string& default_value, const std::string& doc);
  Schema& choice(const std::string& name, const std::string& default_value,
                 std::vector<std::string> choices, const std::string& doc);
  // a file or folder; relative paths are resolved against the YAML file that names them
  Schema& path(const std::string& name, const std::string& doc);
  Schema& integers(const std::string& name, IntList default_value, const std::string& doc);
  Schema& reals(const std::string& name, RealList default_value, const std::string& doc);
  // a YAML list of strings; one comma-separated string (`a, b`) is read as the same list
  Schema& strings(const std::string& name, StringList default_value, const std::string& doc);
  // the name of a `data:` entry; an empty default makes it optional ("" for none)
  Schema& data_ref(const std::string& name, const std::string& default_value,
                   const std::string& doc);

  // modifiers of the parameter declared last
  Schema& at_least(double min);
  Schema& at_most(double max);
  Schema& range(double min, double max);
  Schema& required();

  const std::vector<ParamSpec>& params() const { return params_; }
  const ParamSpec* find(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  Schema& add(ParamSpec spec);
  ParamSpec& last();
  std::vector<ParamSpec> params_;
};

}  // namespace wm
