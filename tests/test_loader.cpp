// The loader: the same batches for any worker count and after a resume, per-epoch shuffling by
// seed, unreadable samples skipped and counted, other errors surfacing in order.
#include <ATen/Parallel.h>

#include <set>
#include <stdexcept>

#include "test_support.h"
#include "wm/error.h"
#include "engine/loader.h"
#include "runtime.h"
#include "engine/transforms.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

// sample i carries its index and the compute threads of the thread that read it
class Numbers : public Dataset {
 public:
  Numbers(int64_t size, std::set<int64_t> unreadable = {}, int64_t broken = -1)
      : size_(size), unreadable_(std::move(unreadable)), broken_(broken) {}
  int64_t size() const override { return size_; }
  std::string id(int64_t index) const override { return "n" + std::to_string(index); }
  std::vector<KeySpec> keys() const override { return {{"index", "int64", "[]", ""}}; }
  Sample get(int64_t index) const override {
    if (unreadable_.count(index)) throw DataError("files/n" + std::to_string(index) + ".mp4", "truncated");
    if (index == broken_) throw std::runtime_error("a bug in the dataset at " + std::to_string(index));
    return {{{"index", at::scalar_tensor(index, at::kLong)},
             {"threads", at::scalar_tensor(at::get_num_threads(), at::kLong)}},
            id(index), "files/n" + std::to_string(index) + ".mp4", ""};
  }

 private:
  int64_t size_;
  std::set<int64_t> unreadable_;
  int64_t broken_;
};

std::vector<int64_t> indices(const Batch& batch) {
  auto values = batch.at("index").contiguous();
  return {values.data_ptr<int64_t>(), values.data_ptr<int64_t>() + values.numel()};
}

std::vector<std::vector<int64_t>> read(Loader& loader, int batches) {
  std::vector<std::vector<int64_t>> out;
  for (int b = 0; b < batches; ++b) {
    auto batch = loader.next();
    if (!batch) break;
    out.push_back(indices(*batch));
  }
  return out;
}

LoaderOptions options(int64_t workers, int64_t batch_size = 3, bool training = true) {
  LoaderOptions o;
  o.batch_size = batch_size, o.workers = workers, o.training = training, o.seed = 11;
  return o;
}

TEST(Loader, GivesTheSameBatchesForAnyWorkerCount) {
  Numbers data(10);
  Loader serial(data, options(0));
  auto expected = read(serial, 25);  // 8 epochs of 3 batches (the tail of 1 sample is dropped)
  ASSERT_EQ(expected.size(), 25u);
  for (int64_t workers : {1, 2, 3})
    for (int64_t prefetch : {1, 4}) {
      LoaderOptions o = options(workers);
      o.prefetch = prefetch;
      Loader threaded(data, o);
      EXPECT_EQ(read(threaded, 25), expected) << workers << " workers, prefetch " << prefetch;
    }
}

TEST(Loader, ShufflesEachEpochByTheSeed) {
  Numbers data(9);
  Loader loader(data, options(2));
  auto batches = read(loader, 6);
  std::vector<int64_t> first, second;
  for (int b = 0; b < 3; ++b) first.insert(first.end(), batches[b].begin(), batches[b].end());
  for (int b = 3; b < 6; ++b) second.insert(second.end(), batches[b].begin(), batches[b].end());
  EXPECT_EQ(std::set<int64_t>(first.begin(), first.end()).size(), 9u) << "an epoch is a permutation";
  EXPECT_NE(first, second) << "a new order each epoch";
  EXPECT_EQ(loader.position().epoch, 1);
  EXPECT_EQ(loader.position().cursor, 9);

  LoaderOptions other = options(2);
  other.seed = 12;
  Loader reseeded(data, other);
  EXPECT_NE(read(reseeded, 3), std::vector<std::vector<int64_t>>(batches.begin(), batches.begin() + 3));
}

TEST(Loader, ResumesFromItsPosition) {
  Numbers data(10);
  Loader whole(data, options(2));
  read(whole, 7);
  LoaderPosition at = whole.position();
  auto rest = read(whole, 6);
  Loader resumed(data, options(1), at);
  EXPECT_EQ(read(resumed, 6), rest);
}

TEST(Loader, ReplacesAnUnreadableSampleWithTheNextOneWhenTraining) {
  Numbers data(6, {2, 3});
  for (int64_t workers : {0, 2}) {
    Loader loader(data, options(workers, 6));
    auto batches = read(loader, 2);
    for (const auto& batch : batches) {
      EXPECT_EQ(batch.size(), 6u) << "batches keep their size";
      EXPECT_EQ(std::count(batch.begin(), batch.end(), 4), 3) << "2 and 3 both fall through to 4";
      EXPECT_EQ(std::count(batch.begin(), batch.end(), 2) + std::count(batch.begin(), batch.end(), 3), 0);
    }
    EXPECT_EQ(loader.skipped(), 6) << "per epoch: 2 (then 3 on the way to 4) and 3";
    ASSERT_EQ(loader.skipped_samples().size(), 2u) << "each unreadable sample listed once";
    std::set<std::string> sources;
    for (const auto& skip : loader.skipped_samples()) {
      sources.insert(skip.source);
      EXPECT_EQ(skip.message, "truncated");
    }
    EXPECT_EQ(sources, (std::set<std::string>{"files/n2.mp4", "files/n3.mp4"}));
  }
}

TEST(Loader, LeavesUnreadableSamplesOutInOnePass) {
  Numbers data(10, {5});
  for (int64_t workers : {0, 2}) {
    Loader loader(data, options(workers, 4, /*training=*/false));
    auto batches = read(loader, 10);
    EXPECT_EQ(batches, (std::vector<std::vector<int64_t>>{{0, 1, 2, 3}, {4, 6, 7}, {8, 9}}));
    EXPECT_FALSE(loader.next()) << "one pass only";
    EXPECT_EQ(loader.skipped(), 1);
    EXPECT_EQ(loader.skipped_samples().at(0).id, "n5");
  }
}

TEST(Loader, StopsWhenNothingCanBeRead) {
  Numbers data(4, {0, 1, 2, 3});
  Loader loader(data, options(2, 2));
  EXPECT_THAT(test::error_of([&] { loader.next(); }), HasSubstr("4 samples in a row could not be read"));
}

TEST(Loader, RethrowsOtherErrorsInBatchOrder) {
  Numbers data(12, {}, /*broken=*/7);
  for (int64_t workers : {0, 3}) {
    Loader loader(data, options(workers, 4, /*training=*/false));
    EXPECT_EQ(indices(*loader.next()), (std::vector<int64_t>{0, 1, 2, 3}));
    EXPECT_THAT(test::error_of([&] { loader.next(); }), HasSubstr("a bug in the dataset at 7"));
  }
}

TEST(Loader, ReadsDataOnOneComputeThreadLeavingTheCallersAlone) {
  set_compute_threads(2);
  Numbers data(8);
  for (int64_t workers : {0, 2}) {
    Loader loader(data, options(workers, 4));
    auto batch = loader.next();
    EXPECT_EQ(batch->at("threads").max().item<int64_t>(), 1) << workers << " workers";
    EXPECT_EQ(at::get_num_threads(), 2);
  }
  set_compute_threads(1);
}

TEST(Loader, SeedsTransformsBySampleAndEpoch) {
  EXPECT_EQ(sample_seed(1, "a", 0), sample_seed(1, "a", 0));
  EXPECT_NE(sample_seed(1, "a", 0), sample_seed(1, "a", 1));
  EXPECT_NE(sample_seed(1, "a", 0), sample_seed(1, "b", 0));
  EXPECT_NE(sample_seed(1, "a", 0), sample_seed(2, "a", 0));
}

}  // namespace
}  // namespace wm
