// Loading plugin files in a child process first: a library whose static constructors (or schema)
// abort, crash or hang kills the child, not the command. The host then skips that file with a
// message naming it, and loads the others itself.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace wm {

// what the child saw for one file: "" when it loaded (or failed with an ordinary load error,
// which the host's own load reports), else why it is unusable
struct PluginProbe {
  std::filesystem::path file;
  std::string failure;
};

// Loads `files` one after another in a forked child (RTLD_NOW, then wm_plugin_info and its
// schema), restarting the child after a file that killed it. A file that takes longer than
// `seconds_per_file` is killed and reported as hanging. Files that loaded cleanly are remembered
// by identity (device, inode, size, mtime) in $XDG_CACHE_HOME/wmhost/plugin_probes (default
// ~/.cache/wmhost/) and not probed again until they change. Off when WMHOST_PLUGIN_PROBE=0, and in
// a process that already runs other threads (forking it is not safe): there files load directly.
std::vector<PluginProbe> probe_plugin_files(const std::vector<std::filesystem::path>& files,
                                            int seconds_per_file = 60);

// false when WMHOST_PLUGIN_PROBE=0 (the files are loaded directly, as under a debugger)
bool plugin_probe_enabled();

}  // namespace wm
