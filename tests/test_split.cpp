// Splits and subsets hash sample ids: stable as data grows, nested across subset sizes.
#include <set>

#include "test_support.h"
#include "engine/dataset_split.h"

namespace wm {
namespace {

// ids only: get() is never needed to split
class IdDataset : public Dataset {
 public:
  explicit IdDataset(int64_t count) : count_(count) {}
  int64_t size() const override { return count_; }
  Sample get(int64_t index) const override { return {{}, id(index), "", ""}; }
  std::vector<KeySpec> keys() const override { return {}; }
  std::string id(int64_t index) const override { return "clip-" + std::to_string(index); }

 private:
  int64_t count_;
};

std::set<std::string> ids_of(const Dataset& dataset) {
  std::set<std::string> ids;
  for (int64_t i = 0; i < dataset.size(); ++i) ids.insert(dataset.id(i));
  return ids;
}

SplitDataset split(int64_t count, const std::string& which, double subset = 1.0) {
  SplitSpec spec;
  spec.split = which;
  spec.subset = subset;
  return SplitDataset(std::make_shared<IdDataset>(count), spec);
}

TEST(Split, PartitionsWithTheRequestedFractions) {
  auto train = ids_of(split(10000, "train")), val = ids_of(split(10000, "val")),
       test = ids_of(split(10000, "test"));
  EXPECT_EQ(train.size() + val.size() + test.size(), 10000u);
  EXPECT_NEAR(train.size() / 10000.0, 0.70, 0.02);
  EXPECT_NEAR(val.size() / 10000.0, 0.15, 0.02);
  for (const auto& id : val) EXPECT_FALSE(train.count(id) || test.count(id));
}

TEST(Split, DoesNotChangeWhenTheDatasetGrows) {
  auto small = ids_of(split(1000, "val")), large = ids_of(split(5000, "val"));
  for (const auto& id : small) EXPECT_TRUE(large.count(id)) << id;
}

TEST(Split, SubsetsAreNested) {
  std::vector<double> fractions = {0.01, 0.05, 0.1, 0.25, 0.5, 1.0};
  std::set<std::string> previous;
  for (double fraction : fractions) {
    auto current = ids_of(split(20000, "train", fraction));
    for (const auto& id : previous) EXPECT_TRUE(current.count(id)) << fraction;
    EXPECT_NEAR(current.size() / (20000 * 0.7), fraction, 0.01 + fraction * 0.05);
    previous = current;
  }
}

TEST(Split, SeedChangesTheAssignment) {
  SplitSpec spec;
  spec.split = "val";
  spec.seed = 7;
  auto reseeded = ids_of(SplitDataset(std::make_shared<IdDataset>(2000), spec));
  EXPECT_NE(reseeded, ids_of(split(2000, "val")));
}

}  // namespace
}  // namespace wm
