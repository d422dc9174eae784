// Loading plugins: the handshake, broken libraries, lifetime.
#include <ATen/ATen.h>

#include <fstream>
#include <iterator>

#include "test_support.h"
#include "wm/metric.h"
#include "wm/model.h"

namespace wm {
namespace {

using ::testing::HasSubstr;
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
