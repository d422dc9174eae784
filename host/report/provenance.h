// provenance.json: how a run was made, so a result can be traced to its code and machine: the
// command line, working directory, wmhost version and git commit (compiled in), library
// versions, compiler, host, CPU and GPU, thread settings and the environment variables wmhost
// reads. docs/run_folder.md describes the fields.
#pragma once
#include <filesystem>
#include <string>

namespace wm {

// the document, for a run in `run_dir` whose config asked for `configured_threads` (0: every core)
std::string provenance_json(const std::filesystem::path& run_dir, int configured_threads, int invocation);

// writes <run_dir>/provenance.json, or provenance-2.json, -3, ... when a resumed run already has
// earlier ones (each invocation keeps its own); returns the file written
std::filesystem::path write_provenance(const std::filesystem::path& run_dir, int configured_threads);

}  // namespace wm
