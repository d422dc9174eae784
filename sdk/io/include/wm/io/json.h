// A small JSON reader for the data sets' annotation files (SSv2 labels, COIN database) and the
// per-frame records of webdataset shards. Values form a tree; parse errors name the source and
// the line and column.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wm::io::json {

//---- values ----

enum class Type { Null, Bool, Number, String, Array, Object };

class Value {
 public:
  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  // typed reads; the wrong type throws wm::Error naming both types
  bool as_bool() const;
  double as_number() const;
  const std::string& as_string() const;
  const std::vector<Value>& items() const;                                // arrays
  const std::vector<std::pair<std::string, Value>>& members() const;     // objects, in file order

  // a member of an object by name, or nullptr (also for non-objects)
  const Value* find(std::string_view key) const;
  // a dotted path through nested objects: "mouse.dx" is value["mouse"]["dx"]; a member whose own
  // name contains the dots ("mouse.dx": 3) is found too
  const Value* find_path(std::string_view dotted) const;
  // numbers print as integers when they are integral ("3", "2.5"); strings as themselves
  std::string to_text() const;

 private:
  friend class Parser;
  Type type_ = Type::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> members_;
};

const char* type_name(Type type);  // "null", "bool", "number", "string", "array", "object"

//---- parsing ----

// one JSON document; `source` names it in errors. Malformed text throws wm::DataError
// "source:line:col: expected ',' or '}'".
Value parse(std::string_view text, const std::string& source = "<json>");

// JSON Lines: one document per non-empty line
std::vector<Value> parse_lines(std::string_view text, const std::string& source = "<jsonl>");

//---- writing ----

// a JSON string literal with escapes
std::string quote(const std::string& text);
// a JSON number; NaN and infinities become null (JSON has no literal for them)
std::string number(double value);

}  // namespace wm::io::json
