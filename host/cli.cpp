#include "cli.h"

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <optional>
#include <set>

#include "config_resolve.h"
#include "experiment.h"
#include "plugin_registry.h"
#include "procedure.h"
#include "run.h"
#include "sweep.h"
#include "wm/atomic_file.h"
#include "wm/log.h"
#include "wm/suggest.h"

namespace wm {
namespace {

const char* kUsage =
    "usage: wmhost <command> [options]\n"
    "\n"
    "commands:\n"
    "  run EXP.yaml [key.path=value ...]   run an experiment (or every point of its sweep)\n"
    "  validate EXP.yaml [key=value ...]   check an experiment without running it\n"
    "  list [datasets|models|envs|metrics] list the plugins found\n"
    "  describe NAME                       a plugin's, procedure's or transform's parameters\n"
    "\n"
    "overrides: key.path=value sets an existing key, +key.path=value adds one\n"
    "exit codes: 0 ok, 1 a run failed, 2 bad usage or experiment, 3 a run stopped early\n";

struct Options {
  std::string command;
  std::vector<std::string> args;
  std::vector<std::string> plugin_dirs;
  std::string out;
  bool dry_run = false;
  bool help = false, version = false;  // asked for
};

//---- resolving an experiment into its runs ----

struct Plan {
  std::vector<SweepPoint> points;
  std::vector<Experiment> experiments;  // one per point, all validated
  bool is_sweep = false;
};

Plan plan_experiment(const Options& options, PluginRegistry& registry) {
  if (options.args.empty()) throw Error("missing experiment file: wmhost " + options.command +
                                        " EXP.yaml [key.path=value ...]");
  ConfigNode root = load_experiment(options.args[0]);
  for (size_t i = 1; i < options.args.size(); ++i)
    // position on the command line after `wmhost`: the command is 1, the file 2
    apply_override(root, options.args[i], static_cast<int>(i) + 2);

  Plan plan;
  ConfigNode sweep;
  if (const ConfigNode* block = root.find("sweep")) {
    sweep = *block;
    plan.is_sweep = true;
    root.erase("sweep");
  }
  plan.points = expand_sweep(plan.is_sweep ? &sweep : nullptr);
  for (const auto& point : plan.points) {
    ConfigNode config = root;
    for (const auto& [key, value] : point.values) set_value(config, key, value);
    interpolate(config);
    plan.experiments.push_back(validate_experiment(config, registry));
  }
  return plan;
}

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

bool wants_resume(const Experiment& experiment) {
  for (const auto& step : experiment.procedures)
    if (step.params.has("resume") && step.params.get<bool>("resume")) return true;
  return false;
}

// a run directory that was killed, failed or stopped early: it has a config but no ok status
bool unfinished_run(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir / "config.yaml")) return false;
  RunOutcome finished;
  return !read_finished(dir, finished);
}

// with `resume: true`: the --out folder, or else the newest unfinished run of the experiment
std::filesystem::path resumable_dir(const Options& options, const Experiment& experiment) {
  if (!options.out.empty()) return unfinished_run(options.out) ? options.out : "";
  auto runs = std::filesystem::path("runs") / experiment.name;
  if (!std::filesystem::is_directory(runs)) return "";
  std::vector<std::filesystem::path> dirs;
  for (const auto& entry : std::filesystem::directory_iterator(runs))
    if (entry.is_directory()) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it)
    if (unfinished_run(*it)) return *it;
  return "";
}

int command_run(const Options& options, PluginRegistry& registry) {
  Plan plan = plan_experiment(options, registry);
  if (options.dry_run) {
    for (size_t i = 0; i < plan.points.size(); ++i) {
      if (plan.is_sweep) std::cout << "# sweep point " << plan.points[i].name << "\n";
      std::cout << to_yaml(plan.experiments[i].resolved);
      if (i + 1 < plan.points.size()) std::cout << "---\n";
    }
    std::cerr << "dry run: " << plan.points.size()
              << (plan.points.size() == 1 ? " run" : " runs") << " validated, nothing written\n";
    return 0;
  }

  const std::string& name = plan.experiments.front().name;
  std::filesystem::path root;
  std::filesystem::path resume = plan.is_sweep || !wants_resume(plan.experiments.front())
                                     ? std::filesystem::path()
                                     : resumable_dir(options, plan.experiments.front());
  if (!resume.empty()) {
    root = resume;
    log().info("resuming the unfinished run in {}", root.string());
  } else if (options.out.empty()) {
    root = make_unique_dir(std::filesystem::path("runs") / name, utc_timestamp());
  } else {
    root = options.out;
    bool resumable = plan.is_sweep && std::filesystem::exists(root / "sweep.yaml");
    if (std::filesystem::exists(root) && !std::filesystem::is_empty(root) && !resumable)
      throw Error("--out " + root.string() + " exists and is not empty; choose a new folder");
    std::filesystem::create_directories(root);
  }

  if (!plan.is_sweep) {
    RunOutcome outcome = execute_run(plan.experiments.front(), registry, root);
    if (outcome.stopped) {
      std::cout << "run stopped: " << root.string() << "\n  continue it with resume: true and --out "
                << root.string() << "\n";
      return 3;
    }
    if (!outcome.ok) {
      std::cerr << "error: run failed: " << outcome.error << "\n  see " << (root / "log.txt").string()
                << "\n";
      return 1;
    }
    std::cout << "run finished: " << root.string() << "\n";
    return 0;
  }

  write_file_atomic(root / "sweep.yaml", to_yaml(plan.experiments.front().resolved));
  std::vector<RunOutcome> outcomes;
  int failures = 0;
  for (size_t i = 0; i < plan.points.size(); ++i) {
    const auto& point = plan.points[i];
    RunOutcome outcome;
    if (read_finished(root / point.name, outcome)) {
      log().info("sweep point {}/{} {}: finished earlier, skipped", i + 1, plan.points.size(),
                 point.name);
    } else {
      log().info("sweep point {}/{}: {}", i + 1, plan.points.size(), point.name);
      std::filesystem::remove_all(root / point.name);  // an interrupted attempt starts over
      outcome = execute_run(plan.experiments[i], registry, root / point.name);
    }
    failures += outcome.ok ? 0 : 1;
    outcomes.push_back(std::move(outcome));
    write_summary(root, std::vector<SweepPoint>(plan.points.begin(), plan.points.begin() + i + 1),
                  outcomes);
  }
  std::cout << "sweep finished: " << plan.points.size() - failures << "/" << plan.points.size()
            << " runs ok; summary: " << (root / "summary.md").string() << "\n";
  return failures ? 1 : 0;
}

//---- plugins ----

int command_list(const Options& options, PluginRegistry& registry) {
  std::optional<Kind> only;
  if (!options.args.empty()) {
    std::vector<std::string> kinds;
    for (Kind kind : {Kind::Dataset, Kind::Model, Kind::Env, Kind::Metric}) {
      kinds.push_back(kind_plural(kind));
      if (options.args[0] == kind_plural(kind) || options.args[0] == kind_name(kind)) only = kind;
    }
    if (!only)
      throw Error("unknown plugin kind '" + options.args[0] + "'" +
                  did_you_mean(options.args[0], kinds) + "; kinds: " + join(kinds));
  }
  for (Kind kind : {Kind::Dataset, Kind::Model, Kind::Env, Kind::Metric}) {
    if (only && *only != kind) continue;
    auto plugins = registry.list(kind);
    std::cout << kind_plural(kind) << ":\n";
    if (plugins.empty()) std::cout << "  (none)\n";
    for (const auto* plugin : plugins)
      std::cout << "  " << std::left << std::setw(18) << plugin->name() << std::setw(9)
                << plugin->info->version << plugin->info->summary << "\n";
  }
  for (const auto& broken : registry.broken())
    std::cerr << "warning: skipped " << broken.reason << "\n";
  return 0;
}

void print_schema(const Schema& schema) {
  if (schema.params().empty()) {
    std::cout << "  (no parameters)\n";
    return;
  }
  // one line per parameter, so it can be grepped: name, type, default, limits, doc; a long
  // column pushes the next one right but never touches it
  auto column = [](const std::string& text, size_t width) {
    return text + std::string(text.size() < width ? width - text.size() : 1, ' ');
  };
  for (const auto& spec : schema.params()) {
    std::string value = spec.default_value ? format_value(*spec.default_value) : "(required)";
    std::cout << "  " << column(spec.name, 20) << column(type_name(spec.type), 11)
              << column(value, 14) << column(describe_limits(spec), 16) << spec.doc << "\n";
  }
}

int command_describe(const Options& options, PluginRegistry& registry) {
  if (options.args.empty()) throw Error("describe needs a name: wmhost describe NAME");
  const std::string& name = options.args[0];
  if (const LoadedPlugin* plugin = registry.find(name)) {
    const wm_plugin_header& header = *plugin->header;
    std::cout << plugin->name() << " (" << kind_name(plugin->kind()) << " plugin, version "
              << header.version << ")\n  " << header.summary << "\n  file: "
              << plugin->file.string() << "\n  built with: wmsdk " << header.sdk_version
              << " (ABI " << header.sdk_abi << "), LibTorch " << header.torch_version << ", "
              << header.compiler << "\nparameters:\n";
    print_schema(plugin->schema);
    return 0;
  }
  if (const Procedure* procedure = find_procedure(name)) {
    std::cout << name << " (procedure)\n  " << procedure->summary << "\nparameters:\n";
    print_schema(procedure->schema());
    return 0;
  }
  if (const TransformKind* transform = find_transform_kind(name)) {
    std::cout << name << " (transform, under data.<name>.transforms)\n  " << transform->summary
              << "\nparameters:\n";
    print_schema(transform->schema());
    return 0;
  }
  std::vector<std::string> known;
  for (const auto* plugin : registry.list()) known.push_back(plugin->name());
  for (const auto& procedure : procedures()) known.push_back(procedure.name);
  for (const auto& transform : transform_kinds()) known.push_back(transform.name);
  throw Error("nothing called '" + name + "'" + did_you_mean(name, known) +
              "; `wmhost list` shows the plugins, procedures are: " +
              join([] {
                std::vector<std::string> names;
                for (const auto& p : procedures()) names.push_back(p.name);
                return names;
              }()));
}

// a mistake on the command line itself (exit code 2, with a pointer to --help)
struct UsageError : Error {
  using Error::Error;
};

struct OptionSpec {
  std::string name;   // --name
  char letter;        // -l, or 0
  const char* value;  // how --help names the value (DIR), or nullptr for a switch
  const char* help;
};

const std::vector<OptionSpec>& option_specs() {
  static const std::vector<OptionSpec> specs = {
      {"help", 'h', nullptr, "show this help"},
      {"version", 0, nullptr, "print versions and exit"},
      {"plugin-path", 'p', "DIR",
       "extra folder to search for plugins (repeatable; also WMHOST_PLUGIN_PATH)"},
      {"out", 'o', "DIR", "run directory (default runs/<experiment>/<time>)"},
      {"dry-run", 'n', nullptr, "resolve and validate, print, write nothing"},
      {"verbose", 'v', nullptr, "log debug details"}};
  return specs;
}

void print_usage() {
  std::cout << kUsage << "\noptions:\n";
  for (const auto& spec : option_specs()) {
    std::string flags = std::string(spec.letter ? std::string("-") + spec.letter + ", " : "    ") +
                        "--" + spec.name + (spec.value ? std::string(" ") + spec.value : "");
    std::cout << "  " << std::left << std::setw(24) << flags << spec.help << "\n";
  }
}

// Options may come anywhere among the command and its arguments; `--` ends them. Values follow
// as `--out DIR`, `--out=DIR`, `-o DIR` or `-oDIR`; switches group (`-nv`). Names are not
// abbreviated, and an option taking one value may appear once.
Options parse_options(int argc, char** argv) {
  Options options;
  bool verbose = false, only_arguments = false;
  std::vector<std::string> positional;
  std::set<std::string> seen;
  // applies one option; `attached` is a value written into the same word
  auto apply = [&](const OptionSpec& spec, std::optional<std::string> attached, int& i) {
    std::string shown = "--" + spec.name;
    if (!spec.value && attached) throw UsageError(shown + " takes no value");
    std::string value;
    if (spec.value) {
      bool next_is_value = i + 1 < argc && (argv[i + 1][0] != '-' || argv[i + 1][1] == '\0');
      if (!attached && !next_is_value)
        throw UsageError(shown + " needs a value: " + shown + " " + spec.value +
                         " (a value starting with '-' as " + shown + "=VALUE)");
      value = attached ? *attached : argv[++i];
      if (spec.name != "plugin-path" && !seen.insert(spec.name).second)
        throw UsageError(shown + " is given twice");
    }
    if (spec.name == "help") options.help = true;
    if (spec.name == "version") options.version = true;
    if (spec.name == "plugin-path") options.plugin_dirs.push_back(value);
    if (spec.name == "out") options.out = value;
    if (spec.name == "dry-run") options.dry_run = true;
    if (spec.name == "verbose") verbose = true;
  };
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (only_arguments || word.size() < 2 || word[0] != '-') {
      positional.push_back(word);
    } else if (word == "--") {
      only_arguments = true;
    } else if (word[1] == '-') {
      std::string name = word.substr(2);
      std::optional<std::string> attached;
      if (auto equals = name.find('='); equals != std::string::npos)
        attached = name.substr(equals + 1), name.resize(equals);
      auto spec = std::find_if(option_specs().begin(), option_specs().end(),
                               [&](const OptionSpec& candidate) { return candidate.name == name; });
      if (spec == option_specs().end()) {
        std::vector<std::string> names;
        for (const auto& candidate : option_specs()) names.push_back("--" + candidate.name);
        throw UsageError("unknown option '--" + name + "'" + did_you_mean("--" + name, names));
      }
      apply(*spec, attached, i);
    } else {
      // -l, grouped switches -lm, or a value written on: -lVALUE
      for (size_t at = 1; at < word.size(); ++at) {
        auto spec = std::find_if(
            option_specs().begin(), option_specs().end(),
            [&](const OptionSpec& candidate) { return candidate.letter == word[at]; });
        if (spec == option_specs().end())
          throw UsageError("unknown option '-" + word.substr(at, 1) + "'");
        if (spec->value && at + 1 < word.size()) {
          apply(*spec, word.substr(at + 1), i);
          break;
        }
        apply(*spec, std::nullopt, i);
      }
    }
  }
  if (!positional.empty()) {
    options.command = positional.front();
    options.args.assign(positional.begin() + 1, positional.end());
  }
  if (verbose) log().set_level(spdlog::level::debug);
  return options;
}

}  // namespace

int run_cli(int argc, char** argv) {
  try {
    Options options = parse_options(argc, argv);
    if (options.version) {
      std::cout << "wmhost " << WM_SDK_VERSION << " (wmsdk ABI " << WM_SDK_ABI_VERSION
                << ", LibTorch " << WM_BUILD_TORCH_VERSION << ", " << WM_BUILD_COMPILER << ")\n";
      return 0;
    }
    if (options.help || options.command.empty()) {
      print_usage();
      return options.help ? 0 : 2;  // no command at all is a usage mistake
    }

    for (const auto& dir : options.plugin_dirs)
      if (!std::filesystem::is_directory(dir))
        throw Error("--plugin-path " + dir + ": no such folder");
    PluginRegistry registry(PluginRegistry::default_search_path(options.plugin_dirs));
    if (options.command == "run") return command_run(options, registry);
    if (options.command == "validate") return command_validate(options, registry);
    if (options.command == "list") return command_list(options, registry);
    if (options.command == "describe") return command_describe(options, registry);
    throw Error("unknown command '" + options.command + "'" +
                did_you_mean(options.command, {"run", "validate", "list", "describe"}) +
                "; commands: run, validate, list, describe");
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << " (wmhost --help shows the options)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << user_message(e) << "\n";
    return 2;
  }
}

}  // namespace wm
