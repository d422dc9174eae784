#include "analysis/expression.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "analysis/output.h"
#include "wm/error.h"

namespace wm::analysis {

//---- the tree ----

struct Expression::Node {
  enum class Type { Number, Name, Call, Unary, Binary } type;
  double number = 0;
  std::string text;  // name, function, or operator
  std::vector<std::string> args;               // a call's arguments as written
  std::shared_ptr<const Node> left, right;     // operands
};

namespace {

using Node = Expression::Node;
using NodePtr = std::shared_ptr<const Node>;

bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/' ||
         c == '[' || c == ']' || c == ':' || c == '-';
}

//---- parsing: recursive descent, lowest precedence first ----

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  NodePtr whole() {
    NodePtr node = either();
    skip();
    if (at_ < text_.size()) fail("unexpected '" + text_.substr(at_, 1) + "'");
    return node;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error("at column " + std::to_string(at_ + 1) + " of '" + text_ + "': " + what);
  }
  void skip() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }
  bool accept(const std::string& token) {
    skip();
    if (text_.compare(at_, token.size(), token) != 0) return false;
    at_ += token.size();
    return true;
  }
  static NodePtr binary(std::string op, NodePtr left, NodePtr right) {
    return std::make_shared<Node>(Node{Node::Type::Binary, 0, std::move(op), {}, left, right});
  }

  NodePtr either() {
    NodePtr node = both();
    while (accept("||")) node = binary("||", node, both());
    return node;
  }
  NodePtr both() {
    NodePtr node = comparison();
    while (accept("&&")) node = binary("&&", node, comparison());
    return node;
  }
  NodePtr comparison() {
    NodePtr node = sum();
    for (const char* op : {"<=", ">=", "==", "!=", "<", ">"})
      if (accept(op)) return binary(op, node, sum());
    return node;
  }
  NodePtr sum() {
    NodePtr node = product();
    for (;;) {
      if (accept("+")) node = binary("+", node, product());
      else if (accept("-")) node = binary("-", node, product());
      else return node;
    }
  }
  NodePtr product() {
    NodePtr node = unary();
    for (;;) {
      if (accept("*")) node = binary("*", node, unary());
      else if (accept("/")) node = binary("/", node, unary());
      else return node;
    }
  }
  NodePtr unary() {
    if (accept("-")) return std::make_shared<Node>(Node{Node::Type::Unary, 0, "-", {}, unary(), nullptr});
    if (accept("!") ) return std::make_shared<Node>(Node{Node::Type::Unary, 0, "!", {}, unary(), nullptr});
    return primary();
  }
  NodePtr primary() {
    skip();
    if (at_ >= text_.size()) fail("expected a number, a name or '('");
    if (accept("(")) {
      NodePtr node = either();
      if (!accept(")")) fail("expected ')'");
      return node;
    }
    char c = text_[at_];
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      return std::make_shared<Node>(Node{Node::Type::Number, number(), "", {}, nullptr, nullptr});
    }
    if (!name_start(c)) fail("expected a number, a name or '(', got '" + std::string(1, c) + "'");
    std::string name = word();
    if (!accept("(")) return std::make_shared<Node>(Node{Node::Type::Name, 0, name, {}, nullptr, nullptr});
    std::vector<std::string> args;
    if (!accept(")")) {
      do args.push_back(argument());
      while (accept(","));
      if (!accept(")")) fail("expected ',' or ')' in the arguments of " + name + "()");
    }
    return std::make_shared<Node>(Node{Node::Type::Call, 0, name, args, nullptr, nullptr});
  }
  double number() {
    const char* start = text_.c_str() + at_;
    char* end = nullptr;
    double value = std::strtod(start, &end);
    if (end == start) fail("expected a number");
    at_ += static_cast<size_t>(end - start);
    return value;
  }
  std::string word() {
    size_t start = at_;
    while (at_ < text_.size() && name_char(text_[at_])) ++at_;
    return text_.substr(start, at_ - start);
  }
  // a call argument: a quoted string, a (signed) number or a name, kept as written
  std::string argument() {
    skip();
    if (at_ < text_.size() && (text_[at_] == '\'' || text_[at_] == '"')) {
      char quote = text_[at_++];
      size_t end = text_.find(quote, at_);
      if (end == std::string::npos) fail("unterminated string");
      std::string value = text_.substr(at_, end - at_);
      at_ = end + 1;
      return value;
    }
    size_t start = at_;
    if (at_ < text_.size() && (text_[at_] == '-' || text_[at_] == '+')) ++at_;
    while (at_ < text_.size() && (name_char(text_[at_]) || text_[at_] == '+' ||
                                  ((text_[at_ - 1] == 'e' || text_[at_ - 1] == 'E') && text_[at_] == '-')))
      ++at_;
    if (at_ == start) fail("expected an argument");
    return text_.substr(start, at_ - start);
  }

  const std::string& text_;
  size_t at_ = 0;
};

double evaluate_node(const Node& node, const ExpressionScope& scope) {
  switch (node.type) {
    case Node::Type::Number: return node.number;
    case Node::Type::Name: return scope.name(node.text);
    case Node::Type::Call: return scope.call(node.text, node.args);
    case Node::Type::Unary: {
      double value = evaluate_node(*node.left, scope);
      return node.text == "-" ? -value : (value != 0 && !std::isnan(value) ? 0.0 : 1.0);
    }
    case Node::Type::Binary: break;
  }
  const std::string& op = node.text;
  double a = evaluate_node(*node.left, scope);
  auto truth = [](double v) { return !std::isnan(v) && v != 0; };
  if (op == "&&") return truth(a) && truth(evaluate_node(*node.right, scope)) ? 1.0 : 0.0;
  if (op == "||") return truth(a) || truth(evaluate_node(*node.right, scope)) ? 1.0 : 0.0;
  double b = evaluate_node(*node.right, scope);
  if (op == "+") return a + b;
  if (op == "-") return a - b;
  if (op == "*") return a * b;
  if (op == "/") return a / b;
  if (op == "<") return a < b;
  if (op == ">") return a > b;
  if (op == "<=") return a <= b;
  if (op == ">=") return a >= b;
  if (op == "==") return a == b;
  return !std::isnan(a) && !std::isnan(b) && a != b;  // !=
}

void collect(const Node& node, bool calls, std::vector<std::string>& out) {
  if (node.type == (calls ? Node::Type::Call : Node::Type::Name)) out.push_back(node.text);
  if (node.left) collect(*node.left, calls, out);
  if (node.right) collect(*node.right, calls, out);
}

}  // namespace

//---- the expression ----

Expression Expression::parse(const std::string& text) {
  Expression expression;
  expression.text_ = text;
  expression.root_ = Parser(expression.text_).whole();
  return expression;
}

double Expression::evaluate(const ExpressionScope& scope) const { return evaluate_node(*root_, scope); }

std::vector<std::string> Expression::names() const {
  std::vector<std::string> out;
  collect(*root_, false, out);
  return out;
}

std::vector<std::string> Expression::functions() const {
  std::vector<std::string> out;
  collect(*root_, true, out);
  return out;
}

//---- rules ----

std::string apply_rules(const std::vector<Rule>& rules, const ExpressionScope& scope,
                        std::vector<std::string>& calls, std::vector<RuleResult>& results) {
  std::string verdict;
  results.clear();
  for (size_t i = 0; i < rules.size(); ++i) {
    const Rule& rule = rules[i];
    calls.clear();
    bool holds = !rule.when;
    if (rule.when) {
      // a group the data lacks is named with the rule that asked for it
      double value = NAN;
      try {
        value = rule.when->evaluate(scope);
      } catch (const Error& e) {
        throw Error("rule " + std::to_string(i + 1) + " (" + rule.where + ") `" + rule.when->text() +
                    "`: " + e.what());
      }
      holds = !std::isnan(value) && value != 0;
    }
    if (holds && verdict.empty()) verdict = rule.say;
    results.push_back({holds, calls});
  }
  return verdict.empty() ? "no rule holds (and no `otherwise`)" : verdict;
}

TextTable rules_table(const std::vector<Rule>& rules, const std::vector<RuleResult>& results) {
  TextTable table;
  table.header = {"#", "when", "values", "holds", "say"};
  table.text_columns = 5;
  bool decided = false;
  for (size_t i = 0; i < rules.size() && i < results.size(); ++i) {
    std::string holds = results[i].holds ? "yes" : "no";
    if (results[i].holds && !decided) holds += " ←", decided = true;
    table.rows.push_back({std::to_string(i + 1), rules[i].when ? rules[i].when->text() : "otherwise",
                          join(results[i].values, "; "), holds, rules[i].say});
  }
  return table;
}

}  // namespace wm::analysis
