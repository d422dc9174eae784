// The metric accumulation shared by `evaluate` and `score`: metric instances fed batch after
// batch of outputs, then their values gathered under one naming rule and written as a table.
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "../procedure.h"

namespace wm {

//---- accumulating ----

// one metric instance per (gap, scored model) pair, reset together
struct Scoreboard {
  std::string label;  // "gap2", "baseline/gap2" or ""
  RunContext::Metrics metrics;
};

// resets every metric of every board
void reset_boards(std::vector<Scoreboard>& boards);

// feeds one batch of outputs to every metric of the board; a metric whose input key is missing
// fails naming the metric, the key and `producer` ("the model")
void score(Scoreboard& board, const TensorMap& outputs, const std::string& producer = "the model");

//---- the values ----

// every metric's values, named "<board label>/<metric name>/<key>" (the metric name is left out
// when the key already starts with it: "psnr", "gap2/psnr/mse"), added to `values`; `report`
// gets "name value" pairs joined by ", " for the log
void collect_values(const std::vector<Scoreboard>& boards, std::map<std::string, double>& values,
                    std::string& report);

// the values as a two-column table (metric, value): <stem>.md and <stem>.csv
void write_metric_table(const std::filesystem::path& stem, const std::map<std::string, double>& values);

}  // namespace wm
