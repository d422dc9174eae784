// libFuzzer target: bytes as a tar shard, read the way the webdataset plugin and
// fit_action_scaler read shards (TarReader::index and read, index_shard). A corrupt shard may
// only end in wm::Error (DataError); anything else escaping, a sanitizer report, a leak or a
// hang is a finding. Every member the reader reports must lie inside the file and read back as
// exactly the input's bytes at its offset.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "wm/error.h"
#include "wm/io/tar.h"
#include "wm/io/webdataset.h"
#include "wm/log.h"

namespace {

//---- the shard file: one per fuzzing process, rewritten for every input ----

std::filesystem::path& shard_path() {
  static std::filesystem::path path;
  return path;
}

void write_shard(const uint8_t* data, size_t size) {
  std::FILE* file = std::fopen(shard_path().c_str(), "wb");
  if (!file) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, file) != size) std::abort();
  if (std::fclose(file) != 0) std::abort();
}

void remove_shard() { std::filesystem::remove(shard_path()); }

// a broken promise of the reader: report it as a crash with the reason
[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz_tar: %s\n", what.c_str());
  std::abort();
}

//---- checksums ----

// mutated headers almost never keep a valid checksum, so each input also runs with the checksum
// of every header rewritten, walking the file the way a tar reader does: the size field (octal,
// or base-256 when the high bit is set) says where the next header starts
uint64_t size_field(const uint8_t* header) {
  uint64_t size = 0;
  if (header[124] & 0x80) {
    for (size_t i = 125; i < 136; ++i) size = (size << 8) | header[i];
    return size;
  }
  for (size_t i = 124; i < 136 && header[i] >= '0' && header[i] <= '7'; ++i)
    size = size * 8 + static_cast<uint64_t>(header[i] - '0');
  return size;
}

bool repair_checksums(std::string& tar) {
  bool changed = false;
  uint64_t at = 0;
  while (tar.size() >= 512 && at <= tar.size() - 512) {
    auto* header = reinterpret_cast<uint8_t*>(&tar[at]);
    uint64_t sum = 0;
    bool zero = true;
    for (size_t i = 0; i < 512; ++i) {
      zero = zero && header[i] == 0;
      sum += (i >= 148 && i < 156) ? ' ' : header[i];
    }
    if (zero) {
      at += 512;
      continue;
    }
    char field[9];
    std::snprintf(field, sizeof field, "%06o", static_cast<unsigned>(sum & 0777777));
    if (std::memcmp(header + 148, field, 7) != 0 || header[155] != ' ') changed = true;
    std::memcpy(header + 148, field, 7);
    header[155] = ' ';
    uint64_t size = size_field(header), left = tar.size() - at - 512;
    if (size > left) break;
    at += 512 + (size + 511) / 512 * 512;
  }
  return changed;
}

//---- the reads ----

void read_members(const uint8_t* data, size_t size) {
  wm::io::TarReader reader(shard_path());
  auto members = reader.index();
  for (const auto& member : members) {
    if (member.offset > size || member.size > size - member.offset)
      finding("member '" + member.name + "' at " + std::to_string(member.offset) + "+" +
              std::to_string(member.size) + " lies outside a file of " + std::to_string(size));
    std::string bytes = reader.read(member);
    if (bytes.size() != member.size ||
        std::memcmp(bytes.data(), data + member.offset, bytes.size()) != 0)
      finding("member '" + member.name + "' reads back other bytes than the file holds");
  }
  // the standalone read of the last member opens the file again
  if (!members.empty()) wm::io::read_tar_member(shard_path(), members.back());
}

void index_samples() {
  for (const auto& sample : wm::io::index_shard(shard_path()))
    for (const auto& [extension, member] : sample.members)
      if (sample.find(extension) != &member) finding("ShardSample::find misses '" + extension + "'");
}

void read_shard(const uint8_t* data, size_t size) {
  write_shard(data, size);
  try {
    read_members(data, size);
  } catch (const wm::Error&) {
  }
  try {
    index_samples();
  } catch (const wm::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  wm::log().set_level(spdlog::level::off);  // every corrupt shard warns; the fuzzer needs speed
  const char* tmp = std::getenv("TMPDIR");
  shard_path() = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
                 ("wm_fuzz_tar_" + std::to_string(::getpid()) + ".tar");
  std::atexit(remove_shard);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  read_shard(data, size);
  std::string repaired(reinterpret_cast<const char*>(data), size);
  if (repair_checksums(repaired))
    read_shard(reinterpret_cast<const uint8_t*>(repaired.data()), repaired.size());
  return 0;
}
