#include "wm/io/tar.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "wm/error.h"
#include "wm/log.h"

namespace wm::io {

namespace {

constexpr uint64_t kBlock = 512;
// extended headers hold a name (and a few pax records): anything larger is corruption
constexpr uint64_t kMaxLongName = 64 * 1024;
constexpr uint64_t kMaxPaxHeader = 1024 * 1024;
// the cursor once the end of the archive was reached (and reported)
constexpr uint64_t kEnded = ~uint64_t{0};

uint64_t padded(uint64_t size) { return (size + kBlock - 1) / kBlock * kBlock; }

// a numeric header field: octal text, or base-256 when the first byte's high bit is set
bool parse_number(const char* field, size_t width, uint64_t& value) {
  value = 0;
  auto bytes = reinterpret_cast<const unsigned char*>(field);
  if (bytes[0] & 0x80) {
    if (bytes[0] & 0x40) return false;  // negative
    value = bytes[0] & 0x3F;
    for (size_t i = 1; i < width; ++i) value = (value << 8) | bytes[i];
    return true;
  }
  size_t i = 0;
  while (i < width && (field[i] == ' ' || field[i] == '\0')) ++i;
  bool digits = false;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i, digits = true)
    value = value * 8 + static_cast<uint64_t>(field[i] - '0');
  for (; i < width; ++i)
    if (field[i] != ' ' && field[i] != '\0') return false;
  return digits;
}

std::string field_text(const char* field, size_t width) {
  return std::string(field, strnlen(field, width));
}

bool all_zero(const char* block) {
  return std::all_of(block, block + kBlock, [](char c) { return c == 0; });
}

// the header checksum: every byte summed, with the checksum field counted as spaces
uint64_t checksum(const char* block) {
  uint64_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i)
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(block[i]);
  return sum;
}

// why `block`, read at byte `at`, is not a tar header ("" when it is one); its size field goes
// to `size`
std::string header_problem(const char* block, uint64_t at, uint64_t& size) {
  uint64_t stored_sum = 0;
  if (!parse_number(block + 148, 8, stored_sum) || stored_sum != checksum(block))
    return "corrupt tar header at byte " + std::to_string(at) + " (checksum mismatch)";
  if (!parse_number(block + 124, 12, size))
    return "corrupt size field at byte " + std::to_string(at);
  return "";
}

// pax records "<length> <key>=<value>\n"; we need path and size. A length that does not fit
// the payload ends the records (the rest is ignored, as GNU tar does)
void apply_pax(const std::string& records, std::string& path, uint64_t& size, bool& has_size) {
  size_t pos = 0;
  while (pos < records.size()) {
    size_t space = records.find(' ', pos);
    if (space == std::string::npos) break;
    uint64_t length = std::strtoull(records.c_str() + pos, nullptr, 10);
    if (length > records.size() - pos || pos + length < space + 2) break;
    std::string record = records.substr(space + 1, pos + length - space - 2);
    size_t equals = record.find('=');
    if (equals != std::string::npos) {
      std::string key = record.substr(0, equals), value = record.substr(equals + 1);
      if (key == "path") path = value;
      if (key == "size") size = std::strtoull(value.c_str(), nullptr, 10), has_size = true;
    }
    pos += length;
  }
}

// a buffer of `size` bytes, or a DataError naming the shard when it cannot be had
std::string buffer_for(const std::filesystem::path& shard, uint64_t size, const std::string& what) {
  try {
    return std::string(static_cast<size_t>(size), '\0');
  } catch (const std::exception& e) {  // std::bad_alloc, std::length_error
    throw DataError(shard.string(), "cannot hold " + what + " of " + std::to_string(size) +
                                        " bytes in memory (" + e.what() + ")");
  }
}

}  // namespace

//---- reading ----

TarReader::TarReader(std::filesystem::path path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw Error("cannot open tar shard " + path_.string() + ": " + std::strerror(errno));
  struct stat info {};
  ::fstat(fd_, &info);
  if (S_ISDIR(info.st_mode)) {
    ::close(fd_);
    throw Error(path_.string() + " is a folder, expected a .tar shard");
  }
  file_size_ = static_cast<uint64_t>(info.st_size);
}

TarReader::~TarReader() {
  if (fd_ >= 0) ::close(fd_);
}

void TarReader::read_exact(uint64_t offset, char* buffer, size_t size,
                           const std::string& what) const {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_, buffer + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw DataError(path_.string(), std::string("read error: ") + std::strerror(errno));
    if (n == 0)
      throw DataError(path_.string(), "truncated: " + what + " needs bytes " +
                                          std::to_string(offset) + ".." +
                                          std::to_string(offset + size) + ", the file has " +
                                          std::to_string(file_size_));
    done += static_cast<size_t>(n);
  }
}

bool TarReader::next(TarMember& member) {
  std::string long_name;
  uint64_t pax_size = 0;
  bool has_pax_size = false;
  char block[kBlock];
  uint64_t zeros_from = kEnded;  // where the zero blocks just passed over began
  for (;;) {
    if (cursor_ == kEnded) return false;  // said so once already
    // no end-of-archive marker: the archive may have been cut at a header boundary
    if (cursor_ >= file_size_) {
      if (cursor_ > 0)
        log().warn("{}: ends at byte {} without an end-of-archive marker (the shard may be cut "
                   "short; members after it are lost)", path_.string(), cursor_);
      else
        log().warn("{}: empty shard (0 bytes)", path_.string());
      cursor_ = kEnded;
      return false;
    }
    read_exact(cursor_, block, kBlock, "a header");
    if (all_zero(block)) {
      // zero blocks end the archive when nothing but zeros follows them, or no header (below)
      zeros_from = cursor_;
      if (!skip_zero_blocks()) {
        if (zeros_from == 0) log().warn("{}: empty shard (no members)", path_.string());
        cursor_ = kEnded;
        return false;
      }
      continue;
    }
    uint64_t header_at = cursor_, size = 0;
    std::string problem = header_problem(block, header_at, size);
    // a block that is no header is corruption, unless zero blocks came first: then it is what a
    // tool padded or appended after the end-of-archive marker, and the archive ended there
    if (!problem.empty()) {
      if (zeros_from == kEnded) throw DataError(path_.string(), problem);
      log().warn(
          "{}: bytes from {} on are not a tar header; the archive ends at the "
          "end-of-archive marker at byte {} (padding or data appended after it is "
          "ignored)",
          path_.string(), header_at, zeros_from);
      cursor_ = kEnded;
      return false;
    }
    if (zeros_from != kEnded)
      log().warn("{}: zeroed header block(s) at bytes {}..{} before the end of the file; reading "
                 "on from the next header", path_.string(), zeros_from, cursor_);
    zeros_from = kEnded;
    char type = block[156];
    if (has_pax_size && (type == '0' || type == '\0' || type == '7')) size = pax_size;
    // overflow-free: data <= file_size_ since the header block was read whole
    uint64_t data = cursor_ + kBlock;
    if (size > file_size_ - data)
      throw DataError(path_.string(), "truncated: member '" + field_text(block, 100) + "' needs " +
                                          std::to_string(size) + " bytes at " +
                                          std::to_string(data) + ", the file has " +
                                          std::to_string(file_size_));
    cursor_ = data + padded(size);
    if (cursor_ <= header_at)  // cannot happen with the bound above; never loop in place
      throw DataError(path_.string(),
                      "tar header at byte " + std::to_string(header_at) + " does not advance");

    if (type == 'L' || type == 'x') {  // GNU long name, pax local header: apply to the next
      uint64_t cap = type == 'L' ? kMaxLongName : kMaxPaxHeader;
      if (size > cap)
        throw DataError(path_.string(), std::string(type == 'L' ? "GNU long-name" : "pax") +
                                            " header at byte " + std::to_string(header_at) +
                                            " holds " + std::to_string(size) +
                                            " bytes, more than the " + std::to_string(cap) +
                                            " a name needs (a corrupt shard)");
      std::string payload = buffer_for(path_, size, "an extended header");
      read_exact(data, payload.data(), payload.size(), "an extended header");
      if (type == 'L')
        long_name = payload.c_str();
      else
        apply_pax(payload, long_name, pax_size, has_pax_size);
      continue;
    }
    if (type != '0' && type != '\0' && type != '7') {  // directories, links, global pax, ...
      long_name.clear();
      has_pax_size = false;
      continue;
    }
    std::string name = field_text(block, 100);
    if (std::memcmp(block + 257, "ustar", 5) == 0 && block[345] != '\0')
      name = field_text(block + 345, 155) + "/" + name;
    member.name = long_name.empty() ? name : long_name;
    member.offset = data;
    member.size = size;
    return true;
  }
}

bool TarReader::skip_zero_blocks() {
  char block[kBlock];
  uint64_t at = cursor_;
  while (at < file_size_) {
    if (file_size_ - at < kBlock) {  // a partial trailing block: zeros or not, no header fits
      cursor_ = file_size_;
      return false;
    }
    read_exact(at, block, kBlock, "a header");
    if (!all_zero(block)) break;
    at += kBlock;
  }
  if (at >= file_size_) {
    cursor_ = file_size_;
    return false;
  }
  cursor_ = at;
  return true;
}

std::vector<TarMember> TarReader::index() {
  cursor_ = 0;
  std::vector<TarMember> members;
  TarMember member;
  while (next(member)) members.push_back(member);
  return members;
}

std::string TarReader::read(const TarMember& member) const {
  if (member.offset > file_size_ || member.size > file_size_ - member.offset)
    throw DataError(path_.string(), "truncated: member '" + member.name + "' ends at byte " +
                                        std::to_string(member.offset) + "+" +
                                        std::to_string(member.size) + ", the file has " +
                                        std::to_string(file_size_));
  std::string bytes = buffer_for(path_, member.size, "member '" + member.name + "'");
  read_exact(member.offset, bytes.data(), bytes.size(), "member '" + member.name + "'");
  return bytes;
}

std::string read_tar_member(const std::filesystem::path& path, const TarMember& member) {
  return TarReader(path).read(member);
}

//---- writing ----

TarWriter::TarWriter(std::filesystem::path path) : path_(std::move(path)) {
  temporary_ = path_;
  temporary_ += ".tmp-" + std::to_string(::getpid());
  file_ = std::fopen(temporary_.c_str(), "wb");
  if (!file_)
    throw Error("cannot create " + temporary_.string() + ": " + std::strerror(errno));
}

TarWriter::~TarWriter() {
  if (file_) {
    std::fclose(file_);
    std::filesystem::remove(temporary_);
  }
}

void TarWriter::write_bytes(const char* data, size_t size) {
  if (size && std::fwrite(data, 1, size, file_) != size)
    throw Error("cannot write " + temporary_.string() + ": " + std::strerror(errno));
}

void TarWriter::pad_to_block(uint64_t size) {
  static const char zeros[kBlock] = {};
  write_bytes(zeros, static_cast<size_t>(padded(size) - size));
}

void TarWriter::write_header(const std::string& name, uint64_t size, char type) {
  char block[kBlock] = {};
  std::memcpy(block, name.data(), std::min<size_t>(name.size(), 100));
  std::snprintf(block + 100, 8, "%07o", 0644);
  std::snprintf(block + 108, 8, "%07o", 0);
  std::snprintf(block + 116, 8, "%07o", 0);
  if (size < (uint64_t{1} << 33)) {
    std::snprintf(block + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  } else {  // base-256 for 8 GiB and more
    block[124] = static_cast<char>(0x80);
    for (int i = 0; i < 8; ++i) block[135 - i] = static_cast<char>((size >> (8 * i)) & 0xFF);
  }
  std::snprintf(block + 136, 12, "%011o", 0);  // mtime 0: shards are byte-reproducible
  block[156] = type;
  std::memcpy(block + 257, "ustar", 6);
  std::memcpy(block + 263, "00", 2);
  std::snprintf(block + 148, 8, "%06llo", static_cast<unsigned long long>(checksum(block)));
  block[155] = ' ';
  write_bytes(block, kBlock);
}

void TarWriter::add(const std::string& name, std::string_view bytes) {
  if (!file_) throw Error("tar writer for " + path_.string() + " is already closed");
  if (name.empty()) throw Error("tar member names cannot be empty (" + path_.string() + ")");
  if (name.size() > 100) {
    // pax record: its length counts its own digits
    std::string body = " path=" + name + "\n";
    size_t length = body.size() + 1;
    while (std::to_string(length).size() + body.size() != length) ++length;
    std::string record = std::to_string(length) + body;
    write_header("PaxHeader", record.size(), 'x');
    write_bytes(record.data(), record.size());
    pad_to_block(record.size());
  }
  write_header(name, bytes.size(), '0');
  write_bytes(bytes.data(), bytes.size());
  pad_to_block(bytes.size());
  ++members_;
}

void TarWriter::close() {
  if (!file_) return;
  static const char zeros[2 * kBlock] = {};
  write_bytes(zeros, sizeof zeros);
  bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  flushed = std::fclose(file_) == 0 && flushed;
  file_ = nullptr;
  if (!flushed || std::rename(temporary_.c_str(), path_.c_str()) != 0) {
    std::string reason = std::strerror(errno);
    std::filesystem::remove(temporary_);
    throw Error("cannot finish tar shard " + path_.string() + ": " + reason);
  }
}

}  // namespace wm::io
