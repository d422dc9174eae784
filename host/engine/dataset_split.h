// Seeded splits and nested subsets by hashing: the split coin hashes a sample's group (its video or
// episode, Dataset::group), so segments of one video never land in two splits; the subset coin
// hashes the sample id. A sample's split never changes when the data set grows, and the 1% subset
// is inside the 5% one (and the 100-sample subset inside the 200-sample one), and so on.
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
  // up to 1: the fraction of the split; above 1: an exact count (a whole number), the samples with
  // the smallest subset coins (ties by id). Both nest across values.
  double subset = 1.0;
  uint64_t seed = 0;    // changes which samples land where
  // what the split coin hashes: "group" (Dataset::group), "sample" (the id), or else a regex
  // whose first capture on the id is the group (an id it does not match is an error)
  std::string split_by = "group";
};

// `name` ("data.train") is how errors name it, e.g. "subset 5000 > 1987 samples in data.train
// (split train)"; errors are wm::Error
class SplitDataset : public Dataset {
 public:
  SplitDataset(std::shared_ptr<Dataset> base, const SplitSpec& spec, const std::string& name = "");
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Sample get(int64_t index) const override;
  std::vector<KeySpec> keys() const override { return base_->keys(); }
  std::string id(int64_t index) const override;
  std::string group(int64_t index) const override;
  int64_t groups() const { return groups_; }  // distinct split groups kept

 private:
  int64_t base_index(int64_t index) const;
  std::shared_ptr<Dataset> base_;
  std::vector<int64_t> indices_;
  int64_t groups_ = 0;
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
  std::string group(int64_t index) const override;
  int64_t missing() const { return missing_; }  // listed ids the base does not have

 private:
  int64_t base_index(int64_t index) const;
  std::shared_ptr<Dataset> base_;
  std::vector<int64_t> indices_;
  int64_t missing_ = 0;
};

// checks a `split_by` value: "group", "sample", or a regex with at least one capture group;
// throws wm::Error saying what is wrong
void check_split_by(const std::string& split_by);

// one id per line; blank lines and `#` comments skipped; an unreadable file throws wm::Error
std::vector<std::string> read_id_list(const std::string& file);

// a number in [0, 1) fixed by (id, salt, seed): the coin every split and subset decision uses
double stable_unit_hash(const std::string& id, const std::string& salt, uint64_t seed);

}  // namespace wm
