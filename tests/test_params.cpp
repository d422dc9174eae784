// Parameters are validated against schemas before anything runs.
#include "config_node.h"
#include "param_binding.h"
#include "test_support.h"

namespace wm {
namespace {

using ::testing::HasSubstr;
using test::error_of;

Schema model_schema() {
  return Schema{}
      .integer("dim", 192, "token width").at_least(8)
      .real("drop_rate", 0.0, "dropout").range(0.0, 1.0)
      .choice("norm", "layer", {"layer", "rms"}, "normalisation")
      .reals("gaps", {1.0, 2.0}, "gaps")
      .boolean("causal", false, "block-causal mask")
      .path("weights", "checkpoint");
}

Params bind(const std::string& yaml) {
  ConfigNode node = parse_yaml(yaml, "exp.yaml");
  return bind_params(model_schema(), &node, "model.params", "model 'videomae'", node.loc);
}

TEST(Params, DefaultsFillWhatIsNotGiven) {
  Params params = bind("{dim: 16}");
  EXPECT_EQ(params.get<int>("dim"), 16);
  EXPECT_EQ(params.get<std::string>("norm"), "layer");
  EXPECT_EQ(params.get<RealList>("gaps"), (RealList{1.0, 2.0}));
  EXPECT_FALSE(params.get<bool>("causal"));
}

TEST(Params, UnknownKeySaysDidYouMeanWithPosition) {
  EXPECT_EQ(error_of([] { bind("{dim: 16,\n dropout_rate: 0.1}"); }),
            "exp.yaml:2:16: model.params.dropout_rate: unknown parameter of model 'videomae'; "
            "did you mean 'drop_rate'?");
}

TEST(Params, TypeErrorNamesKeyTypeAndPosition) {
  EXPECT_EQ(error_of([] { bind("{dim: wide}"); }),
            "exp.yaml:1:7: model.params.dim: expected int, got 'wide'");
  EXPECT_EQ(error_of([] { bind("{dim: 3.5}"); }),
            "exp.yaml:1:7: model.params.dim: expected int, got '3.5'");
  EXPECT_THAT(error_of([] { bind("{gaps: [1, x]}"); }),
              HasSubstr("model.params.gaps.1: expected float, got 'x'"));
}

TEST(Params, ABooleanIsNotANumber) {
  // `lr: true` must not quietly mean 1; the message says which number to write
  EXPECT_THAT(error_of([] { bind("{drop_rate: true}"); }),
              HasSubstr("drop_rate: expected float, got 'true' (a number: write 1)"));
  EXPECT_THAT(error_of([] { bind("{drop_rate: off}"); }), HasSubstr("(a number: write 0)"));
  EXPECT_THAT(error_of([] { bind("{drop_rate: 'true'}"); }), HasSubstr("expected float, got 'true'"));
  EXPECT_THAT(error_of([] { bind("{dim: true}"); }), HasSubstr("expected int, got 'true'"));
}

TEST(Params, OutOfRangeNamesTheLimits) {
  EXPECT_EQ(error_of([] { bind("{dim: 4}"); }), "exp.yaml:1:7: model.params.dim: must be >= 8, got 4");
  EXPECT_THAT(error_of([] { bind("{drop_rate: 1.5}"); }), HasSubstr("must be in [0.0, 1.0], got 1.5"));
}

TEST(Params, ChoiceListsTheChoices) {
  EXPECT_THAT(error_of([] { bind("{norm: rsm}"); }),
              HasSubstr("model.params.norm: 'rsm' is not one of: layer, rms; did you mean 'rms'?"));
}

TEST(Params, QuotedNumbersStayStrings) {
  EXPECT_THAT(error_of([] { bind("{dim: '16'}"); }), HasSubstr("expected int, got '16'"));
}

TEST(Params, RelativePathsResolveNextToTheYamlFile) {
  ConfigNode node = parse_yaml("{weights: ckpt/model.pt}", "/experiments/exp.yaml");
  Params params = bind_params(model_schema(), &node, "model.params", "m", node.loc);
  EXPECT_EQ(params.get<std::string>("weights"), "/experiments/ckpt/model.pt");
}

TEST(Params, MissingRequiredParameterIsAnError) {
  Schema schema = Schema{}.path("weights", "checkpoint to load").required();
  ConfigNode node = parse_yaml("{}", "exp.yaml");
  EXPECT_THAT(error_of([&] { bind_params(schema, &node, "model.params", "model 'x'", node.loc); }),
              HasSubstr("model.params.weights: required path parameter of model 'x' is missing"));
}

TEST(Params, ReadingAnUndeclaredParameterIsAPluginBug) {
  Params params = bind("{}");
  EXPECT_THAT(error_of([&] { params.get<int>("depth"); }),
              HasSubstr("plugin bug: model 'videomae' reads parameter 'depth'"));
}

TEST(Params, PluginErrorsPointAtTheParameter) {
  Params params = bind("{dim: 100}");
  ConfigError error = params.error("dim", "must be divisible by heads (6)");
  EXPECT_STREQ(error.what(), "exp.yaml:1:7: model.params.dim: must be divisible by heads (6)");
}

TEST(Schema, DuplicateDeclarationIsCaught) {
  EXPECT_THAT(error_of([] { Schema{}.integer("dim", 1, "").integer("dim", 2, ""); }),
              HasSubstr("declared twice"));
}

}  // namespace
}  // namespace wm
