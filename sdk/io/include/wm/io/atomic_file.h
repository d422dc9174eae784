// Files in a run directory appear whole or not at all: write a temporary, then rename.
#pragma once
#include <filesystem>
#include <string>

namespace wm::io {

// writes `content` to `path` via `path.tmp-<pid>` + fsync + rename + fsync of the folder; throws
// wm::Error on failure (a full disk, a file-size limit), removing the temporary
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

}  // namespace wm::io
