// The small expression language of `decide` rules and `minimum` criteria:
//   rel(0.9, 0.5) > 0.20 && p(0.9, 0.5) < 0.05
//   evaluate[val]/lpips < 0.4 && evaluate[val]/action_acc > chance + 0.2
// Numbers, names, calls f(arg, ...), + - * /, < > <= >= == !=, !, && and ||, parentheses.
// A name may hold letters, digits and _ . / [ ] : -, so a column name is one name; write
// binary - and / with spaces around them. Truth is 1, false 0; NaN compares false.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace wm::analysis {

// what names and calls mean: a rule's groups, a criterion's columns
class ExpressionScope {
 public:
  virtual ~ExpressionScope() = default;
  virtual double name(const std::string& name) const = 0;
  // arguments as written: a number's text, a name, or a quoted string without its quotes
  virtual double call(const std::string& function, const std::vector<std::string>& args) const = 0;
};

class Expression {
 public:
  // throws wm::Error "at column 9: expected ')'" on a syntax error
  static Expression parse(const std::string& text);
  double evaluate(const ExpressionScope& scope) const;
  const std::string& text() const { return text_; }
  // the names it reads (outside calls) and the calls it makes
  std::vector<std::string> names() const;
  std::vector<std::string> functions() const;

  struct Node;

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
};

}  // namespace wm::analysis
