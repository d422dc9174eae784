// One catalog of named things (plugins, procedures, transforms, the host's own sections), each with
// a schema; the host's keys are typed like plugin parameters, with string lists, references to
// data entries and the sections a procedure declares it needs.
#include "catalog.h"
#include "config_resolve.h"
#include "experiment.h"
#include "param_binding.h"
#include "procedure.h"
#include "test_support.h"

namespace wm {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using test::error_of;

Experiment validate(const std::string& yaml) {
  ConfigNode root = parse_yaml(yaml, "exp.yaml");
  interpolate(root);
  return validate_experiment(root, test::plugins());
}

std::string describe(const std::string& name) {
  test::TempDir dir;
  int code = 0;
  std::string out = test::run_wmhost("describe " + name, dir.path(), code);
  EXPECT_EQ(code, 0) << out;
  return out;
}

//---- the catalog ----

TEST(Catalog, FindsEveryKindByName) {
  Catalog catalog(test::plugins());
  ASSERT_NE(catalog.find("synthetic"), nullptr);
  EXPECT_EQ(catalog.find("synthetic")->kind, EntryKind::Dataset);
  EXPECT_EQ(catalog.find("synthetic")->plugin()->name(), "synthetic");
  EXPECT_EQ(catalog.find("train")->procedure(), &train_procedure);
  EXPECT_EQ(catalog.find("hflip")->kind, EntryKind::Transform);
  EXPECT_EQ(catalog.find("data")->kind, EntryKind::Section);
  EXPECT_EQ(catalog.find("train", EntryKind::Transform), nullptr);
  EXPECT_EQ(catalog.find("nothing"), nullptr);
}

TEST(Catalog, ListShowsProceduresTransformsAndSections) {
  test::TempDir dir;
  int code = 0;
  std::string out = test::run_wmhost("list procedures", dir.path(), code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, ContainsRegex("^procedures:\n  train +[0-9.]+ +optimise the model's loss"));
  EXPECT_THAT(test::run_wmhost("list", dir.path(), code),
              ContainsRegex("transforms:\n(  [^\n]*\n)*  hflip +[0-9.]+ +mirror(.|\n)*"
                            "sections:\n  experiment +[0-9.]+ +the top level"));
}

TEST(Catalog, DescribeDataDocumentsTheHostKeys) {
  std::string out = describe("data");
  EXPECT_THAT(out, ContainsRegex("^data \\(section of the experiment file\\)\n"));
  EXPECT_THAT(out, ContainsRegex("\n  plugin +string +\\(required\\) +the dataset plugin: "));
  EXPECT_THAT(out, ContainsRegex("\n  split +choice +all +one of \\{train, val, test, all\\} +the "
                                 "part of the data set to use"));
  EXPECT_THAT(out,
              ContainsRegex("\n  subset +float +1.0 +>= 0.0 +up to 1: fraction of the split to keep; "
                            "above 1: an exact count"));
  EXPECT_THAT(out, ContainsRegex("\n  split_by +string +group +what a split keeps together"));
  EXPECT_THAT(out, ContainsRegex("\n  workers +int +2 +in \\[0, 256\\] +loader threads"));
  EXPECT_THAT(out, ContainsRegex("\n  action_scaler +path +\"\" +a scaler file"));
  EXPECT_THAT(out, ContainsRegex("\n  ids +path +\"\" +a file of the sample ids to keep"));
  EXPECT_THAT(out, ContainsRegex("\n  transforms +list +steps the loader applies"));
}

TEST(Catalog, DescribeExperimentDocumentsTheTopLevelKeys) {
  std::string out = describe("experiment");
  EXPECT_THAT(out, ContainsRegex("\n  experiment +string +\\(required\\) +name of the experiment"));
  EXPECT_THAT(out, ContainsRegex("\n  seed +int +0 +>= 0 +seed of every random choice"));
  EXPECT_THAT(out, ContainsRegex("\n  device +choice +cpu +one of \\{cpu, cuda\\}"));
  EXPECT_THAT(out, ContainsRegex("\n  data +map +named datasets"));
  EXPECT_THAT(describe("train"), ContainsRegex("\n  data +data name +train +which entry"));
}

//---- host keys are bound like parameters ----

TEST(Catalog, HostSectionsRejectUnknownKeysWithASuggestion) {
  EXPECT_THAT(error_of([] {
                validate("experiment: x\ndata: {a: {plugin: synthetic, splt: val}}\n"
                         "procedure: [{rollout: {}}]\n");
              }),
              HasSubstr("exp.yaml:2:37: data.a.splt: unknown key; did you mean 'split'?"));
  EXPECT_THAT(error_of([] { validate("seed: 1\nprocedure: [{rollout: {}}]\n"); }),
              HasSubstr("experiment: is required (name of the experiment"));
}

//---- strings ----

StringList bind_strings(const std::string& yaml) {
  Schema schema = Schema{}.strings("keys", {"video", "state"}, "observation keys");
  ConfigNode node = parse_yaml(yaml, "exp.yaml");
  return bind_params(schema, &node, "p", "procedure 'x'", node.loc).get<StringList>("keys");
}

TEST(Catalog, StringsBindAYamlListOrTheOlderCommaString) {
  EXPECT_EQ(bind_strings("{keys: [video, action]}"), (StringList{"video", "action"}));
  EXPECT_EQ(bind_strings("{keys: 'video, action,'}"), (StringList{"video", "action"}));
  EXPECT_EQ(bind_strings("{}"), (StringList{"video", "state"}));
  EXPECT_THAT(error_of([] { bind_strings("{keys: [video, {a: 1}]}"); }),
              HasSubstr("exp.yaml:1:16: p.keys.1: expected string, got "));
}

TEST(Catalog, OldCommaSeparatedConfigsStillLoad) {
  Experiment experiment = validate(
      "experiment: x\nenv: {plugin: point_mass}\n"
      "procedure: [{rollout: {history_keys: 'video, state'}},\n"
      "            {rollout: {history_keys: [video], name: video_only}}]\n");
  EXPECT_EQ(experiment.procedures[0].params.get<StringList>("history_keys"),
            (StringList{"video", "state"}));
  EXPECT_EQ(experiment.procedures[1].params.get<StringList>("history_keys"), (StringList{"video"}));
}

//---- data_ref ----

TEST(Catalog, DataRefToAMissingEntryNamesWhereAndSuggests) {
  std::string error = error_of([] {
    validate("experiment: x\nmodel: {plugin: copy_last}\ndata: {train: {plugin: synthetic}}\n"
             "procedure:\n  - train: {data: trian, steps: 1}\n");
  });
  EXPECT_THAT(error, HasSubstr("exp.yaml:5:19: procedure.0.train.data: no `data.trian` in this "
                               "experiment; did you mean 'train'? (have: train)"));
}

TEST(Catalog, OptionalDataRefMayBeEmptyButADefaultOneMustExist) {
  const char* train =
      "experiment: x\nmodel: {plugin: copy_last}\ndata: {train: {plugin: synthetic}}\n"
      "procedure: [{train: {steps: 1, eval_data: ''}}]\n";
  EXPECT_EQ(validate(train).procedures[0].params.get<std::string>("eval_data"), "");
  // evaluate reads data.val unless told otherwise
  EXPECT_THAT(error_of([] {
                validate("experiment: x\nmodel: {plugin: copy_last}\nmetrics: [{plugin: psnr}]\n"
                         "procedure: [{evaluate: {}}]\n");
              }),
              HasSubstr("exp.yaml:4:13: procedure.0.evaluate.data: no `data.val` in this "
                        "experiment (have: none)"));
}

//---- needs ----

TEST(Catalog, ProcedureThatNeedsAModelSaysSoAsBefore) {
  for (std::string step : {"train: {steps: 1}", "evaluate: {data: train}", "probe: {}"}) {
    std::string yaml =
        "experiment: x\ndata: {train: {plugin: synthetic}, val: {plugin: synthetic}}\n"
        "metrics: [{plugin: psnr}]\nprocedure: [{" + step + "}]\n";
    std::string name = step.substr(0, step.find(':'));
    EXPECT_THAT(error_of([&] { validate(yaml); }),
                HasSubstr("exp.yaml:4:13: procedure.0." + name + ": needs a `model:` section"));
  }
  EXPECT_THAT(error_of([] {
                validate("experiment: x\nmodel: {plugin: copy_last}\n"
                         "data: {val: {plugin: synthetic}}\nprocedure: [{evaluate: {}}]\n");
              }),
              HasSubstr("procedure.0.evaluate: needs at least one entry under `metrics:`"));
}

}  // namespace
}  // namespace wm
