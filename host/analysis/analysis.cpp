// The analysis runner: binds the `analysis:` steps of an experiment, runs them on a finished
// sweep's summary (after `wmhost run`, or again with `wmhost analyze`) and gathers their tables.
#include "analysis/analysis.h"

#include <spdlog/sinks/basic_file_sink.h>

#include <algorithm>
#include <iostream>

#include "analysis/output.h"
#include "config_resolve.h"
#include "wm/io/atomic_file.h"
#include "wm/error.h"
#include "wm/log.h"

namespace wm::analysis {

//---- the kinds ----

const std::vector<StepKind>& step_kinds() {
  static const std::vector<StepKind> kinds = {aggregate_kind,  compare_kind,  decide_kind,
                                              fit_kind,        transfer_kind, multiplier_kind,
                                              minimum_kind,    efficiency_kind, curves_kind,
                                              budget_kind,     table_kind,    matrix_kind};
  return kinds;
}

const StepKind* find_step_kind(const std::string& name) {
  for (const auto& kind : step_kinds())
    if (name == kind.name) return &kind;
  return nullptr;
}

Schema step_schema(const StepKind& kind) {
  Schema schema = kind.schema();
  schema.text("name", "", "names its outputs: analysis/<name>.{md,csv,json,svg} (default: the kind)");
  return schema;
}

//---- binding ----

std::string Step::where() const { return key_path + (loc.known() ? " at " + loc.str() : ""); }

std::vector<Step> bind_steps(const ConfigNode* list) {
  std::vector<Step> steps;
  if (!list || list->is_null()) return steps;
  std::vector<std::string> known;
  for (const auto& kind : step_kinds()) known.push_back(kind.name);
  if (!list->is_sequence())
    throw ConfigError(list->loc, "analysis", "expected a list of steps, e.g. [{aggregate: {over: seed}}]");
  std::string last_by, last_column, last_within;  // what a later decide inherits
  for (size_t i = 0; i < list->items.size(); ++i) {
    const ConfigNode& item = list->items[i];
    std::string at = "analysis." + std::to_string(i);
    if (!item.is_map() || item.entries.size() != 1)
      throw ConfigError(item.loc, at, "each step is one `kind: {keys}` map; kinds: " + join(known));
    const auto& [name, keys] = item.entries.front();
    const StepKind* kind = find_step_kind(name);
    if (!kind)
      throw ConfigError(item.loc, at, "unknown analysis step '" + name + "'" +
                                          did_you_mean(name, known) + "; kinds: " + join(known));
    Step step;
    step.kind = name;
    step.key_path = at + "." + name;
    step.loc = item.loc;
    step.node = keys.is_null() ? ConfigNode::make_map(item.loc) : keys;
    step.params = bind_params(SectionSchema{step_schema(*kind), kind->nested}, step.node, step.key_path);
    step.name = step.params.get<std::string>("name").empty() ? name : step.params.get<std::string>("name");
    for (const auto& earlier : steps)
      if (earlier.name == step.name)
        throw ConfigError(item.loc, step.key_path,
                          "a second step writes analysis/" + step.name + ".*: give one a `name:`");
    step.inherited_by = last_by, step.inherited_column = last_column, step.inherited_within = last_within;
    if (kind->check) {
      try {
        kind->check(step);
      } catch (const ConfigError&) {
        throw;
      } catch (const Error& e) {
        throw ConfigError(item.loc, step.key_path, e.what());
      }
    }
    // a compare (or a one-key, one-column aggregate) sets what a following decide reads
    if (name == "compare") {
      last_by = step.params.get<std::string>("by");
      last_column = step.params.get<std::string>("column");
      last_within = step.params.get<std::string>("within");
    } else if (name == "aggregate" && step.params.get<StringList>("by").size() == 1 &&
               step.params.get<StringList>("columns").size() == 1) {
      last_by = step.params.get<StringList>("by").front();
      last_column = step.params.get<StringList>("columns").front();
      last_within.clear();
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

//---- running ----

void run_step(const SummaryTable& table, const Step& step) {
  try {
    find_step_kind(step.kind)->run({table, step, table.dir / "analysis"});
  } catch (const std::exception& e) {
    throw Error("analysis step '" + step.name + "' (" + step.where() + "): " + user_message(e));
  }
}

namespace {

// keeps what the steps log in RUN_DIR/analysis/log.txt while they run
class AnalysisLog {
 public:
  explicit AnalysisLog(const std::filesystem::path& file) {
    std::filesystem::create_directories(file.parent_path());
    sink_ = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string(), /*truncate=*/true);
    sink_->set_pattern("[%Y-%m-%d %H:%M:%S.%e %l] %v");
    log().sinks().push_back(sink_);
  }
  ~AnalysisLog() {
    auto& sinks = log().sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> sink_;
};

}  // namespace

int run_steps(const SummaryTable& table, const std::vector<Step>& steps) {
  AnalysisLog file(table.dir / "analysis" / "log.txt");
  if (!table.not_ok.empty())
    log().warn("analysis: {} of {} runs did not finish ok and are left out: {}", table.not_ok.size(),
               table.not_ok.size() + table.rows.size(), join(table.not_ok));
  // every step's table in one file beside summary.md: RUN_DIR/analysis.md
  std::string all = "# Analysis of " + table.dir.filename().string() + "\n\n" +
                    std::to_string(table.rows.size()) + " runs" +
                    (table.not_ok.empty() ? "" : " (left out, not ok: " + join(table.not_ok) + ")") + "\n";
  int failures = 0;
  for (const auto& step : steps) {
    // a step's files from an earlier analysis go first, so a step that fails now leaves none
    // that could be read as its result
    for (const char* extension : {".md", ".csv", ".json", ".svg"})
      std::filesystem::remove(table.dir / "analysis" / (step.name + extension));
    try {
      run_step(table, step);
      std::string md = read_text(table.dir / "analysis" / (step.name + ".md"));
      all += "\n#" + md + (md.empty() || md.back() == '\n' ? "" : "\n");
    } catch (const std::exception& e) {
      ++failures;
      log().error("{}", e.what());
      all += "\n## " + step.name + "\n\nfailed: " + e.what() + "\n";
    }
  }
  io::write_file_atomic(table.dir / "analysis.md", all);
  return failures;
}

int run_steps(const std::filesystem::path& dir, const std::vector<Step>& steps) {
  return run_steps(load_summary(dir), steps);
}

int analyze(const std::filesystem::path& dir, const std::string& config_file) {
  SummaryTable table = load_summary(dir);  // first, so a wrong folder names the file it lacks
  ConfigNode root;
  std::filesystem::path source = config_file;
  if (!config_file.empty()) {
    root = load_experiment(config_file);
    root.erase("sweep");
    interpolate(root);
  } else {
    source = std::filesystem::exists(dir / "sweep.yaml") ? dir / "sweep.yaml" : dir / "config.yaml";
    if (!std::filesystem::exists(source))
      throw Error("no " + (dir / "sweep.yaml").string() + " or " + (dir / "config.yaml").string() +
                  ": give the analysis with --config FILE");
    root = load_yaml_file(source);
  }
  std::vector<Step> steps = bind_steps(root.find("analysis"));
  if (steps.empty())
    throw Error(source.string() + " has no `analysis:` steps (add some, or name a file that has "
                                  "them with --config FILE)");
  log().info("analysis of {} ({} runs) with the steps of {}", dir.string(), table.rows.size(),
             source.string());
  int failures = run_steps(table, steps);
  std::cout << "analysis: " << steps.size() - static_cast<size_t>(failures) << "/" << steps.size()
            << " steps written to " << (dir / "analysis").string() << "\n";
  return failures ? 1 : 0;
}

}  // namespace wm::analysis
