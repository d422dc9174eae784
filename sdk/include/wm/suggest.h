// "did you mean": the closest known name to a typo.
#pragma once
#include <string>
#include <vector>

namespace wm {

// Levenshtein distance between two names
size_t edit_distance(const std::string& a, const std::string& b);

// "; did you mean 'norm'?" when a candidate is close enough, otherwise ""
std::string did_you_mean(const std::string& typo, const std::vector<std::string>& candidates);

// "a, b, c"
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");

}  // namespace wm
