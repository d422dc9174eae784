#include "plugin_file.h"

#include <elf.h>

#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "wm/error.h"

namespace wm {

namespace {

#if defined(__x86_64__)
constexpr uint16_t kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kMachine = EM_AARCH64;
#else
constexpr uint16_t kMachine = EM_NONE;  // not checked
#endif

const char* machine_name(uint16_t machine) {
  switch (machine) {
    case EM_X86_64: return "x86-64";
    case EM_AARCH64: return "aarch64";
    case EM_386: return "i386";
    case EM_ARM: return "arm";
    case EM_RISCV: return "riscv";
    case EM_PPC64: return "ppc64";
    default: return "another machine";
  }
}

// a bounds-checked view of the file's bytes
struct Bytes {
  std::string data;
  bool holds(uint64_t offset, uint64_t size) const {
    return offset <= data.size() && size <= data.size() - offset;
  }
  template <class T>
  T at(uint64_t offset) const {
    T value;
    std::memcpy(&value, data.data() + offset, sizeof(T));
    return value;
  }
};

}  // namespace

PluginFile read_plugin_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(file.string() + ": cannot open the plugin file");
  std::ostringstream text;
  text << in.rdbuf();
  Bytes bytes{text.str()};
  auto broken = [&](const std::string& why) {
    return Error(file.string() + ": " + why);
  };

  // the ELF header: a 64-bit shared library for this machine
  if (!bytes.holds(0, sizeof(Elf64_Ehdr)) || std::memcmp(bytes.data.data(), ELFMAG, SELFMAG) != 0)
    throw broken("not a shared library (no ELF header)");
  auto header = bytes.at<Elf64_Ehdr>(0);
  if (header.e_ident[EI_CLASS] != ELFCLASS64)
    throw broken("a 32-bit library; wmhost loads 64-bit plugins");
  if (kMachine != EM_NONE && header.e_machine != kMachine)
    throw broken(std::string("built for ") + machine_name(header.e_machine) + ", this machine is " +
                 machine_name(kMachine) + "; build the plugin here");
  if (header.e_type != ET_DYN) throw broken("not a shared library (ELF type " +
                                            std::to_string(header.e_type) + ")");

  // every segment the loader will map must be inside the file
  uint64_t segments_end = header.e_phoff + uint64_t(header.e_phnum) * header.e_phentsize;
  if (header.e_phentsize != sizeof(Elf64_Phdr) || !bytes.holds(header.e_phoff, segments_end - header.e_phoff))
    throw broken("truncated: its program headers end past the file (an interrupted copy?)");
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    auto segment = bytes.at<Elf64_Phdr>(header.e_phoff + uint64_t(i) * sizeof(Elf64_Phdr));
    if (segment.p_type == PT_LOAD && !bytes.holds(segment.p_offset, segment.p_filesz))
      throw broken("truncated: " + std::to_string(bytes.data.size()) + " bytes, but its segments need " +
                   std::to_string(segment.p_offset + segment.p_filesz) + " (an interrupted copy?)");
  }

  // the dynamic section and its string table, through the section headers
  PluginFile info;
  if (header.e_shentsize != sizeof(Elf64_Shdr) ||
      !bytes.holds(header.e_shoff, uint64_t(header.e_shnum) * sizeof(Elf64_Shdr)))
    throw broken("truncated: its section headers end past the file (an interrupted copy?)");
  auto section = [&](uint64_t index) {
    return bytes.at<Elf64_Shdr>(header.e_shoff + index * sizeof(Elf64_Shdr));
  };
  for (uint16_t i = 0; i < header.e_shnum; ++i) {
    auto dynamic = section(i);
    if (dynamic.sh_type != SHT_DYNAMIC) continue;
    if (dynamic.sh_link >= header.e_shnum) throw broken("corrupt dynamic section");
    auto strings = section(dynamic.sh_link);
    if (!bytes.holds(dynamic.sh_offset, dynamic.sh_size) ||
        !bytes.holds(strings.sh_offset, strings.sh_size))
      throw broken("truncated: its dynamic section ends past the file (an interrupted copy?)");
    for (uint64_t at = 0; at + sizeof(Elf64_Dyn) <= dynamic.sh_size; at += sizeof(Elf64_Dyn)) {
      auto entry = bytes.at<Elf64_Dyn>(dynamic.sh_offset + at);
      if (entry.d_tag == DT_NULL) break;
      if (entry.d_tag != DT_NEEDED) continue;
      if (entry.d_un.d_val >= strings.sh_size) throw broken("corrupt dynamic string table");
      const char* name = bytes.data.data() + strings.sh_offset + entry.d_un.d_val;
      info.needed.emplace_back(name, strnlen(name, strings.sh_size - entry.d_un.d_val));
    }
  }
  return info;
}

void check_toolboxes(const std::filesystem::path& file, const PluginFile& info,
                     const std::string& shipped, unsigned abi) {
  std::map<std::string, std::string> versions;  // "nn" -> "1"
  std::stringstream list(shipped);
  for (std::string item; std::getline(list, item, ',');)
    if (auto eq = item.find('='); eq != std::string::npos)
      versions[item.substr(0, eq)] = item.substr(eq + 1);

  static const std::regex toolbox(R"(libwmsdk_(\w+)\.so\.(\d+))"), contract(R"(libwmsdk\.so\.(\d+))");
  for (const auto& needed : info.needed) {
    std::smatch match;
    if (std::regex_match(needed, match, contract) && match[1] != std::to_string(abi))
      throw Error(file.string() + ": built for wmsdk ABI " + match[1].str() +
                  " (it links " + needed + "), this wmhost speaks " + std::to_string(abi) +
                  "; rebuild the plugin against this wmsdk");
    if (!std::regex_match(needed, match, toolbox)) continue;
    auto it = versions.find(match[1]);
    if (it == versions.end())
      throw Error(file.string() + ": needs the toolbox library " + needed + " (wm::" + match[1].str() +
                  "), which this wmhost does not ship; rebuild the plugin against this wmsdk");
    if (it->second != match[2])
      throw Error(file.string() + ": built against toolbox wm::" + match[1].str() + " version " +
                  match[2].str() + ", this wmhost ships version " + it->second + " (libwmsdk_" +
                  match[1].str() + ".so." + it->second + "); rebuild the plugin against this wmsdk");
  }
}

}  // namespace wm
