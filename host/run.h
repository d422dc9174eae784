// One run: a directory holding config.yaml, log.txt, metrics.jsonl, status.json and artifacts.
#pragma once
#include <filesystem>
#include <map>
#include <string>

#include "experiment.h"

namespace wm {

// thrown by a procedure that ends the run early on purpose (e.g. train's stop_after_steps)
class RunStopped : public Error {
 public:
  using Error::Error;
};

struct RunOutcome {
  std::filesystem::path dir;
  bool ok = false;
  bool stopped = false;  // ended early on purpose; `resume: true` continues it
  std::string error;
  double seconds = 0;
  std::map<std::string, double> final_metrics;  // last value of each "procedure/key"
};

// a fresh directory `<parent>/<name>`, adding -2, -3, ... if the name is taken
std::filesystem::path make_unique_dir(const std::filesystem::path& parent, const std::string& name);
// the time now in UTC, as strftime's `format` writes it
std::string utc_now(const char* format);
// "20261126-013512" in UTC
std::string utc_timestamp();

// Runs every procedure in `dir` (created if absent). Never throws for failures inside the run:
// they are logged to dir/log.txt, recorded in status.json and returned. Throws, before anything
// in `dir` changes, when a resume's config differs from dir/config.yaml (run_config.h).
RunOutcome execute_run(const Experiment& experiment, PluginRegistry& registry,
                       const std::filesystem::path& dir);

}  // namespace wm
