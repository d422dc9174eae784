// The `score` procedure's pairing of predicted and true videos (score.cpp), shared with the
// `wmhost score` command, which checks the pairs before it builds its experiment.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace wm {

struct VideoPair {
  std::string name;  // the shared file name without extension
  std::filesystem::path prediction, target;
};

// every prediction with the target of its name, in name order. Each side is a folder (its
// .mp4/.webm/.mkv/.avi/.mov/.m4v/.gif files, not recursive) or a glob. A name on one side only,
// a name twice on one side, or a side without files is a wm::Error naming the first such file.
std::vector<VideoPair> pair_videos(const std::string& prediction, const std::string& target);

}  // namespace wm
