// Hostile configs: inputs that could crash, hang or confuse a config reader (huge, recursive,
// endless or odd files and values) are refused in bounded time with a one-line ConfigError, never
// a signal. Subprocess tests run the real binary under `timeout 20`, so a regression fails the
// test instead of hanging it.
// WM_TEST_WMHOST_UNDER_TEST=/path/to/wmhost runs them against another build (an older one,
// to see each fail there).
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "config_limits.h"
#include "config_node.h"
#include "config_resolve.h"
#include "param_binding.h"
#include "test_support.h"
#include "wm/io/webdataset.h"

namespace wm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using test::error_of;
using test::TempDir;

//---- the real binary under a time limit ----

const char* wmhost_binary() {
  const char* other = std::getenv("WM_TEST_WMHOST_UNDER_TEST");
  return other ? other : WM_TEST_WMHOST;
}

struct Outcome {
  int code;  // the exit code; 124 when `timeout` stopped it, 128 + n for signal n
  std::string output;
};

// `wmhost <command>` in `dir`, stopped after 20 s
Outcome wmhost(const TempDir& dir, const std::string& command_line, const std::string& env = "") {
  std::string command = "cd '" + dir.path().string() + "' && " + env + " timeout 20 '" +
                        wmhost_binary() + "' " + command_line + " 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  char chunk[4096];
  while (size_t n = std::fread(chunk, 1, sizeof chunk, pipe)) output.append(chunk, n);
  int status = pclose(pipe);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, output};
}

Outcome validate(const TempDir& dir, const std::string& file, const std::string& env = "") {
  return wmhost(dir, "validate " + file, env);
}

// a small experiment that validates; `extra` is appended to it
std::string experiment(const std::string& extra = "") {
  return "experiment: bounds\nthreads: 1\n"
         "data:\n  train: {plugin: synthetic, params: {samples: 8, frames: 4, size: 16}}\n"
         "model: {plugin: copy_last}\nmetrics: [{plugin: psnr}]\n"
         "procedure: [{evaluate: {data: train, batch_size: 4}}]\n" +
         extra;
}

// a config error is exit code 2 and one line naming the file
void expect_config_error(const Outcome& outcome, const std::string& text) {
  EXPECT_EQ(outcome.code, 2) << outcome.output;
  EXPECT_THAT(outcome.output, HasSubstr(text));
}

//---- interpolation: spliced text, long chains, copies ----

TEST(ConfigBounds, EnvironmentTextIsNeverScannedAgain) {
  TempDir dir;
  dir.write("exp.yaml", experiment("global_vars: {a: \"${env:LOOP}\", b: \"x${env:LOOP}\"}\n"));
  Outcome outcome = validate(dir, "exp.yaml", "LOOP='${env:LOOP}'");
  EXPECT_EQ(outcome.code, 0) << outcome.output;

  setenv("WM_TEST_LOOP", "${env:WM_TEST_LOOP}", 1);
  ConfigNode root = parse_yaml("b: '${global_vars.a}'\nglobal_vars: {a: '${env:WM_TEST_LOOP}'}\n"
                               "c: 'x${env:WM_TEST_LOOP}y${global_vars.a}'\n", "exp.yaml");
  interpolate(root);
  EXPECT_EQ(find_path(root, "global_vars.a")->scalar, "${env:WM_TEST_LOOP}");
  EXPECT_EQ(find_path(root, "b")->scalar, "${env:WM_TEST_LOOP}");
  EXPECT_EQ(find_path(root, "c")->scalar, "x${env:WM_TEST_LOOP}y${env:WM_TEST_LOOP}");
}

std::string reference_chain(int links) {
  std::string text = "global_vars:\n";
  for (int i = 0; i + 1 < links; ++i)
    text += "  v" + std::to_string(i) + ": '${global_vars.v" + std::to_string(i + 1) + "}'\n";
  return text + "  v" + std::to_string(links - 1) + ": 7\n";
}

TEST(ConfigBounds, LongReferenceChainIsRefusedWithTheChain) {
  TempDir dir;
  dir.write("exp.yaml", experiment(reference_chain(10000)));
  Outcome outcome = validate(dir, "exp.yaml");
  expect_config_error(outcome, "exp.yaml:");
  EXPECT_THAT(outcome.output, HasSubstr("global_vars.v0 -> global_vars.v1 -> global_vars.v2"));
  EXPECT_THAT(outcome.output, HasSubstr("deeper than " + std::to_string(kMaxReferenceDepth)));
}

TEST(ConfigBounds, ReferenceChainWithinTheCapResolves) {
  ConfigNode root = parse_yaml(reference_chain(kMaxReferenceDepth - 1), "exp.yaml");
  interpolate(root);
  EXPECT_EQ(find_path(root, "global_vars.v0")->scalar, "7");
}

TEST(ConfigBounds, AliasBillionLaughsIsRefused) {
  TempDir dir;
  std::string laughs = "global_vars:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 9; ++i) {
    std::string prior = "*l" + std::to_string(i - 1);
    laughs += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) laughs += (j ? ", " : "") + prior;
    laughs += "]\n";
  }
  dir.write("exp.yaml", experiment(laughs));
  Outcome outcome = validate(dir, "exp.yaml");
  expect_config_error(outcome, "more than " + std::to_string(kMaxConfigNodes) + " values");
}

// `levels` nested lists around `inner`
std::string nested(size_t levels, const std::string& inner) {
  return std::string(levels, '[') + inner + std::string(levels, ']');
}

TEST(ConfigBounds, SelfReferencingAliasIsAConfigError) {
  // the reader registers an anchor before reading what it holds: each is a loop
  for (const char* loop : {"a: &a [*a]\n", "b: &b {c: *b}\n", "d: &d [1, [2, *d]]\n"}) {
    EXPECT_THROW(parse_yaml(loop, "exp.yaml"), ConfigError) << loop;
    std::string error = error_of([&] { parse_yaml(loop, "exp.yaml"); });
    EXPECT_THAT(error, HasSubstr("exp.yaml:1:")) << loop;
    EXPECT_THAT(error, HasSubstr("more than " + std::to_string(kMaxConfigDepth) + " levels"));
  }
  TempDir dir;
  dir.write("exp.yaml", experiment("global_vars:\n  a: &a [*a]\n"));
  Outcome outcome = validate(dir, "exp.yaml");
  expect_config_error(outcome, "exp.yaml:9:6: ");
  EXPECT_THAT(outcome.output, HasSubstr("nested too deeply"));
}

TEST(ConfigBounds, DeepNestingReachedThroughAliasesIsRefused) {
  // 40 anchors, each 450 levels as written (within the reader's bound) around the one before
  TempDir dir;
  std::string chain = "global_vars:\n  l0: &l0 " + nested(450, "1") + "\n";
  for (int i = 1; i < 40; ++i)
    chain += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " " +
             nested(450, "*l" + std::to_string(i - 1)) + "\n";
  dir.write("exp.yaml", experiment(chain));
  Outcome outcome = validate(dir, "exp.yaml");
  expect_config_error(outcome, "exp.yaml:");
  EXPECT_THAT(outcome.output,
              HasSubstr("nested too deeply: more than " + std::to_string(kMaxConfigDepth)));
}

TEST(ConfigBounds, DeepNestingReachedThroughCopiesIsRefused) {
  // 200 `${}` copies, each 450 levels as written around the one before: no alias, no cycle
  TempDir dir;
  std::string chain = "global_vars:\n  v0: " + nested(450, "1") + "\n";
  for (int i = 1; i < 200; ++i)
    chain += "  v" + std::to_string(i) + ": " +
             nested(450, "'${global_vars.v" + std::to_string(i - 1) + "}'") + "\n";
  dir.write("exp.yaml", experiment(chain));
  Outcome outcome = validate(dir, "exp.yaml");
  expect_config_error(outcome, "exp.yaml:");
  EXPECT_THAT(outcome.output, HasSubstr("levels deep through ${} copies of nested maps and lists"));
}

TEST(ConfigBounds, NestingThroughAliasesIsCountedUpToTheCap) {
  // the top map, `outer` lists, the alias's `inner` lists, then the value: kMaxConfigDepth levels
  size_t inner = (kMaxConfigDepth - 2) / 2, outer = kMaxConfigDepth - 2 - inner;
  auto text = [&](size_t outer_levels) {
    return "a: &a " + nested(inner, "1") + "\nb: " + nested(outer_levels, "*a") + "\n";
  };
  ConfigNode root = parse_yaml(text(outer), "exp.yaml");
  const ConfigNode* node = find_path(root, "b");
  for (size_t level = 0; level < outer + inner; ++level) node = &node->items.at(0);
  EXPECT_EQ(node->scalar, "1");
  EXPECT_THAT(error_of([&] { parse_yaml(text(outer + 1), "exp.yaml"); }),
              HasSubstr("more than " + std::to_string(kMaxConfigDepth) + " levels"));
}

TEST(ConfigBounds, CopyBillionLaughsIsRefused) {
  TempDir dir;
  std::string laughs = "global_vars:\n  l0: [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 9; ++i) {
    std::string prior = "'${global_vars.l" + std::to_string(i - 1) + "}'";
    laughs += "  l" + std::to_string(i) + ": [";
    for (int j = 0; j < 10; ++j) laughs += (j ? ", " : "") + prior;
    laughs += "]\n";
  }
  dir.write("exp.yaml", experiment(laughs));
  Outcome outcome = validate(dir, "exp.yaml");
  expect_config_error(outcome, "more than " + std::to_string(kMaxConfigNodes) + " values");
  EXPECT_THAT(outcome.output, HasSubstr("global_vars.l"));
}

//---- files: only regular YAML files, of bounded size ----

TEST(ConfigBounds, BaseFromDevZeroIsRefused) {
  TempDir dir;
  dir.write("exp.yaml", experiment("base: /dev/zero\n"));
  Outcome outcome = validate(dir, "exp.yaml");
  expect_config_error(outcome, "exp.yaml:8:7: base: /dev/zero is not a regular file");
}

TEST(ConfigBounds, FifoIsRefusedAsBaseAndAsExperiment) {
  TempDir dir;
  ASSERT_EQ(mkfifo((dir.path() / "pipe.yaml").c_str(), 0600), 0);
  dir.write("exp.yaml", experiment("base: pipe.yaml\n"));
  expect_config_error(validate(dir, "exp.yaml"), "pipe.yaml is not a regular file");
  expect_config_error(validate(dir, "pipe.yaml"), "pipe.yaml is not a regular file");
}

TEST(ConfigBounds, FolderIsNamedAsAFolder) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "configs");
  Outcome outcome = validate(dir, "configs");
  expect_config_error(outcome, "configs is a folder, not a YAML file");
  EXPECT_THAT(outcome.output, Not(HasSubstr("got empty")));
}

// the address space this process holds now, in bytes
size_t address_space_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0;
  statm >> pages;
  return pages * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

TEST(ConfigBounds, SmallFileIsReadInABufferOfItsOwnSize) {
  // a child allowed 8 MiB more address space than it holds reads a small file: a buffer sized
  // by the limit (16 MiB) would not fit there
  TempDir dir;
  auto file = dir.write("exp.yaml", experiment());
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    rlim_t room = address_space_bytes() + (8u << 20);
    rlimit limit{room, room};
    if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(5);
    try {
      _exit(load_yaml_file(file).find("experiment") ? 0 : 4);
    } catch (const std::bad_alloc&) {
      _exit(3);
    } catch (...) {
      _exit(4);
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: the read needed more than 8 MiB (std::bad_alloc)";
}

TEST(ConfigBounds, OversizedFileIsRefused) {
  TempDir dir;
  std::string padding(kMaxConfigFileBytes + 1, '#');
  dir.write("big.yaml", padding);
  dir.write("exp.yaml", experiment("base: big.yaml\n"));
  expect_config_error(validate(dir, "exp.yaml"), "big.yaml is larger than");
}

TEST(ConfigBounds, NonYamlBaseIsRefusedWithoutEchoingIt) {
  TempDir dir;
  dir.write("shadow", "root:$6$secrethash:20228:0:99999:7:::\ndaemon:*:20228:0:99999:7:::\n");
  dir.write("exp.yaml", experiment("base: shadow\n"));
  Outcome outcome = validate(dir, "exp.yaml");
  expect_config_error(outcome, "exp.yaml:8:7: base: ");
  EXPECT_THAT(outcome.output, HasSubstr("not a YAML file"));
  EXPECT_THAT(outcome.output, Not(HasSubstr("secrethash")));
  EXPECT_THAT(outcome.output, Not(HasSubstr("root:")));
}

TEST(ConfigBounds, BinaryYamlFileIsRefusedWithoutEchoingIt) {
  TempDir dir;
  dir.write("blob.yaml", std::string("secret: 1\n\x00\x01\x02\xff", 14));
  dir.write("exp.yaml", experiment("base: blob.yaml\n"));
  Outcome outcome = validate(dir, "exp.yaml");
  expect_config_error(outcome, "exp.yaml:8:7: base: blob.yaml holds binary data");
  EXPECT_THAT(outcome.output, Not(HasSubstr("secret")));
}

TEST(ConfigBounds, BasesListedOverAndOverAreCapped) {
  // each level names the one below ten times: 10^4 reads of b0.yaml
  TempDir dir;
  dir.write("b0.yaml", "global_vars: {x: 1}\n");
  for (int level = 1; level <= 4; ++level) {
    std::string below = "b" + std::to_string(level - 1) + ".yaml";
    std::string bases = "base: [";
    for (int i = 0; i < 10; ++i) bases += (i ? ", " : "") + below;
    dir.write("b" + std::to_string(level) + ".yaml", bases + "]\n");
  }
  dir.write("exp.yaml", experiment("base: b4.yaml\n"));
  expect_config_error(validate(dir, "exp.yaml"),
                      "base: more than " + std::to_string(kMaxBaseFiles) + " base files read");
}

//---- sizes: sweeps, counts, maps ----

TEST(ConfigBounds, HugeSweepIsRefusedBeforeExpanding) {
  TempDir dir;
  std::string values = "[";
  for (int i = 0; i < 1000; ++i) values += (i ? ", " : "") + std::to_string(i);
  values += "]";
  dir.write("exp.yaml", experiment("sweep:\n  seed: " + values + "\n  data.train.split_seed: " +
                                   values + "\n"));
  Outcome outcome = validate(dir, "exp.yaml");
  expect_config_error(outcome, "sweep: 1000000 points");
  EXPECT_THAT(outcome.output, HasSubstr("at most " + std::to_string(kMaxSweepPoints)));
}

TEST(ConfigBounds, SampleCountThatCannotBeEnumeratedIsRefused) {
  TempDir dir;
  std::string config = experiment();
  config.replace(config.find("samples: 8"), 10, "samples: 9223372036854775807");
  dir.write("exp.yaml", config);
  expect_config_error(validate(dir, "exp.yaml"), "data.train.params.samples: must be in [1, ");
}

TEST(ConfigBounds, ThreeHundredThousandKeyMapValidatesBeforeTheTimeout) {
  // a duplicate-key check that compares every pair would take minutes here (a 100,000-key map
  // took 22 s that way) and be stopped by the 20 s timeout; by hash it is a few seconds
  TempDir dir;
  std::string keys = "global_vars:\n";
  for (int i = 0; i < 300000; ++i) keys += "  k" + std::to_string(i) + ": " + std::to_string(i) + "\n";
  dir.write("exp.yaml", experiment(keys));
  Outcome outcome = validate(dir, "exp.yaml");
  EXPECT_EQ(outcome.code, 0) << outcome.output;
}

TEST(ConfigBounds, DuplicateKeyInALargeMapIsStillFound) {
  std::string keys;
  for (int i = 0; i < 50000; ++i) keys += "k" + std::to_string(i) + ": 1\n";
  keys += "k17: 2\n";
  EXPECT_THAT(error_of([&] { parse_yaml(keys, "exp.yaml"); }),
              HasSubstr("exp.yaml:50001:1: k17: duplicate key (first given at line 18)"));
}

//---- values: reals, subsets, fractions, names ----

TEST(ConfigBounds, RealsMustBeFinite) {
  Schema schema;
  schema.real("lr", 1e-3, "peak learning rate").at_least(0).reals("betas", {0.9, 0.99}, "betas");
  for (const char* bad : {"lr: .inf", "lr: .nan", "lr: -.inf", "lr: 1e999", "betas: [0.9, .inf]"}) {
    ConfigNode node = parse_yaml(bad, "exp.yaml");
    std::string error = error_of([&] { bind_params(schema, &node, "train", "t", {}); });
    EXPECT_THAT(error, HasSubstr("exp.yaml:1:")) << bad;
    EXPECT_THAT(error, HasSubstr("a finite number")) << bad;
  }
}

TEST(ConfigBounds, InfiniteLearningRateIsRefused) {
  TempDir dir;
  std::string config = experiment();
  config.replace(config.find("model: {plugin: copy_last}"), 26,
                 "model: {plugin: two_stream, params: {image_size: 16, patch: 8, dim: 16, depth: 1, "
                 "heads: 1, change_dim: 4, decoder_dim: 16, decoder_depth: 1, max_gap: 1}}");
  config.replace(config.find("procedure: ["), 12,
                 "procedure: [{train: {data: train, steps: 2, batch_size: 4, lr: .inf}}, ");
  dir.write("exp.yaml", config);
  expect_config_error(validate(dir, "exp.yaml"),
                      "procedure.0.train.lr: must be a finite number, got .inf");
}

TEST(ConfigBounds, SubsetZeroIsRefused) {
  TempDir dir;
  std::string config = experiment();
  config.replace(config.find("plugin: synthetic,"), 18, "plugin: synthetic, subset: 0,");
  dir.write("exp.yaml", config);
  expect_config_error(validate(dir, "exp.yaml"), "exp.yaml:4:38: data.train.subset: must be above 0");
}

TEST(ConfigBounds, FractionsNeedThreeShares) {
  TempDir dir;
  std::string config = experiment();
  config.replace(config.find("plugin: synthetic,"), 18,
                 "plugin: synthetic, split: test, fractions: [0.5, 0.5],");
  dir.write("exp.yaml", config);
  expect_config_error(validate(dir, "exp.yaml"),
                      "data.train.fractions: needs three shares (train, val, test), got 2");
}

TEST(ConfigBounds, ExperimentNamesThatAreNotFolderNamesAreRefused) {
  TempDir dir;
  for (const char* name : {"'..'", "'.'", "a/b", "\"tab\\there\"", "\"line\\nbreak\""}) {
    std::string config = experiment();
    config.replace(config.find("bounds"), 6, name);
    dir.write("exp.yaml", config);
    Outcome outcome = validate(dir, "exp.yaml");
    expect_config_error(outcome, "exp.yaml:1:13: experiment: ");
    EXPECT_THAT(outcome.output, HasSubstr("a folder name")) << name;
  }
}

TEST(ConfigBounds, MetricAndDataNamesWithSlashOrControlCharactersAreRefused) {
  TempDir dir;
  std::string config = experiment();
  config.replace(config.find("{plugin: psnr}"), 14, "{plugin: psnr, name: \"a/b\"}");
  dir.write("exp.yaml", config);
  expect_config_error(validate(dir, "exp.yaml"), "metrics.0.name: ");

  config = experiment();
  config.replace(config.find("  train:"), 8, "  \"tr\\x01ain\":");
  dir.write("exp.yaml", config);
  expect_config_error(validate(dir, "exp.yaml"), "control character");

  // the message names what is refused, and only that
  config = experiment();
  config.replace(config.find("  train:"), 8, "  \"a/b\":");
  dir.write("exp.yaml", config);
  Outcome outcome = validate(dir, "exp.yaml");
  expect_config_error(outcome, "data.a/b: the entry's name holds a '/'");
  EXPECT_THAT(outcome.output, HasSubstr("any name without '/' or control characters"));
  EXPECT_THAT(outcome.output, Not(HasSubstr("use letters, digits")));
}

//---- messages of wmhost, not of a library (stoul, bad file) ----

TEST(ConfigBounds, HugeListIndexOverrideIsAnUnknownKeyNotStoul) {
  TempDir dir;
  dir.write("exp.yaml", experiment());
  Outcome outcome = wmhost(dir, "validate exp.yaml metrics.99999999999999999999.plugin=x");
  expect_config_error(outcome, "metrics.99999999999999999999.plugin: unknown override key");
  EXPECT_THAT(outcome.output, Not(HasSubstr("stoul")));
}

TEST(ConfigBounds, HugeListIndexIsAnUnknownKeyNotStoul) {
  ConfigNode root = parse_yaml("metrics: [{plugin: psnr}]\n", "exp.yaml");
  EXPECT_EQ(find_path(root, "metrics.99999999999999999999.plugin"), nullptr);
  std::string error =
      error_of([&] { apply_override(root, "metrics.99999999999999999999.plugin=x", 3); });
  EXPECT_THAT(error, HasSubstr("unknown override key"));
  EXPECT_THAT(error_of([&] { apply_override(root, "+metrics.99999999999999999999.plugin=x", 3); }),
              Not(HasSubstr("stoul")));
}

TEST(ConfigBounds, HugeShardRangeIsRefusedNotStoll) {
  std::string error = error_of([] { io::expand_braces("shard-{0..99999999999999999999}.tar"); });
  EXPECT_THAT(error, HasSubstr("{0..99999999999999999999}"));
  EXPECT_THAT(error, Not(HasSubstr("stoll")));
  error = error_of([] { io::expand_braces("shard-{0..2000000}.tar"); });
  EXPECT_THAT(error, HasSubstr("names more than"));
  EXPECT_EQ(io::expand_braces("s-{08..10}.tar").size(), 3u);
}

TEST(ConfigBounds, HugeShardRangeInARunIsNamedNotStoll) {
  TempDir dir;
  std::string config = experiment();
  config.replace(config.find("{plugin: synthetic, params: {samples: 8, frames: 4, size: 16}}"), 62,
                 "{plugin: webdataset, params: {shards: 'x-{0..99999999999999999999}.tar'}}");
  dir.write("exp.yaml", config);
  Outcome outcome = wmhost(dir, "run exp.yaml");
  EXPECT_NE(outcome.code, 0);
  EXPECT_LT(outcome.code, 124) << outcome.output;  // an error, not a hang or a signal
  EXPECT_THAT(outcome.output, HasSubstr("{0..99999999999999999999}"));
  EXPECT_THAT(outcome.output, Not(HasSubstr("stoll")));
}

TEST(ConfigBounds, DeeplyNestedFileIsNamedNotBadFile) {
  TempDir dir;
  dir.write("exp.yaml", experiment("global_vars: {x: " + std::string(1000, '[') +
                                   std::string(1000, ']') + "}\n"));
  Outcome outcome = validate(dir, "exp.yaml");
  expect_config_error(outcome, "nested too deeply");
  EXPECT_THAT(outcome.output, Not(HasSubstr("bad file")));
}

TEST(ConfigBounds, DeepNestingIsNamedNotBadFile) {
  std::string text = "x: " + std::string(1000, '[') + std::string(1000, ']') + "\n";
  std::string error = error_of([&] { parse_yaml(text, "exp.yaml"); });
  EXPECT_THAT(error, HasSubstr("exp.yaml:1:"));
  EXPECT_THAT(error, HasSubstr("nested too deeply"));
  EXPECT_THAT(error, Not(HasSubstr("bad file")));
}

}  // namespace
}  // namespace wm
