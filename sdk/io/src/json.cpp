#include "wm/io/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "wm/error.h"

namespace wm::io::json {

const char* type_name(Type type) {
  switch (type) {
    case Type::Null: return "null";
    case Type::Bool: return "bool";
    case Type::Number: return "number";
    case Type::String: return "string";
    case Type::Array: return "array";
    case Type::Object: return "object";
  }
  return "?";
}

namespace {
[[noreturn]] void wrong_type(Type have, Type want) {
  throw Error(std::string("JSON value is a ") + type_name(have) + ", expected a " +
              type_name(want));
}
}  // namespace

bool Value::as_bool() const {
  if (type_ != Type::Bool) wrong_type(type_, Type::Bool);
  return bool_;
}
double Value::as_number() const {
  if (type_ != Type::Number) wrong_type(type_, Type::Number);
  return number_;
}
const std::string& Value::as_string() const {
  if (type_ != Type::String) wrong_type(type_, Type::String);
  return string_;
}
const std::vector<Value>& Value::items() const {
  if (type_ != Type::Array) wrong_type(type_, Type::Array);
  return items_;
}
const std::vector<std::pair<std::string, Value>>& Value::members() const {
  if (type_ != Type::Object) wrong_type(type_, Type::Object);
  return members_;
}

const Value* Value::find(std::string_view key) const {
  if (type_ != Type::Object) return nullptr;
  for (const auto& [name, value] : members_)
    if (name == key) return &value;
  return nullptr;
}

const Value* Value::find_path(std::string_view dotted) const {
  if (const Value* whole = find(dotted)) return whole;
  size_t dot = dotted.find('.');
  while (dot != std::string_view::npos) {
    if (const Value* head = find(dotted.substr(0, dot)))
      if (const Value* rest = head->find_path(dotted.substr(dot + 1))) return rest;
    dot = dotted.find('.', dot + 1);
  }
  return nullptr;
}

std::string Value::to_text() const {
  switch (type_) {
    case Type::String: return string_;
    case Type::Number: {
      if (std::floor(number_) == number_ && std::abs(number_) < 1e15)
        return std::to_string(static_cast<int64_t>(number_));
      char text[32];
      std::snprintf(text, sizeof text, "%.17g", number_);
      return text;
    }
    case Type::Bool: return bool_ ? "true" : "false";
    case Type::Null: return "null";
    default: return type_name(type_);
  }
}

//---- the parser: recursive descent over a string_view ----

class Parser {
 public:
  Parser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  Value document() {
    Value value;
    parse_value(value, 0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the JSON value");
    return value;
  }

 private:
  static constexpr int kMaxDepth = 512;

  [[noreturn]] void fail(const std::string& what) const {
    int line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') ++line, col = 1;
      else ++col;
    }
    throw DataError(source_, source_ + ":" + std::to_string(line) + ":" + std::to_string(col) +
                                 ": " + what);
  }

  void skip_space() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
      ++pos_;
    }
  }

  void expect_word(const char* word) {
    size_t n = std::strlen(word);
    if (text_.compare(pos_, n, word) != 0) fail(std::string("expected '") + word + "'");
    pos_ += n;
  }

  void parse_value(Value& out, int depth) {
    if (depth > kMaxDepth) fail("nested too deeply");
    skip_space();
    if (pos_ >= text_.size()) fail("unexpected end of text");
    char c = text_[pos_];
    switch (c) {
      case '{': parse_object(out, depth); return;
      case '[': parse_array(out, depth); return;
      case '"':
        out.type_ = Type::String;
        parse_string(out.string_);
        return;
      case 't': expect_word("true"), out.type_ = Type::Bool, out.bool_ = true; return;
      case 'f': expect_word("false"), out.type_ = Type::Bool, out.bool_ = false; return;
      case 'n': expect_word("null"), out.type_ = Type::Null; return;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(out);
        // Python's json module writes these for non-finite floats
        if (text_.compare(pos_, 3, "NaN") == 0) {
          pos_ += 3, out.type_ = Type::Number, out.number_ = std::nan("");
          return;
        }
        if (text_.compare(pos_, 8, "Infinity") == 0) {
          pos_ += 8, out.type_ = Type::Number, out.number_ = HUGE_VAL;
          return;
        }
        fail(std::string("unexpected character '") + c + "'");
    }
  }

  void parse_object(Value& out, int depth) {
    out.type_ = Type::Object;
    ++pos_;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') return void(++pos_);
    for (;;) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a quoted member name");
      out.members_.emplace_back();
      parse_string(out.members_.back().first);
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':') fail("expected ':' after a member name");
      ++pos_;
      parse_value(out.members_.back().second, depth + 1);
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') return void(++pos_);
      fail("expected ',' or '}'");
    }
  }

  void parse_array(Value& out, int depth) {
    out.type_ = Type::Array;
    ++pos_;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') return void(++pos_);
    for (;;) {
      out.items_.emplace_back();
      parse_value(out.items_.back(), depth + 1);
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') return void(++pos_);
      fail("expected ',' or ']'");
    }
  }

  void parse_number(Value& out) {
    size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    if (text_.compare(pos_, 8, "Infinity") == 0) {
      pos_ += 8, out.type_ = Type::Number, out.number_ = -HUGE_VAL;
      return;
    }
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if ((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')
        ++pos_;
      else
        break;
    }
    // strtod needs a terminated buffer; numbers are short
    char buffer[64];
    size_t length = pos_ - start;
    if (length == 0 || length >= sizeof buffer) fail("malformed number");
    std::memcpy(buffer, text_.data() + start, length);
    buffer[length] = '\0';
    char* end = nullptr;
    out.number_ = std::strtod(buffer, &end);
    if (end != buffer + length) {
      pos_ = start;
      fail("malformed number");
    }
    out.type_ = Type::Number;
  }

  static void append_utf8(std::string& out, uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  uint32_t parse_hex4() {
    if (pos_ + 4 > text_.size()) fail("truncated \\u escape");
    uint32_t code = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      code <<= 4;
      if (c >= '0' && c <= '9') code |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') code |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') code |= static_cast<uint32_t>(c - 'A' + 10);
      else fail("bad hex digit in \\u escape");
    }
    return code;
  }

  void parse_string(std::string& out) {
    ++pos_;  // opening quote
    for (;;) {
      // copy the run up to the next quote or backslash in one go
      size_t run = pos_;
      while (run < text_.size() && text_[run] != '"' && text_[run] != '\\') ++run;
      out.append(text_.data() + pos_, run - pos_);
      pos_ = run;
      if (pos_ >= text_.size()) fail("unterminated string");
      if (text_[pos_++] == '"') return;
      if (pos_ >= text_.size()) fail("unterminated string");
      char escape = text_[pos_++];
      switch (escape) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t code = parse_hex4();
          if (code >= 0xD800 && code < 0xDC00 && text_.compare(pos_, 2, "\\u") == 0) {
            pos_ += 2;
            uint32_t low = parse_hex4();
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, code);
          break;
        }
        default: --pos_, fail(std::string("unknown escape '\\") + escape + "'");
      }
    }
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
};

Value parse(std::string_view text, const std::string& source) {
  return Parser(text, source).document();
}

std::vector<Value> parse_lines(std::string_view text, const std::string& source) {
  std::vector<Value> values;
  size_t start = 0;
  int line = 1;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view row = text.substr(start, end - start);
    if (row.find_first_not_of(" \t\r") != std::string_view::npos)
      values.push_back(parse(row, source + " line " + std::to_string(line)));
    start = end + 1;
    ++line;
  }
  return values;
}

//---- writing ----

std::string quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string number(double value) {
  if (!std::isfinite(value)) return "null";
  std::ostringstream out;
  out.precision(10);
  out << value;
  return out.str();
}

}  // namespace wm::io::json
