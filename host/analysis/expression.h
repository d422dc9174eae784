// The small expression language of `decide` rules and `minimum` criteria:
//   rel(0.9, 0.5) > 0.20 && p(0.9, 0.5) < 0.05
//   evaluate[val]/lpips < 0.4 && evaluate[val]/action_acc > chance + 0.2
// Numbers, names, calls f(arg, ...), + - * /, < > <= >= == !=, !, && and ||, parentheses.
// A name may hold letters, digits and _ . / [ ] : -, so a column name is one name; write
// binary - and / with spaces around them. Truth is 1, false 0; NaN compares false.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/step.h"

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

//---- verdicts: rules: [{when: EXPRESSION, say: TEXT}, ..., {otherwise: TEXT}] ----

struct Rule {
  std::optional<Expression> when;  // none: `otherwise`
  std::string say;
  std::string where;  // "analysis.1.decide.rules.0.when at exp.yaml:6:17", for errors while running
};

// the `rules:` list of a step (decide, curves); each `when` may call only `functions` and reads
// no names. Throws ConfigError at the offending rule.
std::vector<Rule> bind_rules(const Step& step, const std::vector<std::string>& functions);

// a rule as applied: whether it held, and what its calls read ("mean(0.9) = 0.45")
struct RuleResult {
  bool holds = false;
  std::vector<std::string> values;
};

// applies the rules in order; `calls` is where the scope records what each call read (cleared
// before each rule). Returns the `say` of the first rule that holds, or a line saying none did.
// An error while evaluating names the rule and where it was written.
std::string apply_rules(const std::vector<Rule>& rules, const ExpressionScope& scope,
                        std::vector<std::string>& calls, std::vector<RuleResult>& results);
// # | when | values | holds | say, the deciding rule marked with an arrow
struct TextTable;
TextTable rules_table(const std::vector<Rule>& rules, const std::vector<RuleResult>& results);

}  // namespace wm::analysis
