#include "engine/dataset_split.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <regex>
#include <unordered_set>

#include "wm/error.h"
#include "wm/log.h"

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

//---- split groups ----

namespace {

// what the split coin hashes for each sample: its group, its id, or a regex's first capture
class SplitKey {
 public:
  explicit SplitKey(const std::string& split_by) : by_(split_by) {
    if (by_ != "group" && by_ != "sample") pattern_ = compile(by_);
  }
  std::string operator()(const Dataset& base, int64_t index) const {
    if (by_ == "group") return base.group(index);
    std::string sample_id = base.id(index);
    if (by_ == "sample") return sample_id;
    std::smatch match;
    if (!std::regex_search(sample_id, match, pattern_) || !match[1].matched)
      throw Error("split_by '" + by_ + "' does not match sample id '" + sample_id +
                  "' (its first capture group is the split group, so it must match every id)");
    return match[1].str();
  }
  static std::regex compile(const std::string& text) {
    std::regex pattern;
    try {
      pattern = std::regex(text, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw Error("split_by '" + text + "' is neither group, sample nor a valid regex (" +
                  e.what() + ")");
    }
    if (pattern.mark_count() < 1)
      throw Error("split_by '" + text + "' has no capture group: the group is the first capture, "
                  "e.g. '^([^/]+)/' for the id's first path part");
    return pattern;
  }

 private:
  std::string by_;
  std::regex pattern_;
};

}  // namespace

void check_split_by(const std::string& split_by) { (void)SplitKey(split_by); }

//---- splits and subsets ----

SplitDataset::SplitDataset(std::shared_ptr<Dataset> base, const SplitSpec& spec,
                           const std::string& name)
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
  bool count = spec.subset > 1;
  if (count && spec.subset != std::floor(spec.subset))
    throw Error("subset " + fmt::format("{}", spec.subset) +
                " is neither a fraction (at most 1) nor a whole number of samples");

  double lower = 0, upper = 1;
  if (which >= 0) {
    for (int i = 0; i < which; ++i) lower += spec.fractions[i] / total;
    upper = lower + spec.fractions[which] / total;
  }
  // the split coin hashes the group, the subset coin the sample id
  SplitKey split_key(spec.split_by);
  struct Kept {
    double coin;
    std::string id, group;
    int64_t index;
  };
  std::vector<Kept> kept;
  for (int64_t i = 0; i < base_->size(); ++i) {
    std::string group = split_key(*base_, i);
    double coin = stable_unit_hash(group, "split", spec.seed);
    if (coin < lower || coin >= upper) continue;
    std::string sample_id = spec.split_by == "sample" ? std::move(group) : base_->id(i);
    double subset_coin = stable_unit_hash(sample_id, "subset", spec.seed);
    if (!count && subset_coin >= spec.subset) continue;
    kept.push_back({subset_coin, std::move(sample_id), std::move(group), i});
  }
  if (count) {
    // the N smallest subset coins: an exact count, and every smaller N is inside it
    auto wanted = static_cast<size_t>(spec.subset);
    if (wanted > kept.size())
      throw Error(fmt::format("subset {} > {} samples in {} (split {})", wanted, kept.size(),
                              name.empty() ? std::string("the data set") : name, spec.split));
    std::sort(kept.begin(), kept.end(), [](const Kept& a, const Kept& b) {
      return a.coin != b.coin ? a.coin < b.coin : a.id < b.id;
    });
    kept.resize(wanted);
    std::sort(kept.begin(), kept.end(), [](const Kept& a, const Kept& b) { return a.index < b.index; });
  }
  std::unordered_set<std::string> groups;
  for (auto& sample : kept) {
    indices_.push_back(sample.index);
    groups.insert(spec.split_by == "sample" ? sample.id : sample.group);
  }
  groups_ = static_cast<int64_t>(groups.size());
}

int64_t SplitDataset::base_index(int64_t index) const {
  WM_CHECK(index >= 0 && index < size()) << "index " << index << " of " << size();
  return indices_[static_cast<size_t>(index)];
}

Sample SplitDataset::get(int64_t index) const { return base_->get(base_index(index)); }
std::string SplitDataset::id(int64_t index) const { return base_->id(base_index(index)); }
std::string SplitDataset::group(int64_t index) const { return base_->group(base_index(index)); }

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
std::string ListedDataset::group(int64_t index) const { return base_->group(base_index(index)); }

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
