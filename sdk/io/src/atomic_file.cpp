#include "wm/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "wm/error.h"

namespace wm::io {

void write_file_atomic(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::path temporary = path;
  temporary += ".tmp-" + std::to_string(::getpid());
  auto fail = [&](const char* what) {
    std::string reason = std::strerror(errno);
    std::filesystem::remove(temporary);
    throw Error(std::string("cannot ") + what + " " + path.string() + ": " + reason);
  };
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("create");
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      fail("write");
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) fail("flush");
  if (std::rename(temporary.c_str(), path.c_str()) != 0) fail("rename into");
  // the rename itself reaches the disk only with the folder's entry: fsync the folder too
  std::filesystem::path folder = path.parent_path().empty() ? "." : path.parent_path();
  int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int synced = dir < 0 ? -1 : ::fsync(dir);
  int error = synced != 0 ? errno : 0;
  if (dir >= 0) ::close(dir);
  // file systems that cannot sync a folder (some FUSE and network mounts) or open one for
  // reading: the file is in place and nothing more can be done for its entry
  bool unsupported = error == EINVAL || error == ENOTSUP || error == EROFS || error == EACCES;
  std::string reason = std::strerror(error);
  if (synced != 0 && !unsupported)
    throw Error("cannot sync folder " + folder.string() + " after writing " + path.string() + ": " +
                reason);
}

}  // namespace wm::io
