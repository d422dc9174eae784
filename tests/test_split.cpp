// Splits hash sample groups and subsets hash sample ids: stable as data grows, no group in two
// splits, nested across subset sizes and counts.
#include <map>
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

//---- groups: segments of one video never in two splits ----

// "video-<v>/<segment>@<frame>": `videos` videos of `segments` segments each; the default group
// is the id up to its '@' (one segment), group() here is the video
class SegmentDataset : public Dataset {
 public:
  SegmentDataset(int64_t videos, int64_t segments, bool video_groups = true)
      : videos_(videos), segments_(segments), video_groups_(video_groups) {}
  int64_t size() const override { return videos_ * segments_; }
  Sample get(int64_t index) const override { return {{}, id(index), "", ""}; }
  std::vector<KeySpec> keys() const override { return {}; }
  std::string id(int64_t index) const override {
    return "video-" + std::to_string(index / segments_) + "/" + std::to_string(index % segments_) + "@3";
  }
  std::string group(int64_t index) const override {
    return video_groups_ ? "video-" + std::to_string(index / segments_) : Dataset::group(index);
  }

 private:
  int64_t videos_, segments_;
  bool video_groups_;
};

// how many of the three splits hold some segment of each video
std::map<std::string, int> splits_per_video(std::shared_ptr<Dataset> base, SplitSpec spec) {
  std::map<std::string, std::set<std::string>> seen;
  for (const char* which : {"train", "val", "test"}) {
    spec.split = which;
    SplitDataset part(base, spec);
    for (int64_t i = 0; i < part.size(); ++i) {
      std::string sample_id = part.id(i);
      seen[sample_id.substr(0, sample_id.find('/'))].insert(which);
    }
  }
  std::map<std::string, int> count;
  for (const auto& [video, splits] : seen) count[video] = static_cast<int>(splits.size());
  return count;
}

TEST(Split, KeepsEveryGroupInOneSplit) {
  auto base = std::make_shared<SegmentDataset>(40, 5);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    SplitSpec spec;
    spec.seed = seed;
    auto count = splits_per_video(base, spec);
    ASSERT_EQ(count.size(), 40u);
    for (const auto& [video, splits] : count) EXPECT_EQ(splits, 1) << video << ", seed " << seed;
  }
}

TEST(Split, BySampleSpreadsAGroupOverSplits) {
  SplitSpec spec;
  spec.split_by = "sample";
  auto count = splits_per_video(std::make_shared<SegmentDataset>(40, 5), spec);
  int spread = 0;
  for (const auto& [video, splits] : count) spread += splits > 1;
  EXPECT_GT(spread, 10) << "with 5 segments per video, most videos should straddle splits";
}

TEST(Split, DefaultGroupIsTheIdUpToItsAt) {
  auto base = std::make_shared<SegmentDataset>(3, 2, /*video_groups=*/false);
  EXPECT_EQ(base->group(1), "video-0/1");
  EXPECT_EQ(std::make_shared<IdDataset>(3)->group(2), "clip-2") << "an id without '@' is its own group";
}

TEST(Split, RegexGroupIsTheFirstCapture) {
  // the default group (up to '@') is one segment; the regex groups by video again
  auto base = std::make_shared<SegmentDataset>(40, 5, /*video_groups=*/false);
  SplitSpec spec;
  spec.split_by = "^(video-[0-9]+)/";
  for (const auto& [video, splits] : splits_per_video(base, spec)) EXPECT_EQ(splits, 1) << video;
  spec.split = "val";
  SplitDataset val(base, spec);
  EXPECT_EQ(val.size() % 5, 0);
  EXPECT_EQ(val.groups() * 5, val.size());
}

TEST(Split, BadSplitByIsAClearError) {
  auto base = std::make_shared<IdDataset>(10);
  SplitSpec spec;
  spec.split = "val";
  spec.split_by = "^(video-[0-9]+)/";
  EXPECT_THAT(test::error_of([&] { SplitDataset(base, spec); }),
              ::testing::HasSubstr("split_by '^(video-[0-9]+)/' does not match sample id 'clip-0'"));
  EXPECT_THAT(test::error_of([&] { check_split_by("clip-(["); }),
              ::testing::HasSubstr("neither group, sample nor a valid regex"));
  EXPECT_THAT(test::error_of([&] { check_split_by("^clip-"); }),
              ::testing::HasSubstr("has no capture group"));
  EXPECT_NO_THROW(check_split_by("group"));
  EXPECT_NO_THROW(check_split_by("sample"));
}

//---- count subsets: exact, nested ----

TEST(Split, CountSubsetsAreExactAndNested) {
  std::set<std::string> previous;
  for (double count : {100.0, 200.0, 500.0, 2000.0}) {
    SplitSpec spec;
    spec.subset = count;
    SplitDataset subset(std::make_shared<IdDataset>(2000), spec);
    auto current = ids_of(subset);
    ASSERT_EQ(current.size(), static_cast<size_t>(count));
    for (const auto& id : previous) EXPECT_TRUE(current.count(id)) << id << " left the " << count;
    previous = current;
  }
}

TEST(Split, CountSubsetsNestInsideTheSplitAndItsFractions) {
  // 120 samples of the train split: inside the 20% subset when that has at least 120
  auto fraction = ids_of(split(5000, "train", 0.2)), counted = ids_of(split(5000, "train", 120));
  ASSERT_EQ(counted.size(), 120u);
  ASSERT_GT(fraction.size(), 120u);
  for (const auto& id : counted) EXPECT_TRUE(fraction.count(id)) << id;
  auto val = ids_of(split(5000, "val"));
  for (const auto& id : counted) EXPECT_FALSE(val.count(id)) << id;
}

TEST(Split, CountLargerThanTheSplitNamesBothNumbers) {
  SplitSpec spec;
  spec.split = "train";
  spec.subset = 5000;
  auto base = std::make_shared<IdDataset>(2000);
  size_t train = ids_of(split(2000, "train")).size();
  EXPECT_THAT(test::error_of([&] { SplitDataset(base, spec, "data.train"); }),
              ::testing::HasSubstr("subset 5000 > " + std::to_string(train) +
                                   " samples in data.train (split train)"));
  spec.subset = 150.5;
  EXPECT_THAT(test::error_of([&] { SplitDataset(base, spec, "data.train"); }),
              ::testing::HasSubstr("nor a whole number of samples"));
}

}  // namespace
}  // namespace wm
