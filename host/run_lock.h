// One process per run folder: `<run>/run.lock` is held with flock(2) for as long as a run or a
// resume writes there, so a second `wmhost run` into the same folder is refused instead of
// interleaving its checkpoints and metrics with the first. The kernel drops the lock when the
// holder exits, kill -9 included, so a stale file never blocks a resume.
#pragma once
#include <filesystem>

namespace wm {

class RunFolderLock {
 public:
  // takes the lock on `dir` (created if absent); throws Error naming the pid that holds it
  explicit RunFolderLock(const std::filesystem::path& dir);
  ~RunFolderLock();
  RunFolderLock(const RunFolderLock&) = delete;
  RunFolderLock& operator=(const RunFolderLock&) = delete;

  // the lock file's name inside a run folder
  static constexpr const char* kFileName = "run.lock";

 private:
  int fd_ = -1;
};

}  // namespace wm
