// The analysis layer: an experiment's `analysis:` steps run on a finished sweep's summary.csv
// (and each point's metrics.jsonl), after `wmhost run` or again with `wmhost analyze RUN_DIR`.
// Each step writes RUN_DIR/analysis/<name>.{md,csv,json,svg} and logs its table.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "analysis/step.h"
#include "analysis/table.h"
#include "param_binding.h"

namespace wm::analysis {

//---- the kinds of step ----

// what one running step sees
struct StepInput {
  const SummaryTable& table;
  const Step& step;
  std::filesystem::path out;  // RUN_DIR/analysis
};

struct StepKind {
  const char* name;
  const char* summary;
  Schema (*schema)();            // its typed keys (`name:` is added to every kind)
  std::vector<NestedKey> nested;  // keys bound by hand
  // checks beyond the types when the experiment is validated (expressions parse); may be null
  void (*check)(const Step& step);
  void (*run)(const StepInput& input);  // throws wm::Error on bad input
};

// aggregate, compare, decide, fit, transfer, multiplier, minimum, efficiency, curves, budget, table,
// matrix
const std::vector<StepKind>& step_kinds();
const StepKind* find_step_kind(const std::string& name);
// a kind's schema with the `name:` every step takes
Schema step_schema(const StepKind& kind);

//---- running ----

// runs every step on `dir`'s summary; a failing step is logged and the others still run.
// Returns the number of steps that failed. Throws when the summary itself cannot be read.
int run_steps(const std::filesystem::path& dir, const std::vector<Step>& steps);
int run_steps(const SummaryTable& table, const std::vector<Step>& steps);
// one step; its errors are rethrown as "analysis step 'fit' (analysis.1.fit at exp.yaml:30:5): ..."
void run_step(const SummaryTable& table, const Step& step);

// `wmhost analyze RUN_DIR [--config FILE]`: the `analysis:` of FILE, or of the folder's own
// sweep.yaml / config.yaml; returns the exit code (0 ok, 1 a step failed)
int analyze(const std::filesystem::path& dir, const std::string& config_file);

//---- the step families (one file each) ----

extern const StepKind aggregate_kind, compare_kind, decide_kind;  // steps_groups.cpp, decide.cpp
extern const StepKind fit_kind;                                   // steps_fit.cpp
extern const StepKind transfer_kind, multiplier_kind, efficiency_kind;  // steps_curves.cpp
extern const StepKind minimum_kind, curves_kind;                  // steps_runs.cpp
extern const StepKind budget_kind;                                // steps_budget.cpp
extern const StepKind table_kind;                                 // steps_table.cpp
extern const StepKind matrix_kind;                                // steps_matrix.cpp

}  // namespace wm::analysis
