// Seeded splits and nested subsets by hashing sample ids: a sample's split never changes when the
// data set grows, and the 1% subset is inside the 5% subset, inside the 10% one, and so on.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "wm/dataset.h"

namespace wm {

// which part of a data set to use: split "train" of fractions {0.7, 0.15, 0.15}, then a subset
struct SplitSpec {
  std::string split = "all";  // "train", "val", "test" or "all"
  std::vector<double> fractions = {0.7, 0.15, 0.15};
  double subset = 1.0;  // fraction of the split, nested across values
  uint64_t seed = 0;    // changes which samples land where
};

class SplitDataset : public Dataset {
 public:
  SplitDataset(std::shared_ptr<Dataset> base, const SplitSpec& spec);
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Sample get(int64_t index) const override;
  std::vector<KeySpec> keys() const override { return base_->keys(); }
  std::string id(int64_t index) const override;

 private:
  int64_t base_index(int64_t index) const;
  std::shared_ptr<Dataset> base_;
  std::vector<int64_t> indices_;
};

// the samples whose ids a list names (e.g. a quality tier written by the `tiers` procedure), in
// the base's order. Listed ids the data set lacks are counted, not fatal; none found throws
// wm::Error naming the list.
class ListedDataset : public Dataset {
 public:
  ListedDataset(std::shared_ptr<Dataset> base, const std::vector<std::string>& ids,
                const std::string& list_name);
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Sample get(int64_t index) const override;
  std::vector<KeySpec> keys() const override { return base_->keys(); }
  std::string id(int64_t index) const override;
  int64_t missing() const { return missing_; }  // listed ids the base does not have

 private:
  int64_t base_index(int64_t index) const;
  std::shared_ptr<Dataset> base_;
  std::vector<int64_t> indices_;
  int64_t missing_ = 0;
};

// one id per line; blank lines and `#` comments skipped; an unreadable file throws wm::Error
std::vector<std::string> read_id_list(const std::string& file);

// a number in [0, 1) fixed by (id, salt, seed): the coin every split and subset decision uses
double stable_unit_hash(const std::string& id, const std::string& salt, uint64_t seed);

}  // namespace wm
