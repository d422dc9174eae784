#include "scoreboard.h"

#include "report/table_writer.h"
#include "wm/io/json.h"

namespace wm {

//---- accumulating ----

void reset_boards(std::vector<Scoreboard>& boards) {
  for (auto& board : boards)
    for (auto& [name, metric] : board.metrics) metric->reset();
}

void score(Scoreboard& board, const TensorMap& outputs, const std::string& producer) {
  for (auto& [name, metric] : board.metrics) {
    for (const auto& key : metric->required_keys())
      if (!outputs.count(key))
        throw Error("metric '" + name + "' needs model output '" + key + "', which " + producer +
                    " does not produce");
    metric->update(outputs);
  }
}

//---- the values ----

void collect_values(const std::vector<Scoreboard>& boards, std::map<std::string, double>& values,
                    std::string& report) {
  for (const auto& board : boards)
    for (const auto& [name, metric] : board.metrics)
      for (const auto& [key, value] : metric->compute()) {
        std::string label = key == name || key.rfind(name, 0) == 0 ? key : name + "/" + key;
        if (!board.label.empty()) label = board.label + "/" + label;
        values[label] = value;
        report += (report.empty() ? "" : ", ") + label + " " + std::to_string(value);
      }
}

// (a metric's `name:` may hold commas, quotes or pipes: the table writer quotes and escapes them)
void write_metric_table(const std::filesystem::path& stem, const std::map<std::string, double>& values) {
  report::Table table{{"metric", "value"}, {}, 1};
  for (const auto& [name, value] : values) table.rows.push_back({name, io::json::number(value)});
  report::write_markdown(stem.string() + ".md", table);
  report::write_csv(stem.string() + ".csv", table);
}

}  // namespace wm
