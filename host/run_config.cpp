#include "run_config.h"

#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "wm/error.h"
#include "wm/io/atomic_file.h"
#include "wm/log.h"

namespace wm {
namespace {

// keys of a procedure step that may change between the runs of one folder
const char* const kProcessKeys[] = {"resume", "stop_after_steps"};

// the config as it is compared: the process keys taken out of every procedure step
std::string comparable(ConfigNode config) {
  if (ConfigNode* steps = config.find("procedure"); steps && steps->is_sequence())
    for (ConfigNode& step : steps->items)
      if (step.is_map())
        for (auto& [name, params] : step.entries)
          if (params.is_map())
            for (const char* key : kProcessKeys) params.erase(key);
  return to_yaml(config);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// the `resume` values of the experiment's steps ("false", "true", "force")
bool any_resume(const Experiment& experiment, bool force_only) {
  for (const auto& step : experiment.procedures) {
    if (!step.params.has("resume")) continue;
    std::string value = step.params.get<std::string>("resume");
    if (value == "force" || (!force_only && value == "true")) return true;
  }
  return false;
}

// the diff so far ends with a "..." line (every other line starts with two marker characters)
bool ends_with_gap(const std::string& diff) {
  return diff.size() >= 5 && diff.compare(diff.size() - 5, 5, "\n...\n") == 0;
}

}  // namespace

bool wants_resume(const Experiment& experiment) { return any_resume(experiment, false); }
bool resume_forced(const Experiment& experiment) { return any_resume(experiment, true); }

//---- the diff ----

std::string line_diff(const std::string& before, const std::string& after) {
  auto a = lines_of(before), b = lines_of(after);
  size_t n = a.size(), m = b.size();
  // longest common subsequence table, filled from the end
  std::vector<std::vector<uint32_t>> common(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      common[i][j] = a[i] == b[j] ? common[i + 1][j + 1] + 1 : std::max(common[i + 1][j], common[i][j + 1]);
  std::vector<std::string> out;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) out.push_back("  " + a[i]), ++i, ++j;
    else if (j < m && (i == n || common[i][j + 1] >= common[i + 1][j])) out.push_back("+ " + b[j++]);
    else out.push_back("- " + a[i++]);
  }
  // kept lines far from any change are left out
  std::string text;
  for (size_t k = 0; k < out.size(); ++k) {
    bool near = false;
    for (size_t d = (k >= 2 ? k - 2 : 0); d <= std::min(out.size() - 1, k + 2); ++d)
      near = near || out[d][0] != ' ';
    if (near) text += out[k] + "\n";
    else if (!text.empty() && !ends_with_gap(text)) text += "...\n";
  }
  return text;
}

//---- config.yaml ----

void record_run_config(const std::filesystem::path& dir, const ConfigNode& config, bool force) {
  auto file = dir / "config.yaml";
  std::string text = to_yaml(config);
  if (!std::filesystem::exists(file)) {
    io::write_file_atomic(file, text);
    return;
  }
  std::string earlier = read_text(file);
  std::string was = comparable(parse_yaml(earlier, file.string())), now = comparable(config);
  if (was == now) return;
  std::string diff = line_diff(was, now);
  if (!force)
    throw Error("the config differs from the one this run started with (" + file.string() +
                "):\n" + diff + "resuming would mix two experiments in one run folder; start a "
                "new run (another --out), or set resume: force on the train step to continue "
                "with the change recorded");
  int n = 1;
  while (std::filesystem::exists(dir / ("config-previous-" + std::to_string(n) + ".yaml"))) ++n;
  auto kept = dir / ("config-previous-" + std::to_string(n) + ".yaml");
  auto change = dir / ("config-change-" + std::to_string(n) + ".diff");
  io::write_file_atomic(kept, earlier);
  io::write_file_atomic(change, diff);
  io::write_file_atomic(file, text);
  log().warn("resume: force: the config changed; the earlier one is kept as {}, the change in {}",
             kept.string(), change.string());
}

}  // namespace wm
