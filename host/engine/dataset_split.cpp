#include "engine/dataset_split.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <unordered_set>

#include "wm/error.h"

namespace wm {

double stable_unit_hash(const std::string& id, const std::string& salt, uint64_t seed) {
  // FNV-1a over (seed, salt, id), then a splitmix64 finaliser for well-spread high bits
  uint64_t hash = 1469598103934665603ull ^ seed;
  auto mix = [&](const std::string& text) {
    for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
    hash = (hash ^ 0xff) * 1099511628211ull;
  };
  mix(salt);
  mix(id);
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ull;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebull;
  hash ^= hash >> 31;
  return static_cast<double>(hash >> 11) / static_cast<double>(1ull << 53);
}

SplitDataset::SplitDataset(std::shared_ptr<Dataset> base, const SplitSpec& spec)
    : base_(std::move(base)) {
  static const std::vector<std::string> names = {"train", "val", "test"};
  int which = -1;
  for (size_t i = 0; i < names.size(); ++i)
    if (spec.split == names[i]) which = static_cast<int>(i);
  if (spec.split != "all" && which < 0)
    throw Error("unknown split '" + spec.split + "' (use train, val, test or all)");
  if (which >= static_cast<int>(spec.fractions.size()))
    throw Error("split '" + spec.split + "' needs " + std::to_string(which + 1) + " fractions");
  double total = std::accumulate(spec.fractions.begin(), spec.fractions.end(), 0.0);
  if (total <= 0) throw Error("split fractions must add up to more than 0");

  double lower = 0, upper = 1;
  if (which >= 0) {
    for (int i = 0; i < which; ++i) lower += spec.fractions[i] / total;
    upper = lower + spec.fractions[which] / total;
  }
  for (int64_t i = 0; i < base_->size(); ++i) {
    std::string sample_id = base_->id(i);
    double coin = stable_unit_hash(sample_id, "split", spec.seed);
    if (coin < lower || coin >= upper) continue;
    if (stable_unit_hash(sample_id, "subset", spec.seed) >= spec.subset) continue;
    indices_.push_back(i);
  }
}

int64_t SplitDataset::base_index(int64_t index) const {
  WM_CHECK(index >= 0 && index < size()) << "index " << index << " of " << size();
  return indices_[static_cast<size_t>(index)];
}

Sample SplitDataset::get(int64_t index) const { return base_->get(base_index(index)); }
std::string SplitDataset::id(int64_t index) const { return base_->id(base_index(index)); }

ListedDataset::ListedDataset(std::shared_ptr<Dataset> base, const std::vector<std::string>& ids,
                             const std::string& list_name)
    : base_(std::move(base)) {
  std::unordered_set<std::string> wanted(ids.begin(), ids.end());
  for (int64_t i = 0; i < base_->size(); ++i)
    if (wanted.count(base_->id(i))) indices_.push_back(i);
  missing_ = static_cast<int64_t>(wanted.size() - std::min(indices_.size(), wanted.size()));
  if (indices_.empty())
    throw Error(list_name + ": none of its " + std::to_string(wanted.size()) +
                " ids is a sample of this data set (was the list written for other data?)");
}

int64_t ListedDataset::base_index(int64_t index) const {
  WM_CHECK(index >= 0 && index < size()) << "index " << index << " of " << size();
  return indices_[static_cast<size_t>(index)];
}

Sample ListedDataset::get(int64_t index) const { return base_->get(base_index(index)); }
std::string ListedDataset::id(int64_t index) const { return base_->id(base_index(index)); }

std::vector<std::string> read_id_list(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw Error(file + ": cannot read the id list");
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    line.erase(0, line.find_first_not_of(" \t"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (!line.empty() && line[0] != '#') ids.push_back(line);
  }
  return ids;
}

}  // namespace wm
