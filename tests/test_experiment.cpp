// Whole experiments are checked before anything runs: sections, plugins, kinds, procedures.
#include "config_resolve.h"
#include "experiment.h"
#include "procedure.h"
#include "config_node.h"
#include "param_binding.h"
#include "test_support.h"

namespace wm {
namespace {

using ::testing::HasSubstr;
using test::error_of;

Experiment validate(const std::string& yaml) {
  ConfigNode root = parse_yaml(yaml, "exp.yaml");
  interpolate(root);
  return validate_experiment(root, test::plugins());
}

const char* kValid = R"(
experiment: check
seed: 3
data:
  val: {plugin: synthetic, split: val, subset: 0.5, params: {samples: 20}}
model: {plugin: copy_last}
metrics: [{plugin: psnr, params: {data_range: 1.0}}]
procedure:
  - evaluate: {data: val, batch_size: 4}
)";

TEST(Experiment, ValidExperimentBindsEverything) {
  Experiment experiment = validate(kValid);
  EXPECT_EQ(experiment.name, "check");
  EXPECT_EQ(experiment.seed, 3);
  ASSERT_EQ(experiment.data.count("val"), 1u);
  EXPECT_EQ(experiment.data.at("val").split.split, "val");
  EXPECT_DOUBLE_EQ(experiment.data.at("val").split.subset, 0.5);
  EXPECT_EQ(experiment.data.at("val").params.get<int64_t>("samples"), 20);
  EXPECT_EQ(experiment.model->plugin->name(), "copy_last");
  ASSERT_EQ(experiment.procedures.size(), 1u);
  EXPECT_EQ(experiment.procedures[0].params.get<int64_t>("batch_size"), 4);
}

TEST(Experiment, UnknownPluginListsTheKnownOnes) {
  std::string error = error_of([] {
    validate("experiment: x\nmodel: {plugin: copy_lsat}\nprocedure: [{rollout: {}}]\n");
  });
  EXPECT_THAT(error, HasSubstr("exp.yaml:2:17: model.plugin: unknown model plugin 'copy_lsat'; "
                               "did you mean 'copy_last'?; known models: bc, copy_last, glp, nsca"));
}

TEST(Experiment, PluginOfTheWrongKindIsNamed) {
  EXPECT_THAT(error_of([] {
                validate("experiment: x\nmodel: {plugin: psnr}\nprocedure: [{rollout: {}}]\n");
              }),
              HasSubstr("'psnr' is a metric plugin, but a model is needed here"));
}

TEST(Experiment, UnknownTopLevelKeySuggests) {
  EXPECT_THAT(error_of([] { validate("experiment: x\nmetrcs: []\nprocedure: [{rollout: {}}]\n"); }),
              HasSubstr("exp.yaml:2:9: metrcs: unknown key; did you mean 'metrics'?"));
}

TEST(Experiment, UnknownProcedureListsProcedures) {
  EXPECT_THAT(error_of([] { validate("experiment: x\nprocedure: [{evalute: {}}]\n"); }),
              HasSubstr("unknown procedure 'evalute'; did you mean 'evaluate'?; procedures: "
                        "train, evaluate, rollout"));
}

TEST(Experiment, ProcedureChecksWhatItNeeds) {
  EXPECT_THAT(error_of([] {
                validate("experiment: x\nmodel: {plugin: copy_last}\nmetrics: [{plugin: psnr}]\n"
                         "data: {train: {plugin: synthetic}}\nprocedure: [{evaluate: {data: val}}]\n");
              }),
              HasSubstr("procedure.0.evaluate.data: no `data.val` in this experiment (have: train)"));
  EXPECT_THAT(error_of([] { validate("experiment: x\nprocedure: [{rollout: {}}]\n"); }),
              HasSubstr("procedure.0.rollout: needs an `env:` section"));
}

TEST(Experiment, HostKeysAreTypedToo) {
  EXPECT_THAT(error_of([] {
                validate("experiment: x\nseed: many\nprocedure: [{rollout: {}}]\n");
              }),
              HasSubstr("exp.yaml:2:7: seed: expected int, got 'many'"));
  EXPECT_THAT(error_of([] {
                validate("experiment: x\ndata: {a: {plugin: synthetic, split: tran}}\n"
                         "procedure: [{rollout: {}}]\n");
              }),
              HasSubstr("data.a.split: 'tran' is not one of: train, val, test, all; did you mean "
                        "'train'?"));
}

TEST(Experiment, MissingProcedureIsAnError) {
  EXPECT_THAT(error_of([] { validate("experiment: x\n"); }),
              HasSubstr("procedure: an experiment needs a list of steps"));
}

TEST(Experiment, CopyLastIsTheDefaultBaseline) {
  Experiment experiment = validate(kValid);
  ASSERT_EQ(experiment.baselines.size(), 1u);
  EXPECT_EQ(experiment.baselines[0].name, "copy_last");
  EXPECT_EQ(experiment.baselines[0].plugin->name(), "copy_last");
}

TEST(Experiment, BaselinesAreConfiguredModelsNamedByEvaluate) {
  std::string yaml = std::string(kValid) +
                     "baselines: [{plugin: copy_last, name: copy_gap2, params: {gap: 2}}]\n";
  yaml.replace(yaml.find("batch_size: 4}"), 14, "batch_size: 4, baseline: copy_gap2}");
  Experiment experiment = validate(yaml);
  ASSERT_EQ(experiment.baselines.size(), 1u);
  EXPECT_EQ(experiment.baselines[0].params.get<int64_t>("gap"), 2);
  yaml.replace(yaml.find("baseline: copy_gap2"), 19, "baseline: copy_gap3");
  std::string error = error_of([&] { validate(yaml); });
  EXPECT_THAT(error, HasSubstr("procedure.0.evaluate.baseline: no baseline 'copy_gap3'; did you mean 'copy_gap2'?"));
}

}  // namespace
}  // namespace wm
