// Config files: parsing with positions, inheritance, overrides, interpolation.
#include "config_resolve.h"
#include "config_node.h"
#include "param_binding.h"
#include "test_support.h"

namespace wm {
namespace {

using ::testing::HasSubstr;
using test::error_of;
using test::TempDir;

TEST(Config, KeepsLineAndColumnOfEveryValue) {
  ConfigNode root = parse_yaml("a: 1\nmodel:\n  params: {dim: 8}\n", "exp.yaml");
  EXPECT_EQ(find_path(root, "model.params.dim")->loc.str(), "exp.yaml:3:17");
  EXPECT_EQ(find_path(root, "a")->loc.str(), "exp.yaml:1:4");
}

TEST(Config, MalformedYamlNamesFileLineAndColumn) {
  std::string error = error_of([] { parse_yaml("model:\n  params: {dim: 8\n", "exp.yaml"); });
  EXPECT_THAT(error, HasSubstr("exp.yaml:"));
  EXPECT_THAT(error, HasSubstr("YAML syntax error"));
}

TEST(Config, RejectsDuplicateKeys) {
  std::string error = error_of([] { parse_yaml("seed: 1\nexperiment: x\nseed: 2\n", "exp.yaml"); });
  EXPECT_THAT(error, HasSubstr("exp.yaml:3:1: seed: duplicate key (first given at line 1)"));
}

TEST(Config, InheritsFromBaseMergingMapsAndReplacingLists) {
  TempDir dir;
  dir.write("common/base.yaml",
            "seed: 1\nmodel: {plugin: copy_last, params: {gap: 2}}\nmetrics: [{plugin: a}, {plugin: b}]\n");
  auto file = dir.write("exp.yaml",
                        "base: common/base.yaml\nmodel: {params: {gap: 3}}\nmetrics: [{plugin: c}]\n");
  ConfigNode root = load_experiment(file);
  EXPECT_EQ(find_path(root, "seed")->scalar, "1");
  EXPECT_EQ(find_path(root, "model.plugin")->scalar, "copy_last");
  EXPECT_EQ(find_path(root, "model.params.gap")->scalar, "3");
  ASSERT_EQ(find_path(root, "metrics")->items.size(), 1u);
  EXPECT_EQ(root.find("base"), nullptr);
}

TEST(Config, ReplaceMarkerReplacesInheritedMap) {
  TempDir dir;
  dir.write("base.yaml", "model: {plugin: copy_last, params: {gap: 2}}\n");
  auto file = dir.write("exp.yaml", "base: base.yaml\nmodel: {_replace_: true, plugin: other}\n");
  ConfigNode root = load_experiment(file);
  EXPECT_EQ(find_path(root, "model.params"), nullptr);
  EXPECT_EQ(find_path(root, "model._replace_"), nullptr);
  EXPECT_EQ(find_path(root, "model.plugin")->scalar, "other");
}

TEST(Config, ReplaceMarkerWithoutBaseIsAnError) {
  TempDir dir;
  auto file = dir.write("exp.yaml", "model: {_replace_: true, plugin: other}\n");
  EXPECT_THAT(error_of([&] { load_experiment(file); }),
              HasSubstr("model._replace_: nothing inherited to replace"));
}

TEST(Config, OverrideSetsExistingKey) {
  ConfigNode root = parse_yaml("model: {params: {dim: 8}}\n", "exp.yaml");
  apply_override(root, "model.params.dim=16", 3);
  EXPECT_EQ(find_path(root, "model.params.dim")->scalar, "16");
  apply_override(root, "+model.params.depth=[1, 2]", 4);
  EXPECT_EQ(find_path(root, "model.params.depth")->items.size(), 2u);
}

TEST(Config, UnknownOverrideKeySuggestsTheClosest) {
  ConfigNode root = parse_yaml("model: {params: {dim: 8}}\n", "exp.yaml");
  std::string error = error_of([&] { apply_override(root, "model.params.dimm=16", 3); });
  EXPECT_THAT(error, HasSubstr("<command line> arg 3: model.params.dimm: unknown override key; "
                               "did you mean 'dim'?"));
  EXPECT_THAT(error, HasSubstr("+model.params.dimm=..."));
}

TEST(Config, InterpolatesPathsWholeValuesAndText) {
  ConfigNode root = parse_yaml(
      "global_vars: {batch_size: 16, dims: [1, 2]}\n"
      "train: {batch_size: '${global_vars.batch_size}', sizes: '${global_vars.dims}',"
      " name: 'bs${global_vars.batch_size}-x'}\n",
      "exp.yaml");
  interpolate(root);
  EXPECT_EQ(find_path(root, "train.batch_size")->scalar, "16");
  EXPECT_EQ(find_path(root, "train.sizes")->items.size(), 2u);
  EXPECT_EQ(find_path(root, "train.name")->scalar, "bs16-x");
}

TEST(Config, InterpolatesEnvironmentWithDefault) {
  setenv("WM_TEST_DATA_ROOT", "/data/ssv2", 1);
  ConfigNode root = parse_yaml(
      "a: '${env:WM_TEST_DATA_ROOT}/videos'\nb: '${env:WM_TEST_UNSET_VAR,fallback}'\n", "exp.yaml");
  interpolate(root);
  EXPECT_EQ(find_path(root, "a")->scalar, "/data/ssv2/videos");
  EXPECT_EQ(find_path(root, "b")->scalar, "fallback");
  ConfigNode missing = parse_yaml("a: '${env:WM_TEST_UNSET_VAR}'\n", "exp.yaml");
  EXPECT_THAT(error_of([&] { interpolate(missing); }),
              HasSubstr("environment variable WM_TEST_UNSET_VAR is not set"));
}

TEST(Config, InterpolationCycleIsAnError) {
  ConfigNode root = parse_yaml("a: '${b}'\nb: '${c}'\nc: '${a}'\n", "exp.yaml");
  std::string error = error_of([&] { interpolate(root); });
  EXPECT_THAT(error, HasSubstr("interpolation cycle:"));
  EXPECT_THAT(error, HasSubstr("exp.yaml:"));
}

TEST(Config, UnknownInterpolationTargetSuggests) {
  ConfigNode root = parse_yaml("global_vars: {batch_size: 4}\nx: '${global_vars.batchsize}'\n",
                               "exp.yaml");
  EXPECT_THAT(error_of([&] { interpolate(root); }),
              HasSubstr("exp.yaml:2:4: x: ${global_vars.batchsize}: no such key; did you mean "
                        "'batch_size'?"));
}

TEST(Config, RoundTripsThroughYaml) {
  ConfigNode root = parse_yaml("a: {b: [1, 2], c: \"quoted: yes\"}\nd: ~\n", "exp.yaml");
  ConfigNode again = parse_yaml(to_yaml(root), "again.yaml");
  EXPECT_EQ(find_path(again, "a.c")->scalar, "quoted: yes");
  EXPECT_EQ(find_path(again, "a.b.1")->scalar, "2");
  EXPECT_TRUE(find_path(again, "d")->is_null());
}

}  // namespace
}  // namespace wm
