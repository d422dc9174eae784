// From experiment files to one resolved tree: base inheritance, command-line overrides and
// ${...} interpolation, all eager and all reporting file:line:col.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "config_node.h"

namespace wm {

// Loads a file and the files its `base:` key names (relative to it), deep-merging maps; lists and
// scalars replace; `_replace_: true` inside a map replaces the inherited map instead of merging.
ConfigNode load_experiment(const std::filesystem::path& path);

// Applies one `key.path=value` (the key must exist) or `+key.path=value` (adds it).
// `position` is the argument's index on the command line, for messages.
void apply_override(ConfigNode& root, const std::string& assignment, int position);

// Sets key.path to value, creating it if needed (used by sweeps).
void set_value(ConfigNode& root, const std::string& dotted, const ConfigNode& value);

// Resolves every ${path.to.key} and ${env:VAR} / ${env:VAR,default} in place.
// A whole-value reference copies the target (maps and lists too); an embedded one splices text.
// ${run.dir} is left as it is: the run folder exists only when the run starts.
void interpolate(ConfigNode& root);

// ${run.dir}: the run's folder (a sweep point's own folder), absolute. resolve_run_dir replaces
// it everywhere in the tree and says whether there was any.
inline const char* const kRunDirReference = "${run.dir}";
bool mentions_run_dir(const std::string& text);
bool resolve_run_dir(ConfigNode& root, const std::filesystem::path& dir);

}  // namespace wm
