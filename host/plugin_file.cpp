#include "plugin_file.h"

#include <elf.h>
#include <torch/version.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string_view>

#include "wm/abi.h"
#include "wm/error.h"

namespace wm {

namespace {

// the machine, and its relocations that store an address: base + addend, symbol + addend
#if defined(__x86_64__)
constexpr uint16_t kMachine = EM_X86_64;
constexpr uint32_t kRelative = R_X86_64_RELATIVE, kAbsolute = R_X86_64_64;
#elif defined(__aarch64__)
constexpr uint16_t kMachine = EM_AARCH64;
constexpr uint32_t kRelative = R_AARCH64_RELATIVE, kAbsolute = R_AARCH64_ABS64;
#else
constexpr uint16_t kMachine = EM_NONE;  // not checked
constexpr uint32_t kRelative = 0, kAbsolute = 0;
#endif
constexpr uint64_t kMaxHeaderText = 4096;  // a header string longer than this is corruption

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

// the loaded image as the file describes it: segments, sections, dynamic symbols, relocations
class ElfImage {
 public:
  ElfImage(const Bytes& bytes, const Elf64_Ehdr& header) : bytes_(bytes), header_(header) {}

  void add_segment(const Elf64_Phdr& segment) { loads_.push_back(segment); }
  Elf64_Shdr section(uint64_t index) const {
    return bytes_.at<Elf64_Shdr>(header_.e_shoff + index * sizeof(Elf64_Shdr));
  }

  // the file offset holding `size` bytes at virtual address `address`; false when no segment
  // has them in the file
  bool offset_of(uint64_t address, uint64_t size, uint64_t& offset) const {
    for (const auto& load : loads_)
      if (address >= load.p_vaddr && address - load.p_vaddr <= load.p_filesz &&
          size <= load.p_filesz - (address - load.p_vaddr)) {
        offset = load.p_offset + (address - load.p_vaddr);
        return bytes_.holds(offset, size);
      }
    return false;
  }

  // the address of a defined dynamic symbol, or 0
  uint64_t symbol(const std::string& wanted) const {
    for (uint16_t i = 0; i < header_.e_shnum; ++i) {
      auto table = section(i);
      if (table.sh_type != SHT_DYNSYM || table.sh_link >= header_.e_shnum) continue;
      auto names = section(table.sh_link);
      if (!bytes_.holds(table.sh_offset, table.sh_size) ||
          !bytes_.holds(names.sh_offset, names.sh_size))
        return 0;
      for (uint64_t at = 0; at + sizeof(Elf64_Sym) <= table.sh_size; at += sizeof(Elf64_Sym)) {
        auto entry = bytes_.at<Elf64_Sym>(table.sh_offset + at);
        if (entry.st_shndx == SHN_UNDEF || entry.st_name >= names.sh_size) continue;
        const char* name = bytes_.data.data() + names.sh_offset + entry.st_name;
        size_t length = strnlen(name, names.sh_size - entry.st_name);
        if (std::string_view(name, length) == wanted) return entry.st_value;
      }
    }
    return 0;
  }

  // `size` bytes at virtual address `address`, copied; false when the file does not hold them
  bool read(uint64_t address, void* out, uint64_t size) const {
    uint64_t offset = 0;
    if (!offset_of(address, size, offset)) return false;
    std::memcpy(out, bytes_.data.data() + offset, size);
    return true;
  }

  // the pointer the loader stores at `address`: a relative or absolute relocation's value, or
  // the file's own bytes when none applies; 0 when unknown
  uint64_t pointer_at(uint64_t address) const {
    for (uint16_t i = 0; i < header_.e_shnum; ++i) {
      auto table = section(i);
      if (table.sh_type != SHT_RELA || !bytes_.holds(table.sh_offset, table.sh_size)) continue;
      for (uint64_t at = 0; at + sizeof(Elf64_Rela) <= table.sh_size; at += sizeof(Elf64_Rela)) {
        auto entry = bytes_.at<Elf64_Rela>(table.sh_offset + at);
        if (entry.r_offset != address) continue;
        uint32_t type = ELF64_R_TYPE(entry.r_info);
        if (type == kRelative) return static_cast<uint64_t>(entry.r_addend);
        if (type == kAbsolute) return symbol_value(table.sh_link, ELF64_R_SYM(entry.r_info)) +
                                      static_cast<uint64_t>(entry.r_addend);
        return 0;
      }
    }
    uint64_t offset = 0;
    return offset_of(address, sizeof(uint64_t), offset) ? bytes_.at<uint64_t>(offset) : 0;
  }

  // a NUL-terminated string at `address`, at most kMaxHeaderText bytes; nullopt when unreadable
  std::optional<std::string> text_at(uint64_t address) const {
    for (const auto& load : loads_) {
      if (address < load.p_vaddr || address - load.p_vaddr >= load.p_filesz) continue;
      uint64_t offset = load.p_offset + (address - load.p_vaddr);
      uint64_t room = std::min(load.p_filesz - (address - load.p_vaddr), kMaxHeaderText);
      if (!bytes_.holds(offset, room)) return std::nullopt;
      const char* text = bytes_.data.data() + offset;
      size_t length = strnlen(text, room);
      if (length == room) return std::nullopt;
      return std::string(text, length);
    }
    return std::nullopt;
  }

 private:
  uint64_t symbol_value(uint32_t symbols, uint64_t index) const {
    if (symbols >= header_.e_shnum) return 0;
    auto table = section(symbols);
    uint64_t at = table.sh_offset + index * sizeof(Elf64_Sym);
    if (index * sizeof(Elf64_Sym) >= table.sh_size || !bytes_.holds(at, sizeof(Elf64_Sym))) return 0;
    auto entry = bytes_.at<Elf64_Sym>(at);
    return entry.st_shndx == SHN_UNDEF ? 0 : entry.st_value;
  }

  const Bytes& bytes_;
  Elf64_Ehdr header_;
  std::vector<Elf64_Phdr> loads_;
};

// `wm_plugin_header_v1` is a pointer (a Boost.DLL alias) to the plugin's wm_plugin_header: its
// numbers are in the file, its strings are pointers the loader relocates
std::optional<PluginFileHeader> read_header(const ElfImage& image, const std::string& file) {
  uint64_t alias = image.symbol("wm_plugin_header_v1");
  if (alias == 0) return std::nullopt;
  auto corrupt = [&](const std::string& why) {
    return Error(file + ": corrupt plugin header (" + why + "); rebuild the plugin");
  };
  uint64_t address = image.pointer_at(alias);
  uint32_t numbers[5];
  static_assert(offsetof(wm_plugin_header, glibcxx_debug) == 4 * sizeof(uint32_t));
  if (address == 0 || !image.read(address, numbers, sizeof numbers))
    throw corrupt("wm_plugin_header_v1 points outside the file");
  PluginFileHeader header;
  header.magic = numbers[0], header.header_size = numbers[1], header.sdk_abi = numbers[2];
  header.cxx11_abi = numbers[3], header.glibcxx_debug = numbers[4];
  if (header.magic != WM_PLUGIN_MAGIC) return header;  // checked, with its message, by the caller
  // the strings every header version has (the struct is only ever appended to)
  std::pair<size_t, std::string*> texts[] = {
      {offsetof(wm_plugin_header, sdk_version), &header.sdk_version},
      {offsetof(wm_plugin_header, torch_version), &header.torch_version},
      {offsetof(wm_plugin_header, compiler), &header.compiler},
      {offsetof(wm_plugin_header, kind), &header.kind},
      {offsetof(wm_plugin_header, name), &header.name},
      {offsetof(wm_plugin_header, version), &header.version}};
  for (auto [field, text] : texts) {
    if (field + sizeof(uint64_t) > header.header_size) continue;
    auto value = image.text_at(image.pointer_at(address + field));
    if (!value) throw corrupt("a string field points outside the file");
    *text = *value;
  }
  return header;
}

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
  ElfImage image(bytes, header);
  uint64_t segments_end = header.e_phoff + uint64_t(header.e_phnum) * header.e_phentsize;
  if (header.e_phentsize != sizeof(Elf64_Phdr) || !bytes.holds(header.e_phoff, segments_end - header.e_phoff))
    throw broken("truncated: its program headers end past the file (an interrupted copy?)");
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    auto segment = bytes.at<Elf64_Phdr>(header.e_phoff + uint64_t(i) * sizeof(Elf64_Phdr));
    if (segment.p_type == PT_LOAD && !bytes.holds(segment.p_offset, segment.p_filesz))
      throw broken("truncated: " + std::to_string(bytes.data.size()) + " bytes, but its segments need " +
                   std::to_string(segment.p_offset + segment.p_filesz) + " (an interrupted copy?)");
    if (segment.p_type == PT_LOAD) image.add_segment(segment);
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
  info.header = read_header(image, file.string());
  return info;
}

void check_plugin_header(const std::filesystem::path& file, const PluginFile& info) {
  std::string name = file.string();
  if (!info.header)
    throw Error(name + ": not a wmhost plugin (it exports no wm_plugin_header_v1; register it "
                       "with WM_PLUGIN)");
  const PluginFileHeader& header = *info.header;
  if (header.magic != WM_PLUGIN_MAGIC) throw Error(name + ": corrupt plugin header (bad magic)");
  if (header.sdk_abi != WM_SDK_ABI_VERSION)
    throw Error(name + ": built for wmsdk ABI " + std::to_string(header.sdk_abi) +
                ", this wmhost speaks " + std::to_string(WM_SDK_ABI_VERSION) +
                "; rebuild the plugin against this wmsdk");
  if (header.torch_version != WM_BUILD_TORCH_VERSION)
    throw Error(name + ": built against LibTorch " + header.torch_version + ", this wmhost uses " +
                WM_BUILD_TORCH_VERSION);
  if (header.cxx11_abi != _GLIBCXX_USE_CXX11_ABI || header.glibcxx_debug != WM_BUILD_GLIBCXX_DEBUG)
    throw Error(name + ": built with a different C++ standard library ABI "
                       "(_GLIBCXX_USE_CXX11_ABI / _GLIBCXX_DEBUG differ from this wmhost's)");
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
