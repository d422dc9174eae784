#include "cli.h"

#include <iomanip>
#include <iostream>
#include <optional>

#include "analysis/analysis.h"
#include "catalog.h"
#include "distributed.h"
#include "inspect.h"
#include "launch.h"
#include "options.h"
#include "plugin_registry.h"
#include "procedure.h"
#include "run_loop.h"
#include "score_command.h"
#include "wm/testing.h"
#include "wm/error.h"
#include "wm/log.h"

namespace wm {
namespace {

//---- experiments: run_loop.h ----

int command_validate(const Options& options, PluginRegistry& registry) {
  Plan plan = plan_experiment(options, registry);
  const Experiment& first = plan.experiments.front();
  std::cout << "ok: " << options.args[0] << " is valid: experiment '" << first.name << "', "
            << plan.experiments.size() << (plan.experiments.size() == 1 ? " run" : " runs")
            << ", steps:";
  for (const auto& step : first.procedures) std::cout << " " << step.procedure->name;
  std::cout << "\n";
  return 0;
}

//---- analysis of a finished run or sweep (analysis/analysis.h) ----

int command_analyze(const Options& options) {
  if (options.args.size() != 1)
    throw Error("analyze needs one run folder: wmhost analyze RUN_DIR [--config FILE]");
  return analysis::analyze(options.args[0], options.config);
}

//---- the catalog: plugins, procedures, transforms, sections (catalog.h) ----

int command_list(const Options& options, PluginRegistry& registry) {
  Catalog catalog(registry);
  std::optional<EntryKind> only;
  if (!options.args.empty()) {
    std::vector<std::string> kinds;
    for (EntryKind kind : entry_kinds()) {
      std::string plural = entry_kind_plural(kind);
      kinds.push_back(plural);
      if (options.args[0] == plural || options.args[0] == plural.substr(0, plural.size() - 1))
        only = kind;
    }
    if (!only)
      throw Error("unknown plugin kind '" + options.args[0] + "'" +
                  did_you_mean(options.args[0], kinds) + "; kinds: " + join(kinds));
  }
  for (EntryKind kind : entry_kinds()) {
    if (only && *only != kind) continue;
    auto entries = catalog.list(kind);
    std::cout << entry_kind_plural(kind) << ":\n";
    if (entries.empty()) std::cout << "  (none)\n";
    for (const Entry* entry : entries)
      std::cout << "  " << std::left << std::setw(18) << entry->name << std::setw(9)
                << entry->version << entry->summary << "\n";
  }
  for (const auto& broken : registry.broken())
    std::cerr << "warning: skipped " << broken.reason << "\n";
  return 0;
}

// one line per key, so it can be grepped: name, type, default, limits, doc; a long column
// pushes the next one right but never touches it. Nested maps and lists follow the typed keys.
void print_schema(const Schema& schema, const std::vector<NestedKey>& nested) {
  if (schema.params().empty() && nested.empty()) {
    std::cout << "  (no parameters)\n";
    return;
  }
  auto column = [](const std::string& text, size_t width) {
    return text + std::string(text.size() < width ? width - text.size() : 1, ' ');
  };
  for (const auto& spec : schema.params()) {
    std::string value = spec.default_value ? format_value(*spec.default_value) : "(required)";
    std::cout << "  " << column(spec.name, 20) << column(type_name(spec.type), 11)
              << column(value, 14) << column(describe_limits(spec), 16) << spec.doc << "\n";
  }
  for (const auto& key : nested)
    std::cout << "  " << column(key.name, 20) << column(key.shape, 11) << column("", 14)
              << column("", 16) << key.doc << "\n";
}

// what the entry is and where it comes from
void print_header(const Entry& entry) {
  std::cout << entry.name << " (" << entry_kind_name(entry.kind);
  if (const LoadedPlugin* plugin = entry.plugin()) {
    const wm_plugin_header& header = *plugin->header;
    std::cout << ", version " << header.version << ")\n  " << header.summary << "\n  file: "
              << plugin->file.string() << "\n  built with: wmsdk " << header.sdk_version
              << " (ABI " << header.sdk_abi << "), LibTorch " << header.torch_version << ", "
              << header.compiler << "\n";
    return;
  }
  if (entry.kind == EntryKind::Transform) std::cout << ", under data.<name>.transforms";
  if (entry.kind == EntryKind::Analysis) std::cout << ", under analysis:";
  if (entry.kind == EntryKind::Section) std::cout << " of the experiment file";
  std::cout << ")\n  " << entry.summary << "\n";
}

int command_describe(const Options& options, PluginRegistry& registry) {
  if (options.args.empty()) throw Error("describe needs a name: wmhost describe NAME");
  const std::string& name = options.args[0];
  Catalog catalog(registry);
  const Entry* entry = catalog.find(name);
  if (!entry)
    throw Error("nothing called '" + name + "'" + did_you_mean(name, catalog.names()) +
                "; `wmhost list` shows plugins, procedures, transforms and sections");
  print_header(*entry);
  bool keys = entry->kind == EntryKind::Section || entry->kind == EntryKind::Analysis;
  std::cout << (keys ? "keys:\n" : "parameters:\n");
  print_schema(entry->schema, entry->nested);
  return 0;
}

//---- contract checks (wm/testing.h) ----

int command_check(const Options& options) {
  if (options.args.empty()) throw Error("check needs a plugin: wmhost check NAME_OR_FILE.so");
  const std::string& plugin = options.args[0];
  testing::CheckOptions check;
  if (!options.params.empty()) check.params = options.params;
  if (!options.data.empty()) check.data = options.data, check.data_params = "{}";
  if (!options.data_params.empty()) check.data_params = options.data_params;
  if (!options.model.empty()) check.model = options.model;
  if (!options.model_params.empty()) check.model_params = options.model_params;
  for (const auto& dir : options.plugin_dirs) testing::add_plugin_path(dir);
  auto findings = testing::conformance(plugin, check);
  for (const auto& finding : findings) std::cout << plugin << ": " << finding << "\n";
  if (findings.empty()) {
    std::cout << plugin << ": every check passed\n";
    return 0;
  }
  std::cout << plugin << ": " << findings.size() << (findings.size() == 1 ? " check" : " checks")
            << " failed (docs/architecture.md lists the rules)\n";
  return 1;
}

}  // namespace

int run_cli(int argc, char** argv) {
  try {
    // everything after `launch` belongs to the launcher and the command it starts
    if (argc > 1 && std::string(argv[1]) == "launch") return launch({argv + 2, argv + argc});
    Options options = parse_options(argc, argv);
    if (options.verbose) log().set_level(spdlog::level::debug);
    if (options.version) {
      std::cout << "wmhost " << WM_SDK_VERSION << " (wmsdk ABI " << WM_SDK_ABI_VERSION
                << ", LibTorch " << WM_BUILD_TORCH_VERSION << ", " << WM_BUILD_COMPILER
                << ")\ndistributed: " << dist::backends_built() << "\n";
      return 0;
    }
    if (options.help || options.command.empty()) {
      std::cout << usage();
      return options.help ? 0 : 2;  // no command at all is a usage mistake
    }

    for (const auto& dir : options.plugin_dirs)
      if (!std::filesystem::is_directory(dir))
        throw Error("--plugin-path " + dir + ": no such folder");
    if (options.command == "check") return command_check(options);  // loads through the test kit
    if (options.command == "analyze") return command_analyze(options);  // needs no plugins
    PluginRegistry registry(PluginRegistry::default_search_path(options.plugin_dirs));
    if (options.command == "run")
      return run_plan(plan_experiment(options, registry), options, registry);
    if (options.command == "validate") return command_validate(options, registry);
    if (options.command == "inspect") return command_inspect(options, registry);
    if (options.command == "list") return command_list(options, registry);
    if (options.command == "describe") return command_describe(options, registry);
    if (options.command == "score") return command_score(options, registry);
    throw Error("unknown command '" + options.command + "'" +
                did_you_mean(options.command, {"run", "launch", "validate", "analyze", "inspect", "list", "describe", "check", "score"}) +
                "; commands: run, launch, validate, analyze, inspect, list, describe, check, score");
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << " (wmhost --help shows the options)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << user_message(e) << "\n";
    return 2;
  }
}

}  // namespace wm
