// Tar shards without unpacking: read a shard's member list from its headers alone (seeking over
// the data), read one member's bytes by offset, and write shards atomically. Understands ustar,
// GNU long names and pax extended headers. A truncated or corrupt shard raises wm::DataError
// (a size past the end of the file, a long-name header over 64 KiB, a member too large to hold in
// memory); zero blocks before the end of the file, a shard without an end-of-archive marker and
// an empty shard are read on with a warning in the log.
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace wm::io {

//---- members ----

// a regular file inside a tar: its name and where its bytes are
struct TarMember {
  std::string name;     // full path inside the archive (pax or GNU long names applied)
  uint64_t offset = 0;  // byte offset of the member's data in the tar file
  uint64_t size = 0;    // bytes
};

//---- reading ----

class TarReader {
 public:
  // opens the shard; a missing or unreadable file throws wm::Error naming it
  explicit TarReader(std::filesystem::path path);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // the next regular file member, reading its header(s) only; false at the end of the archive.
  // Directories, links and global pax headers are passed over.
  bool next(TarMember& member);
  // every regular file member, in archive order (from the start, headers only)
  std::vector<TarMember> index();
  // a member's bytes; safe to call from several threads at once
  std::string read(const TarMember& member) const;

  const std::filesystem::path& path() const { return path_; }
  uint64_t file_size() const { return file_size_; }

 private:
  void read_exact(uint64_t offset, char* buffer, size_t size, const std::string& what) const;
  // moves the cursor past zero blocks; false when only zeros are left (the end of the archive)
  bool skip_zero_blocks();
  std::filesystem::path path_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  uint64_t cursor_ = 0;  // where the next header starts
};

// one member's bytes, by offset and size from an index made earlier (opens and closes the file)
std::string read_tar_member(const std::filesystem::path& path, const TarMember& member);

//---- writing ----

// Writes `path` whole or not at all: members go to `path.tmp-<pid>`, and close() adds the end
// blocks, syncs and renames. A writer destroyed before close() removes its temporary.
class TarWriter {
 public:
  explicit TarWriter(std::filesystem::path path);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // appends a regular file; names longer than ustar allows get a pax header
  void add(const std::string& name, std::string_view bytes);
  void close();
  int64_t members() const { return members_; }

 private:
  void write_header(const std::string& name, uint64_t size, char type);
  void write_bytes(const char* data, size_t size);
  void pad_to_block(uint64_t size);
  std::filesystem::path path_, temporary_;
  std::FILE* file_ = nullptr;
  int64_t members_ = 0;
};

}  // namespace wm::io
