// The real wmhost binary, end to end: what a researcher types and reads.
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "test_support.h"

namespace wm {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;
using test::read_text;


using Result = test::CliResult;
using test::wmhost;

const char* kSmallExperiment = R"(experiment: small
global_vars: {frames: 4}
data:
  val: {plugin: synthetic, split: val, params: {samples: 40, frames: "${global_vars.frames}", size: 16}}
model: {plugin: copy_last}
env: {plugin: point_mass, params: {max_episode_steps: 20}}
metrics: [{plugin: psnr}]
procedure:
  - evaluate: {data: val, batch_size: 4}
  - rollout: {episodes: 3}
)";

TEST(Cli, VersionNamesSdkAbiAndLibTorch) {
  test::TempDir dir;
  Result result = wmhost("--version", dir.path());
  EXPECT_EQ(result.code, 0);
  EXPECT_THAT(result.out, ContainsRegex("^wmhost [0-9.]+ \\(wmsdk ABI [0-9]+, LibTorch [0-9.]+, "));
}

TEST(Cli, HelpListsTheOptionsAndNoCommandIsAMistake) {
  test::TempDir dir;
  Result help = wmhost("--help", dir.path());
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("-o, --out DIR"));
  Result bare = wmhost("", dir.path());
  EXPECT_EQ(bare.code, 2);
  EXPECT_THAT(bare.out, HasSubstr("usage: wmhost <command>"));
}

TEST(Cli, OptionsGoAnywhereInEveryUsualSpelling) {
  test::TempDir dir;
  // `--name value`, `--name=value`, `-l value`, `-lvalue`, grouped switches, before or after the command
  for (std::string line : {"list --plugin-path /nowhere", "--plugin-path=/nowhere list",
                           "-p /nowhere list", "list -p/nowhere", "list -vp/nowhere"})
    EXPECT_THAT(wmhost(line, dir.path()).err, HasSubstr("--plugin-path /nowhere: no such folder")) << line;
  // after `--` everything is an argument
  EXPECT_THAT(wmhost("-- list -p/nowhere", dir.path()).err, HasSubstr("unknown plugin kind '-p/nowhere'"));
}

TEST(Cli, OptionMistakesSayWhatToType) {
  test::TempDir dir;
  Result typo = wmhost("list --plugin-pth /nowhere", dir.path());
  EXPECT_EQ(typo.code, 2);
  EXPECT_THAT(typo.err, HasSubstr("unknown option '--plugin-pth'; did you mean '--plugin-path'?"));
  EXPECT_THAT(wmhost("run exp.yaml --out", dir.path()).err, HasSubstr("--out needs a value: --out DIR"));
  // the next option is not taken for a value
  EXPECT_THAT(wmhost("run exp.yaml -o -n", dir.path()).err, HasSubstr("--out needs a value"));
  EXPECT_THAT(wmhost("run exp.yaml -o a --out b", dir.path()).err, HasSubstr("--out is given twice"));
  EXPECT_THAT(wmhost("list --verbose=yes", dir.path()).err, HasSubstr("--verbose takes no value"));
  EXPECT_THAT(wmhost("list -nx", dir.path()).err, HasSubstr("unknown option '-x'"));
}

TEST(Cli, ListShowsPluginsOfEveryKind) {
  test::TempDir dir;
  Result result = wmhost("list", dir.path());
  EXPECT_EQ(result.code, 0);
  EXPECT_THAT(result.out, ContainsRegex("datasets:\n(  [^\n]*\n)*  synthetic +[0-9.]+ +Procedural"));
  EXPECT_THAT(result.out, ContainsRegex("models:\n(  [^\n]*\n)*  copy_last "));
  EXPECT_THAT(result.out, ContainsRegex("envs:\n(  [^\n]*\n)*  point_mass "));
  EXPECT_THAT(result.out, ContainsRegex("metrics:\n(  [^\n]*\n)*  psnr "));  // listed by name
  EXPECT_EQ(wmhost("list metrics", dir.path()).out.find("datasets:"), std::string::npos);
  EXPECT_THAT(wmhost("list modles", dir.path()).err,
              HasSubstr("unknown plugin kind 'modles'; did you mean 'models'?"));
}

TEST(Cli, ListWarnsAboutUnusableFiles) {
  test::TempDir dir;
  Result result = wmhost(std::string("list --plugin-path ") + WM_TEST_BROKEN_PLUGIN_DIR +
                             "/abi_mismatch",
                         dir.path());
  EXPECT_EQ(result.code, 0);
  EXPECT_THAT(result.err, HasSubstr("warning: skipped"));
  EXPECT_THAT(result.err, HasSubstr("built for wmsdk ABI 999"));
}

TEST(Cli, DescribePrintsOneLinePerParameter) {
  test::TempDir dir;
  Result result = wmhost("describe synthetic", dir.path());
  EXPECT_EQ(result.code, 0);
  EXPECT_THAT(result.out, ContainsRegex("^synthetic \\(dataset plugin, version [0-9.]+\\)\n"));
  EXPECT_THAT(result.out, ContainsRegex("\n  frames +int +8 +in \\[2, 1024\\] +frames per clip\n"));
  EXPECT_THAT(result.out, ContainsRegex("\n  texture_per_clip +bool +false +a new table texture for every clip"));
  std::string evaluate = wmhost("describe evaluate", dir.path()).out;
  EXPECT_THAT(evaluate, ContainsRegex("\n  batch_size +int +8 +>= 1 +samples per batch\n"));
  EXPECT_THAT(evaluate, ContainsRegex("\n  name +text +label of the step's summary values"));
  EXPECT_THAT(wmhost("describe synthetik", dir.path()).err,
              HasSubstr("nothing called 'synthetik'; did you mean 'synthetic'?"));
}

TEST(Cli, RunWritesAFullRunDirectory) {
  test::TempDir dir;
  dir.write("exp.yaml", kSmallExperiment);
  Result result = wmhost("run exp.yaml", dir.path());
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, ContainsRegex("^run finished: runs/small/[0-9]{8}-[0-9]{6}\n"));
  fs::path run = dir.path() / result.out.substr(14, result.out.size() - 15);
  EXPECT_THAT(read_text(run / "config.yaml"), HasSubstr("frames: 4"));  // interpolated
  EXPECT_THAT(read_text(run / "log.txt"), ContainsRegex("evaluate val: [0-9]+ samples"));
  std::string metrics = read_text(run / "metrics.jsonl");
  EXPECT_THAT(metrics, ContainsRegex("\\{\"data\": \"val\", \"label\": \"val\", \"procedure\": \"evaluate\", "
                                     "\"psnr\": [0-9.]+, \"psnr/mse\": [0-9.e-]+, \"samples\": [0-9]+, "
                                     "\"skipped_samples\": 0, \"time\": [0-9]{10}\\.[0-9]+\\}"));
  EXPECT_THAT(metrics, HasSubstr("\"procedure\": \"rollout\""));
  EXPECT_THAT(read_text(run / "status.json"), HasSubstr("{\"status\": \"ok\""));
}

TEST(Cli, OverridesAndOutDirectory) {
  test::TempDir dir;
  dir.write("exp.yaml", kSmallExperiment);
  Result result = wmhost("run exp.yaml global_vars.frames=3 --out here", dir.path());
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(read_text(dir.path() / "here/config.yaml"), HasSubstr("frames: 3"));
  Result again = wmhost("run exp.yaml --out here", dir.path());
  EXPECT_EQ(again.code, 2);
  EXPECT_THAT(again.err, HasSubstr("--out here exists and is not empty"));
}

TEST(Cli, UnknownOverrideKeyStopsBeforeAnythingIsWritten) {
  test::TempDir dir;
  dir.write("exp.yaml", kSmallExperiment);
  Result result = wmhost("run exp.yaml model.params.gapp=2", dir.path());
  EXPECT_EQ(result.code, 2);
  EXPECT_THAT(result.err, HasSubstr("error: <command line> arg 3: model.params.gapp: unknown override key"));
  EXPECT_FALSE(fs::exists(dir.path() / "runs"));
}

TEST(Cli, MalformedYamlNamesTheLineAndWritesNothing) {
  test::TempDir dir;
  dir.write("exp.yaml", "experiment: broken\nmodel: {plugin: copy_last\nseed: 1\n");
  Result result = wmhost("run exp.yaml", dir.path());
  EXPECT_EQ(result.code, 2);
  EXPECT_THAT(result.err, ContainsRegex("^error: exp.yaml:[0-9]+:[0-9]+: YAML syntax error"));
  EXPECT_FALSE(fs::exists(dir.path() / "runs"));
}

TEST(Cli, ValidateAndDryRunWriteNothing) {
  test::TempDir dir;
  dir.write("exp.yaml", kSmallExperiment);
  Result validate = wmhost("validate exp.yaml", dir.path());
  EXPECT_EQ(validate.code, 0) << validate.err;
  EXPECT_THAT(validate.out, HasSubstr("ok: exp.yaml is valid: experiment 'small', 1 run, steps: "
                                      "evaluate rollout"));
  Result dry = wmhost("run exp.yaml --dry-run", dir.path());
  EXPECT_EQ(dry.code, 0);
  EXPECT_THAT(dry.out, HasSubstr("frames: 4"));
  EXPECT_FALSE(fs::exists(dir.path() / "runs"));
}

TEST(Cli, ThrowingConstructorIsLoggedInTheRunDirectory) {
  test::TempDir dir;
  dir.write("exp.yaml",
            "experiment: fragile\nmodel: {plugin: fragile_model, params: {weights: w.pt}}\n"
            "env: {plugin: point_mass}\nprocedure: [{rollout: {episodes: 1}}]\n");
  Result result = wmhost(std::string("run exp.yaml --out run --plugin-path ") +
                             WM_TEST_BROKEN_PLUGIN_DIR + "/throwing",
                         dir.path());
  EXPECT_EQ(result.code, 1);
  std::string expected = "model plugin 'fragile_model' (model at exp.yaml:2:8) failed to start: "
                         "cannot open weights '" + (dir.path() / "w.pt").string() + "'";
  EXPECT_THAT(result.err, HasSubstr(expected));
  EXPECT_THAT(read_text(dir.path() / "run/log.txt"), HasSubstr(expected));
  EXPECT_THAT(read_text(dir.path() / "run/status.json"), HasSubstr("\"status\": \"failed\""));
}

TEST(Cli, MissingPluginFileAndFolderAreNamed) {
  test::TempDir dir;
  dir.write("exp.yaml", "experiment: x\nenv: {plugin: ./wm_gone.so}\nprocedure: [{rollout: {}}]\n");
  EXPECT_THAT(wmhost("validate exp.yaml", dir.path()).err,
              HasSubstr("exp.yaml:2:15: env.plugin: ./wm_gone.so: no such plugin file"));
  EXPECT_THAT(wmhost("list --plugin-path /nonexistent/plugins", dir.path()).err,
              HasSubstr("--plugin-path /nonexistent/plugins: no such folder"));
}

TEST(Cli, SweepRunsTheGridWritesASummaryAndResumes) {
  test::TempDir dir;
  dir.write("exp.yaml", std::string(kSmallExperiment) + "sweep: {seed: [0, 1], data.val.subset: [0.5, 1.0]}\n");
  Result result = wmhost("run exp.yaml --out sweep", dir.path());
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("sweep finished: 4/4 runs ok"));
  std::string csv = read_text(dir.path() / "sweep/summary.csv");
  EXPECT_THAT(csv, ContainsRegex("^run,seed,data.val.subset,status,seconds,evaluate\\[val\\]/psnr,"));
  EXPECT_THAT(csv, ContainsRegex("\n\"seed=1,data.val.subset=0.5\",1,0.5,ok,"));
  EXPECT_TRUE(fs::exists(dir.path() / "sweep/summary.md"));
  EXPECT_THAT(read_text(dir.path() / "sweep/seed=1,data.val.subset=0.5/config.yaml"), HasSubstr("seed: 1"));

  Result again = wmhost("run exp.yaml --out sweep", dir.path());
  EXPECT_EQ(again.code, 0);
  EXPECT_THAT(again.err, HasSubstr("finished earlier, skipped"));
}

}  // namespace
}  // namespace wm
