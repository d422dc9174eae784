// Files in a run directory appear whole or not at all: write a temporary, then rename.
#pragma once
#include <filesystem>
#include <string>

namespace wm::io {

// writes `content` to `path` via `path.tmp-<pid>` + fsync + rename; throws wm::Error on failure
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

}  // namespace wm::io
