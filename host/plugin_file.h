// What a plugin file says about itself before any of its code runs: read from the ELF file, not
// by loading it. The host uses it to refuse a truncated copy, a library built for another machine,
// or one linked against toolbox versions this wmhost does not ship, with a message saying why.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace wm {

struct PluginFile {
  std::vector<std::string> needed;  // DT_NEEDED entries: "libwmsdk.so.11", "libwmsdk_nn.so.1", ...
};

// Reads `file`'s ELF header and dynamic section. Throws wm::Error naming the file when it is not
// a shared library for this machine, or is shorter than its own headers say (an interrupted copy).
PluginFile read_plugin_file(const std::filesystem::path& file);

// The toolbox libraries a plugin needs and this host ships: throws wm::Error when a needed
// libwmsdk_<name>.so.<n> has another version than `shipped` ("io=1,nn=1,...") lists, or is not
// listed, and when the contract library libwmsdk.so.<n> is not `abi`.
void check_toolboxes(const std::filesystem::path& file, const PluginFile& info,
                     const std::string& shipped, unsigned abi);

}  // namespace wm
