// Loading plugins: the handshake, broken libraries, lifetime.
#include <ATen/ATen.h>

#include <fstream>
#include <iterator>

#include "plugin_file.h"
#include "plugin_probe.h"
#include "test_support.h"
#include "wm/metric.h"
#include "wm/model.h"

namespace wm {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using test::error_of;

PluginRegistry broken(const std::string& which) {
  return PluginRegistry({std::string(WM_TEST_BROKEN_PLUGIN_DIR) + "/" + which});
}

TEST(PluginLoading, FindsEveryKindInTheBuildTree) {
  for (Kind kind : {Kind::Dataset, Kind::Model, Kind::Env, Kind::Metric})
    EXPECT_FALSE(test::plugins().list(kind).empty()) << kind_plural(kind);
  EXPECT_TRUE(test::plugins().broken().empty());
}

TEST(PluginLoading, RefusesAnotherSdkAbiNamingFileAndBothVersions) {
  PluginRegistry registry = broken("abi_mismatch");
  ASSERT_EQ(registry.broken().size(), 1u);
  EXPECT_THAT(registry.broken()[0].reason, HasSubstr("wm_future_metric.so: built for wmsdk ABI 999, "
                                                     "this wmhost speaks " +
                                                     std::to_string(WM_SDK_ABI_VERSION)));
  // asking for it by name gives the same reason, not "unknown"
  EXPECT_THAT(error_of([&] { registry.get(Kind::Metric, "future_metric"); }),
              HasSubstr("built for wmsdk ABI 999"));
}

TEST(PluginLoading, UnresolvedSymbolFailsAtLoadNotAtFirstCall) {
  PluginRegistry registry = broken("unresolved");
  ASSERT_EQ(registry.broken().size(), 1u);
  EXPECT_THAT(registry.broken()[0].reason, HasSubstr("wm_lazy_metric.so: cannot load"));
  EXPECT_THAT(registry.broken()[0].reason, HasSubstr("undefined symbol"));
  EXPECT_THAT(registry.broken()[0].reason, HasSubstr("wm_test_function_that_does_not_exist"));
}

TEST(PluginLoading, LibraryWithoutHandshakeIsNotAPlugin) {
  PluginRegistry registry = broken("not_a_plugin");
  ASSERT_EQ(registry.broken().size(), 1u);
  EXPECT_THAT(registry.broken()[0].reason,
              HasSubstr("wm_stray.so: not a wmhost plugin (it exports no wm_plugin_header_v1"));
}

TEST(PluginLoading, DuplicateNameIsAnErrorNamingBothFiles) {
  PluginRegistry registry = broken("duplicate");
  std::string error = error_of([&] { registry.get(Kind::Metric, "twin"); });
  EXPECT_THAT(error, HasSubstr("duplicate plugin name 'twin'"));
  EXPECT_THAT(error, HasSubstr("wm_twin_a.so"));
  EXPECT_THAT(error, HasSubstr("wm_twin_b.so"));
}

TEST(PluginLoading, RefusesAnotherToolboxVersionBeforeLoading) {
  PluginRegistry registry = broken("toolbox_mismatch");
  ASSERT_EQ(registry.broken().size(), 1u);
  EXPECT_THAT(registry.broken()[0].reason,
              HasSubstr("wm_old_io_metric.so: built against toolbox wm::io version 99, this wmhost "
                        "ships version 1 (libwmsdk_io.so.1); rebuild the plugin"));
}

// a copy of a real plugin, cut or patched
std::filesystem::path damaged_copy(const test::TempDir& dir, size_t keep_bytes, int machine = -1) {
  std::ifstream in(std::string(WM_TEST_BROKEN_PLUGIN_DIR) + "/good/wm_sample_metric.so", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bytes.resize(std::min(bytes.size(), keep_bytes));
  if (machine >= 0) bytes[18] = static_cast<char>(machine);  // e_machine, little-endian low byte
  auto file = dir.path() / "plugins" / "wm_damaged.so";
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary).write(bytes.data(), bytes.size());
  return file;
}

TEST(PluginLoading, TruncatedCopyIsRefusedWithoutLoadingIt) {
  test::TempDir dir;
  for (size_t keep : {size_t(12000), size_t(40000), size_t(100)}) {
    damaged_copy(dir, keep);
    PluginRegistry registry({dir.path() / "plugins"});
    ASSERT_EQ(registry.broken().size(), 1u) << keep;
    EXPECT_THAT(registry.broken()[0].reason, HasSubstr("wm_damaged.so: truncated")) << keep;
  }
}

#if defined(__x86_64__)
TEST(PluginLoading, LibraryForAnotherMachineSaysSo) {
  test::TempDir dir;
  damaged_copy(dir, size_t(-1), /*EM_AARCH64=*/183);
  PluginRegistry registry({dir.path() / "plugins"});
  ASSERT_EQ(registry.broken().size(), 1u);
  EXPECT_THAT(registry.broken()[0].reason, HasSubstr("wm_damaged.so: built for aarch64, this machine is x86-64"));
}
#endif

#if defined(__x86_64__)
TEST(PluginLoading, LibraryForAnotherMachineNamedInAYamlSaysSo) {
  test::TempDir dir;
  auto file = damaged_copy(dir, size_t(-1), /*EM_AARCH64=*/183);
  PluginRegistry registry({});
  EXPECT_THAT(error_of([&] { registry.load_file(file); }),
              HasSubstr("wm_damaged.so: built for aarch64, this machine is x86-64"));
}
#endif

//---- no plugin code before the checks; code that kills its process is skipped ----

TEST(PluginLoading, HeaderIsReadFromTheFileWithoutLoadingIt) {
  auto info = read_plugin_file(std::string(WM_TEST_BROKEN_PLUGIN_DIR) + "/good/wm_sample_metric.so");
  ASSERT_TRUE(info.header.has_value());
  EXPECT_EQ(info.header->magic, WM_PLUGIN_MAGIC);
  EXPECT_EQ(info.header->header_size, sizeof(wm_plugin_header));
  EXPECT_EQ(info.header->sdk_abi, unsigned(WM_SDK_ABI_VERSION));
  EXPECT_EQ(info.header->name, "sample_metric");
  EXPECT_EQ(info.header->kind, "metric");
  EXPECT_EQ(info.header->version, "0.0.1");
  EXPECT_EQ(info.header->sdk_version, WM_SDK_VERSION);
  EXPECT_EQ(info.header->torch_version, WM_BUILD_TORCH_VERSION);
  // and for every plugin of the build tree, it agrees with the header the loader relocated
  for (Kind kind : {Kind::Dataset, Kind::Model, Kind::Env, Kind::Metric})
    for (const LoadedPlugin* plugin : test::plugins().list(kind)) {
      auto file = read_plugin_file(plugin->file);
      ASSERT_TRUE(file.header.has_value()) << plugin->file;
      EXPECT_EQ(file.header->name, plugin->header->name);
      EXPECT_EQ(file.header->version, plugin->header->version);
      EXPECT_EQ(file.header->compiler, plugin->header->compiler);
    }
  // a library without the handshake has no header
  EXPECT_FALSE(read_plugin_file(std::string(WM_TEST_BROKEN_PLUGIN_DIR) + "/not_a_plugin/wm_stray.so")
                   .header.has_value());
}

TEST(PluginLoading, LibraryWithoutHandshakeNeverRunsItsCode) {
  // its static constructor aborts: refused from the file, so this process lives on
  PluginRegistry registry = broken("stray_abort");
  ASSERT_EQ(registry.broken().size(), 1u);
  EXPECT_THAT(registry.broken()[0].reason,
              HasSubstr("wm_stray_abort.so: not a wmhost plugin (it exports no wm_plugin_header_v1"));
  PluginRegistry by_path({});
  EXPECT_THAT(error_of([&] {
                by_path.load_file(std::string(WM_TEST_BROKEN_PLUGIN_DIR) +
                                  "/stray_abort/wm_stray_abort.so");
              }),
              HasSubstr("not a wmhost plugin"));
}

TEST(PluginLoading, AbortingStaticConstructorIsSkippedNamingTheFile) {
  std::string dir = WM_TEST_BROKEN_PLUGIN_DIR;
  PluginRegistry registry({dir + "/aborting", dir + "/good"});
  ASSERT_EQ(registry.broken().size(), 1u);
  const std::string& reason = registry.broken()[0].reason;
  EXPECT_THAT(reason, HasSubstr("wm_aborting_metric.so: its code crashed while loading: SIGABRT"));
  EXPECT_THAT(reason, HasSubstr("it printed: aborting_metric: cannot find its license file"));
  EXPECT_THAT(reason, HasSubstr("remove it from the plugin folder, or rebuild it"));
  // the others load, and asking for it by name gives the reason
  EXPECT_NO_THROW(registry.get(Kind::Metric, "sample_metric"));
  EXPECT_THAT(error_of([&] { registry.get(Kind::Metric, "aborting_metric"); }), HasSubstr("SIGABRT"));
  // named by path in a YAML: an error, not the end of the process
  PluginRegistry by_path({});
  EXPECT_THAT(error_of([&] { by_path.load_file(dir + "/aborting/wm_aborting_metric.so"); }),
              HasSubstr("wm_aborting_metric.so: its code crashed while loading: SIGABRT"));
}

TEST(PluginLoading, StaticConstructorEndingTheProcessWithStatusZeroIsSkipped) {
  std::string dir = WM_TEST_BROKEN_PLUGIN_DIR;
  PluginRegistry registry({dir + "/exiting", dir + "/good"});
  ASSERT_EQ(registry.broken().size(), 1u);
  EXPECT_THAT(registry.broken()[0].reason,
              HasSubstr("wm_exiting_metric.so: its code ended the process while loading (exit 0)"));
  EXPECT_NO_THROW(registry.get(Kind::Metric, "sample_metric"));
}

TEST(PluginLoading, HangingStaticConstructorIsKilledAfterItsTimeAndSkipped) {
  std::string dir = WM_TEST_BROKEN_PLUGIN_DIR;
  std::vector<std::filesystem::path> files = {dir + "/hanging/wm_hanging_metric.so",
                                              dir + "/good/wm_sample_metric.so"};
  // returns at all only when the child stuck in the constructor is killed
  auto probes = probe_plugin_files(files, 2);
  ASSERT_EQ(probes.size(), 2u);
  EXPECT_THAT(probes[0].failure, HasSubstr("did not finish loading within 2"));
  EXPECT_EQ(probes[1].failure, "") << "the file after the hanging one is probed in a new child";
}

TEST(PluginLoading, SymlinkLoopAndDanglingLinkAreSkipped) {
  test::TempDir dir;
  auto plugins = dir.path() / "plugins";
  std::filesystem::create_directories(plugins);
  std::filesystem::create_symlink("wm_loop.so", plugins / "wm_loop.so");
  std::filesystem::create_symlink("wm_a.so", plugins / "wm_b.so");
  std::filesystem::create_symlink("wm_b.so", plugins / "wm_a.so");
  std::filesystem::create_symlink("/nonexistent/wm_gone.so", plugins / "wm_gone.so");
  std::filesystem::create_symlink(std::string(WM_TEST_BROKEN_PLUGIN_DIR) + "/good/wm_sample_metric.so",
                                  plugins / "wm_sample_metric.so");
  PluginRegistry registry({plugins});
  EXPECT_NO_THROW(registry.get(Kind::Metric, "sample_metric"));
  std::string reasons;
  for (const auto& broken : registry.broken()) reasons += broken.reason + "\n";
  EXPECT_EQ(registry.broken().size(), 4u) << reasons;
  EXPECT_THAT(reasons, HasSubstr("wm_loop.so: cannot resolve the file"));
  EXPECT_THAT(reasons, HasSubstr("wm_a.so: cannot resolve the file"));
  EXPECT_THAT(reasons, HasSubstr("wm_gone.so: a link to a file that does not exist"));
}

TEST(PluginLoadingCli, CommandsSurviveAPluginFolderWithAnAbortingLibrary) {
  test::TempDir dir;
  std::string broken_dir = WM_TEST_BROKEN_PLUGIN_DIR;
  int code = 0;
  std::string output = test::run_wmhost("list metrics --plugin-path " + broken_dir +
                                            "/aborting --plugin-path " + broken_dir + "/stray_abort",
                                        dir.path(), code, 120);
  EXPECT_EQ(code, 0) << output;
  EXPECT_THAT(output, HasSubstr("psnr"));
  EXPECT_THAT(output, HasSubstr("wm_aborting_metric.so: its code crashed while loading: SIGABRT"));
  EXPECT_THAT(output, HasSubstr("wm_stray_abort.so: not a wmhost plugin"));
  EXPECT_THAT(output, Not(HasSubstr("this library's code ran")));
}

TEST(PluginLoadingCli, ValidatingAYamlThatNamesANonPluginLibraryRunsNoCodeOfIt) {
  test::TempDir dir;
  std::string stray = std::string(WM_TEST_BROKEN_PLUGIN_DIR) + "/stray_abort/wm_stray_abort.so";
  dir.write("exp.yaml", "experiment: foreign\nseed: 1\nthreads: 1\n"
                        "data: {train: {plugin: synthetic, params: {samples: 4}}}\n"
                        "model: {plugin: copy_last}\n"
                        "metrics: [{plugin: " + stray + "}]\n"
                        "procedure: [evaluate: {data: train}]\n");
  int code = 0;
  std::string output = test::run_wmhost("validate exp.yaml", dir.path(), code, 120);
  EXPECT_EQ(code, 2) << output;
  EXPECT_THAT(output, HasSubstr("wm_stray_abort.so: not a wmhost plugin"));
  EXPECT_THAT(output, Not(HasSubstr("this library's code ran")));
}

TEST(PluginLoading, MissingFileIsNamed) {
  PluginRegistry registry({});
  EXPECT_THAT(error_of([&] { registry.load_file("/nonexistent/wm_gone.so"); }),
              HasSubstr("/nonexistent/wm_gone.so: no such plugin file"));
}

TEST(PluginLoading, ThrowingConstructorNamesPluginAndYamlPath) {
  PluginRegistry registry = broken("throwing");
  const LoadedPlugin& plugin = registry.get(Kind::Model, "fragile_model");
  Params params;
  params.set("weights", std::string("/models/w.pt"));
  EXPECT_EQ(error_of([&] { registry.create<Model>(plugin, params, "model at exp.yaml:4:3"); }),
            "model plugin 'fragile_model' (model at exp.yaml:4:3) failed to start: cannot open "
            "weights '/models/w.pt'");
}

TEST(PluginLoading, ObjectsKeepTheirLibraryLoaded) {
  std::shared_ptr<Metric> metric;
  {
    PluginRegistry registry = broken("good");
    const LoadedPlugin& plugin = registry.get(Kind::Metric, "sample_metric");
    Params params;
    params.set("scale", 2.0);
    metric = registry.create<Metric>(plugin, params, "test");
  }  // the registry and its handles are gone; the object must still work
  metric->reset();
  metric->update({{"prediction", at::ones({3})}});
  EXPECT_DOUBLE_EQ(metric->compute().at("sum"), 6.0);
}

TEST(PluginLoading, ExplicitFileLoadsByPath) {
  PluginRegistry registry({});
  const LoadedPlugin& plugin = registry.load_file(std::string(WM_TEST_BROKEN_PLUGIN_DIR) +
                                                  "/good/wm_sample_metric.so");
  EXPECT_EQ(plugin.name(), "sample_metric");
  EXPECT_EQ(plugin.kind(), Kind::Metric);
  EXPECT_STREQ(plugin.header->version, "0.0.1");
}

}  // namespace
}  // namespace wm
