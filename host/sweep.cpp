#include "sweep.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <set>

#include "config_limits.h"
#include "wm/io/atomic_file.h"
#include "wm/io/json.h"
#include "wm/error.h"
#include "report/metrics_log.h"
#include "report/table_writer.h"

namespace wm {

// a value as it names a point: a whole-value reference `${global_vars.models.two_stream}` (which
// may stand for a whole map, e.g. a model) by its last part, `two_stream`
std::string sweep_label(const ConfigNode& value) {
  const std::string& text = value.scalar;
  bool reference = text.size() > 3 && text.rfind("${", 0) == 0 && text.back() == '}' &&
                   text.find("${", 2) == std::string::npos;
  if (!reference) return text;
  std::string path = text.substr(2, text.size() - 3);
  return path.substr(path.rfind('.') + 1);
}

namespace {

// a grid's size is known before it is built: a sweep past kMaxSweepPoints is refused at once
// (every point is validated before the first runs, so a million would never start)
void check_points(size_t points, const ConfigNode& where_node, const std::string& where) {
  if (points <= kMaxSweepPoints) return;
  std::string count = points == SIZE_MAX ? "more than " + std::to_string(kMaxSweepPoints)
                                         : std::to_string(points);
  throw ConfigError(where_node.loc, where,
                    count + " points; a sweep has at most " + std::to_string(kMaxSweepPoints) +
                        " (each point is a run): split it into several experiments");
}

size_t grid_size(const ConfigNode& grid) {
  size_t points = 1;
  for (const auto& entry : grid.entries) {
    size_t values = entry.second.is_sequence() ? entry.second.items.size() : 1;
    points = values && points > SIZE_MAX / values ? SIZE_MAX : points * values;
  }
  return points;
}

// one grid: its keys in the order they are written, last key fastest
std::vector<SweepPoint> expand_grid(const ConfigNode& grid, const std::string& where) {
  if (!grid.is_map() || grid.entries.empty())
    throw ConfigError(grid.loc, where, "expected a map of key.path: [values]");
  check_points(grid_size(grid), grid, where);
  std::vector<SweepPoint> points(1);
  for (const auto& [key, values] : grid.entries) {
    if (!values.is_sequence() || values.items.empty())
      throw ConfigError(values.loc, "sweep." + key, "expected a non-empty list of values");
    std::vector<SweepPoint> grown;
    for (const auto& point : points)
      for (const auto& value : values.items) {
        if (!value.is_scalar())
          throw ConfigError(value.loc, "sweep." + key, "sweep values must be single values");
        SweepPoint next = point;
        next.values.emplace_back(key, value);
        grown.push_back(std::move(next));
      }
    points = std::move(grown);
  }
  return points;
}

std::string point_name(const SweepPoint& point) {
  std::string name;
  for (const auto& [key, value] : point.values) name += (name.empty() ? "" : ",") + key + "=" + sweep_label(value);
  // it is a folder name: no '/', no blanks, no control characters
  for (char& c : name)
    if (c == '/' || c == ' ' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  return name;
}

}  // namespace

std::vector<SweepPoint> expand_sweep(const ConfigNode* sweep) {
  if (!sweep || sweep->is_null()) return std::vector<SweepPoint>(1);
  if (!sweep->is_sequence()) {
    std::vector<SweepPoint> points = expand_grid(*sweep, "sweep");
    for (auto& point : points) point.name = point_name(point);
    return points;
  }
  // a list of grids, run one after the other: every grid names the same keys (each row of the
  // summary has every column), its values are put in the first grid's key order, and a point
  // that an earlier grid already has runs once
  if (sweep->items.empty())
    throw ConfigError(sweep->loc, "sweep", "expected a map of key.path: [values] or a non-empty list of them");
  std::vector<std::string> keys;
  for (const auto& [key, values] : sweep->items.front().entries) keys.push_back(key);
  std::vector<SweepPoint> points;
  std::set<std::string> seen;
  size_t total = 0;
  for (const auto& grid : sweep->items) {
    size_t size = grid_size(grid);
    total = size > SIZE_MAX - total ? SIZE_MAX : total + size;
  }
  check_points(total, *sweep, "sweep");
  for (size_t g = 0; g < sweep->items.size(); ++g) {
    const ConfigNode& grid = sweep->items[g];
    std::string where = "sweep." + std::to_string(g);
    std::vector<SweepPoint> grid_points = expand_grid(grid, where);
    for (const auto& key : keys)
      if (!grid.find(key))
        throw ConfigError(grid.loc, where, "this grid has no '" + key + "'; every grid of a sweep list names the same "
                                           "keys (the first names " + join(keys, ", ") + ")");
    for (const auto& [key, values] : grid.entries)
      if (std::find(keys.begin(), keys.end(), key) == keys.end())
        throw ConfigError(values.loc, "sweep." + key,
                          "not in the first grid; every grid of a sweep list names the same keys (" +
                              join(keys, ", ") + ")");
    for (auto& point : grid_points) {
      SweepPoint ordered;
      for (const auto& key : keys)
        for (const auto& entry : point.values)
          if (entry.first == key) ordered.values.push_back(entry);
      ordered.name = point_name(ordered);
      if (seen.insert(ordered.name).second) points.push_back(std::move(ordered));
    }
  }
  return points;
}

bool read_finished(const std::filesystem::path& dir, RunOutcome& outcome) {
  auto file = dir / "status.json";
  if (!std::filesystem::exists(file)) return false;
  try {
    YAML::Node status = YAML::LoadFile(file.string());  // JSON is YAML
    if (status["status"].as<std::string>() != "ok") return false;
    outcome.dir = dir;
    outcome.ok = true;
    outcome.seconds = status["seconds"].as<double>(0.0);
    for (const auto& entry : status["metrics"])
      if (!entry.second.IsNull())
        outcome.final_metrics[entry.first.as<std::string>()] = entry.second.as<double>();
    return true;
  } catch (const YAML::Exception&) {
    return false;  // unreadable: run the point again
  }
}

namespace {
std::string cell(const RunOutcome& outcome, const std::string& key) {
  auto it = outcome.final_metrics.find(key);
  return it == outcome.final_metrics.end() ? "" : io::json::number(it->second);
}
}  // namespace

void write_summary(const std::filesystem::path& dir, const std::vector<SweepPoint>& points,
                   const std::vector<RunOutcome>& outcomes) {
  WM_CHECK(points.size() == outcomes.size()) << points.size() << " vs " << outcomes.size();
  std::vector<std::string> keys;  // sweep keys, then every metric any point reported
  for (const auto& [key, value] : points.front().values) keys.push_back(key);
  std::set<std::string> metric_set;
  for (const auto& outcome : outcomes)
    for (const auto& entry : outcome.final_metrics) metric_set.insert(entry.first);
  std::vector<std::string> metrics(metric_set.begin(), metric_set.end());

  std::vector<std::string> header = {"run"};
  header.insert(header.end(), keys.begin(), keys.end());
  header.insert(header.end(), {"status", "seconds"});
  header.insert(header.end(), metrics.begin(), metrics.end());

  // run, the sweep keys and status are text (left-aligned in summary.md), the rest numbers
  report::Table table{header, {}, 1 + keys.size() + 1};
  for (size_t i = 0; i < points.size(); ++i) {
    const RunOutcome& outcome = outcomes[i];
    std::vector<std::string> row = {outcome.dir.filename().string()};
    for (const auto& [key, value] : points[i].values) row.push_back(sweep_label(value));
    row.push_back(outcome.ok ? "ok" : outcome.stopped ? "stopped" : "failed");
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", outcome.seconds);
    row.push_back(seconds);
    for (const auto& metric : metrics) row.push_back(cell(outcome, metric));
    table.rows.push_back(std::move(row));
  }
  report::write_csv(dir / "summary.csv", table);
  report::write_markdown(dir / "summary.md", table);
}

}  // namespace wm
