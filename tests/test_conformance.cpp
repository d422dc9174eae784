// The contract checks of `wmhost check`: a plugin that breaks one rule is caught by that rule,
// named in the finding; a conforming one passes.
#include "test_support.h"

namespace wm {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

std::string broken_plugin(const std::string& rule) {
  return std::string(WM_TEST_BROKEN_PLUGIN_DIR) + "/nonconforming_" + rule + "/wm_breaks_" + rule + ".so";
}

TEST(Conformance, AConformingPluginPasses) {
  EXPECT_THAT(testing::conformance(std::string(WM_TEST_BROKEN_PLUGIN_DIR) + "/good/wm_sample_metric.so"),
              IsEmpty());
}

TEST(Conformance, AParameterWithoutDocIsNamed) {
  EXPECT_THAT(testing::conformance(broken_plugin("documented")),
              ElementsAre("documented: parameter 'scale' has no doc line"));
}

TEST(Conformance, AMergeThatLosesStateIsCaught) {
  EXPECT_THAT(testing::conformance(broken_plugin("merge")),
              ElementsAre(AllOf(StartsWith("merge: 'mean' is"), HasSubstr("merged from two halves"))));
}

TEST(Conformance, SamplesDrawnFromTheGlobalGeneratorAreNotDeterministic) {
  EXPECT_THAT(testing::conformance(broken_plugin("deterministic")),
              ElementsAre(StartsWith("deterministic: sample 0 read twice: 'video' differs")));
}

TEST(Conformance, AFloatVideoBreaksTheDataContract) {
  EXPECT_THAT(testing::conformance(broken_plugin("data_contract")),
              ElementsAre(HasSubstr("data contract: sample 0 ('clip-0'): 'video' is float32, declared uint8")));
}

TEST(Conformance, PredictionAndTargetOfDifferentShapesAreCaught) {
  EXPECT_THAT(testing::conformance(broken_plugin("predict")),
              ElementsAre(AllOf(StartsWith("predict: 'prediction' is"), HasSubstr("but 'target' is"))));
}

TEST(Conformance, ALossWithoutAGraphIsCaught) {
  EXPECT_THAT(testing::conformance(broken_plugin("loss")),
              ElementsAre("loss: loss() has no graph back to the parameters"));
}

TEST(Conformance, AnEnvThatTakesAWrongSizeActionIsCaught) {
  EXPECT_THAT(testing::conformance(broken_plugin("bad_action")),
              ElementsAre("bad action: step() with 5 values instead of 2 did not throw wm::Error"));
}

TEST(Conformance, CheckCommandNamesTheRuleAndFails) {
  test::TempDir dir;
  int code = 0;
  std::string output = test::run_wmhost("check " + broken_plugin("merge"), dir.path(), code);
  EXPECT_EQ(code, 1) << output;
  EXPECT_THAT(output, HasSubstr("merge: 'mean' is"));
  output = test::run_wmhost("check psnr", dir.path(), code);
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("psnr: every check passed"));
}

}  // namespace
}  // namespace wm
