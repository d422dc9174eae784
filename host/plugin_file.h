// What a plugin file says about itself before any of its code runs: read from the ELF file, not
// by loading it. The host uses it to refuse a truncated copy, a library built for another machine,
// or one linked against toolbox versions this wmhost does not ship, with a message saying why.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace wm {

// the plugin's `wm_plugin_header_v1`, read from the file's bytes (its relocations applied)
struct PluginFileHeader {
  uint32_t magic = 0, header_size = 0, sdk_abi = 0, cxx11_abi = 0, glibcxx_debug = 0;
  std::string sdk_version, torch_version, compiler, kind, name, version;
};

struct PluginFile {
  std::vector<std::string> needed;  // DT_NEEDED entries: "libwmsdk.so.11", "libwmsdk_nn.so.1", ...
  std::optional<PluginFileHeader> header;  // absent: the file exports no wm_plugin_header_v1
};

// Reads `file`'s ELF header, program headers, dynamic section and, through its dynamic symbol
// table, its plugin header. Throws wm::Error naming the file when it is not a shared library for
// this machine, or is shorter than its own headers say (an interrupted copy).
PluginFile read_plugin_file(const std::filesystem::path& file);

// The handshake, from the file alone: throws wm::Error naming the file when it has no plugin
// header, or one built for another wmsdk ABI, LibTorch or C++ standard library ABI.
void check_plugin_header(const std::filesystem::path& file, const PluginFile& info);

// The toolbox libraries a plugin needs and this host ships: throws wm::Error when a needed
// libwmsdk_<name>.so.<n> has another version than `shipped` ("io=1,nn=1,...") lists, or is not
// listed, and when the contract library libwmsdk.so.<n> is not `abi`.
void check_toolboxes(const std::filesystem::path& file, const PluginFile& info,
                     const std::string& shipped, unsigned abi);

}  // namespace wm
