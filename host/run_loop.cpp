#include "run_loop.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "analysis/analysis.h"
#include "config_resolve.h"
#include "distributed.h"
#include "run.h"
#include "run_config.h"
#include "run_lock.h"
#include "run_signals.h"
#include "runtime.h"
#include "wm/io/atomic_file.h"
#include "wm/io/json.h"
#include "wm/log.h"

namespace wm {
namespace {

//---- which folder ----

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

// the folder the plan writes into: the run to resume, --out, or a new runs/<experiment>/<time>
std::filesystem::path run_root(const Plan& plan, const Options& options) {
  const Experiment& first = plan.experiments.front();
  std::filesystem::path resume =
      plan.is_sweep || !wants_resume(first) ? std::filesystem::path() : resumable_dir(options, first);
  if (!resume.empty()) {
    log().info("resuming the unfinished run in {}", resume.string());
    return resume;
  }
  if (options.out.empty())
    return make_unique_dir(std::filesystem::path("runs") / first.name, utc_timestamp());
  std::filesystem::path root = options.out;
  bool resumable = plan.is_sweep && std::filesystem::exists(root / "sweep.yaml");
  if (std::filesystem::exists(root) && !std::filesystem::is_empty(root) && !resumable)
    throw Error("--out " + root.string() + " exists and is not empty; choose a new folder");
  std::filesystem::create_directories(root);
  return root;
}

// The ranks of a distributed run share rank 0's folder: rank 0 chooses it and leaves a token
// file in it; every other rank must read that token there (the folder is on a filesystem all
// nodes share), then rank 0 removes it.
std::filesystem::path shared_run_root(const Plan& plan, const Options& options, dist::Group& group) {
  if (!group.active()) return run_root(plan, options);
  const std::string token_file = ".wmhost-ranks";
  if (group.rank() == 0) {
    std::filesystem::path root;
    std::string token = std::to_string(::getpid()) + "-" + utc_now("%Y%m%d%H%M%S");
    try {
      root = std::filesystem::absolute(run_root(plan, options));
      io::write_file_atomic(root / token_file, token);
    } catch (const std::exception& e) {
      group.set("run/root", "error\n" + user_message(e));
      throw;
    }
    group.set("run/root", root.string() + "\n" + token);
    std::string problem;
    for (int k = 1; k < group.world(); ++k) {
      std::string seen = group.get("run/seen/" + std::to_string(k));
      if (seen != "ok" && problem.empty()) problem = seen;
    }
    std::filesystem::remove(root / token_file);
    if (!problem.empty()) throw Error(problem);
    return root;
  }
  std::string answer = group.get("run/root");
  std::string root = answer.substr(0, answer.find('\n')), token = answer.substr(answer.find('\n') + 1);
  if (root == "error") throw Error("rank 0 could not choose the run folder: " + token);
  std::ifstream in(std::filesystem::path(root) / token_file);
  std::string seen;
  std::getline(in, seen);
  if (seen != token) {
    char host[256] = "?";
    ::gethostname(host, sizeof host - 1);
    std::string problem = "run folder " + root + " is not visible on host " + host + " (rank " +
                          std::to_string(group.rank()) + "): put --out on a filesystem shared by all nodes";
    group.set("run/seen/" + std::to_string(group.rank()), problem);
    throw Error(problem);
  }
  group.set("run/seen/" + std::to_string(group.rank()), "ok");
  return root;
}

//---- what to do there ----

int print_dry_run(const Plan& plan) {
  for (size_t i = 0; i < plan.points.size(); ++i) {
    if (plan.is_sweep) std::cout << "# sweep point " << plan.points[i].name << "\n";
    std::cout << to_yaml(plan.experiments[i].resolved);
    if (i + 1 < plan.points.size()) std::cout << "---\n";
  }
  std::cerr << "dry run: " << plan.points.size() << (plan.points.size() == 1 ? " run" : " runs")
            << " validated, nothing written\n";
  return 0;
}

// the experiment's `analysis:` steps on the finished run or sweep; 1 when a step failed
int run_analysis(const Experiment& experiment, const std::filesystem::path& root) {
  if (experiment.analysis.empty()) return 0;
  int failed = 0;
  try {
    failed = analysis::run_steps(root, experiment.analysis);
  } catch (const Error& e) {
    std::cerr << "error: analysis: " << e.what() << "\n";
    return 1;
  }
  std::cout << "analysis: " << (root / "analysis").string() << "/";
  if (failed) std::cout << " (" << failed << " of " << experiment.analysis.size()
                        << " steps failed; fix and re-run them with wmhost analyze " << root.string() << ")";
  std::cout << "\n";
  return failed ? 1 : 0;
}

int run_single(const Experiment& experiment, PluginRegistry& registry,
               const std::filesystem::path& root) {
  RunOutcome outcome = execute_run(experiment, registry, root);
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
  return dist::Group::process().rank() == 0 ? run_analysis(experiment, root) : 0;
}

//---- sweeps ----

// a sweep point stopped on purpose or killed (status.json says `stopped`, or there is none)
bool interrupted_point(const std::filesystem::path& dir) {
  if (!unfinished_run(dir)) return false;
  std::ifstream in(dir / "status.json");
  if (!in) return true;
  std::stringstream text;
  text << in.rdbuf();
  try {
    io::json::Value parsed = io::json::parse(text.str(), (dir / "status.json").string());
    const io::json::Value* status = parsed.find("status");
    return status && status->is_string() && status->as_string() == "stopped";
  } catch (const Error&) {
    return false;  // unreadable: the point starts over
  }
}

// a word as the shell reads it back: bare when it is plain, else in single quotes
std::string shell_word(const std::string& word) {
  if (!word.empty() &&
      word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "_-+=.,:/@%") == std::string::npos)
    return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// the command that continues a stopped sweep in `root`: this one, with --out root
std::string continue_command(const Options& options, const std::filesystem::path& root) {
  if (options.command != "run") return "the same command with --out " + shell_word(root.string());
  std::string command = "wmhost run";
  for (const auto& arg : options.args) command += " " + shell_word(arg);
  for (const auto& dir : options.plugin_dirs) command += " --plugin-path " + shell_word(dir);
  if (options.verbose) command += " --verbose";
  return command + " --out " + shell_word(root.string());
}

// every point in its own folder under root; a point that finished earlier is skipped, one that
// was stopped or killed continues from its checkpoints when its train steps say `resume: true`
// (else it starts over); the summary is rewritten after each point
int run_sweep(const Plan& plan, const Options& options, PluginRegistry& registry,
              const std::filesystem::path& root) {
  // over ranks, rank 0 decides what each point does and writes the sweep's files
  dist::Group& group = dist::Group::process();
  bool writer = group.rank() == 0;
  if (writer) io::write_file_atomic(root / "sweep.yaml", to_yaml(plan.experiments.front().resolved));
  std::vector<RunOutcome> outcomes;
  int failures = 0;
  for (size_t i = 0; i < plan.points.size(); ++i) {
    const auto& point = plan.points[i];
    const std::filesystem::path dir = root / point.name;
    RunOutcome outcome;
    std::string decision;  // skip, resume or fresh
    if (writer) {
      decision = read_finished(dir, outcome) ? "skip"
                 : wants_resume(plan.experiments[i]) && interrupted_point(dir) ? "resume"
                                                                                : "fresh";
      if (decision == "fresh") std::filesystem::remove_all(dir);
      group.set("sweep/" + std::to_string(i), decision);
    } else {
      decision = group.get("sweep/" + std::to_string(i));
      if (decision == "skip") read_finished(dir, outcome);
    }
    if (decision == "skip") {
      log().info("sweep point {}/{} {}: finished earlier, skipped", i + 1, plan.points.size(),
                 point.name);
    } else {
      log().info("sweep point {}/{}: {}{}", i + 1, plan.points.size(), point.name,
                 decision == "resume" ? " (resuming)" : "");
      outcome = execute_run(plan.experiments[i], registry, dir);
    }
    failures += outcome.ok ? 0 : 1;
    bool stopped = outcome.stopped;
    outcomes.push_back(std::move(outcome));
    if (writer)
      write_summary(root, std::vector<SweepPoint>(plan.points.begin(), plan.points.begin() + i + 1),
                    outcomes);
    // a stopped point (stop_after_steps, a signal) ends the sweep; the printed command continues it
    if (stopped || stop_requested()) {
      std::cout << "sweep stopped"
                << (stop_requested() ? " by " + stop_signal_name() : std::string())
                << " at point " << point.name << "; continue it with:\n  "
                << continue_command(options, root) << "\n";
      return 3;
    }
  }
  std::cout << "sweep finished: " << plan.points.size() - failures << "/" << plan.points.size()
            << " runs ok; summary: " << (root / "summary.md").string() << "\n";
  bool any_ok = failures < static_cast<int>(plan.points.size());
  int analysis = any_ok && writer ? run_analysis(plan.experiments.front(), root) : 0;
  return failures || analysis ? 1 : 0;
}

}  // namespace

Plan plan_experiment(const Options& options, PluginRegistry& registry) {
  if (options.args.empty()) throw Error("missing experiment file: wmhost " + options.command +
                                        " EXP.yaml [key.path=value ...]");
  ConfigNode root = load_experiment(options.args[0]);
  // position on the command line after `wmhost`: the command is 1, the file 2
  return plan_config(std::move(root), {options.args.begin() + 1, options.args.end()}, 3, registry);
}

Plan plan_config(ConfigNode root, const std::vector<std::string>& overrides, int first_position,
                 PluginRegistry& registry) {
  for (size_t i = 0; i < overrides.size(); ++i)
    apply_override(root, overrides[i], static_cast<int>(i) + first_position);

  // the sweep block comes out of the config; each point is the config with its values set
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

int run_plan(const Plan& plan, const Options& options, PluginRegistry& registry) {
  if (options.dry_run) return print_dry_run(plan);
  // several ranks when a launcher (wmhost launch, torchrun, srun) says so; else nothing changes
  const Experiment& first = plan.experiments.front();
  dist::Group& group = dist::Group::process();
  dist::LaunchInfo launch = dist::launch_from_environment();
  if (launch.world > 1) require_device(first.device);  // before NCCL says it less helpfully
  group.join(launch, first.distributed, first.device);
  std::filesystem::path root = shared_run_root(plan, options, group);
  // one process (or rank 0) per folder; SIGTERM, SIGINT and SIGHUP stop the run at a step
  // boundary (exit 3)
  std::optional<RunFolderLock> lock;
  if (group.rank() == 0) lock.emplace(root);
  install_stop_signals();
  int code = plan.is_sweep ? run_sweep(plan, options, registry, root)
                           : run_single(plan.experiments.front(), registry, root);
  group.leave();
  return code;
}

}  // namespace wm
