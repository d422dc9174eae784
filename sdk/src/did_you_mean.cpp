#include "wm/error.h"

#include <algorithm>
#include <numeric>

namespace wm {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string did_you_mean(const std::string& typo, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t best_distance = 0;
  for (const auto& candidate : candidates) {
    size_t distance = edit_distance(typo, candidate);
    if (!best || distance < best_distance) best = &candidate, best_distance = distance;
  }
  // a third of the longer name, at least 2 edits: catches typos, not unrelated words
  size_t limit = std::max<size_t>(2, std::max(typo.size(), best ? best->size() : 0) / 3);
  if (!best || best_distance > limit) return "";
  return "; did you mean '" + *best + "'?";
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i) text += (i ? separator : "") + items[i];
  return text;
}

}  // namespace wm
