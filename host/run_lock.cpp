#include "run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "wm/error.h"

namespace wm {

RunFolderLock::RunFolderLock(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  auto file = dir / kFileName;
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error("cannot open " + file.string() + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    // the holder wrote its pid into the file when it took the lock
    char text[32] = {};
    ssize_t length = ::pread(fd_, text, sizeof text - 1, 0);
    std::string pid = length > 0 ? std::string(text, static_cast<size_t>(length)) : "";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK)
      throw Error("run folder " + dir.string() + " is in use by another wmhost (pid " +
                  (pid.empty() ? "unknown" : pid) + ", holding " + file.string() +
                  "); wait for it to end or stop it, or choose another --out");
    throw Error("cannot lock " + file.string() + ": " + std::strerror(error));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 ||
      ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    std::string reason = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    throw Error("cannot write " + file.string() + ": " + reason);
  }
}

RunFolderLock::~RunFolderLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace wm
