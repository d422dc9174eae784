// The loader: the same batches for any worker count and after a resume, per-epoch shuffling by
// seed, unreadable samples skipped and counted, other errors surfacing in order.
#include <ATen/Parallel.h>

#include <map>
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

// D6 of docs/distributed.md: over 1-4 ranks, with unreadable samples among the data, each rank's
// slices are disjoint, in rank order they are the batch one process builds with batch_size *
// world, every rank stands at the same position, and a resume gives the same slices
TEST(Loader, RanksShareOutTheGlobalBatchOfOneProcess) {
  Numbers data(23, {4, 5, 17});
  for (int64_t world = 1; world <= 4; ++world) {
    LoaderOptions single = options(1, 2 * world);
    Loader one(data, single);
    auto expected = read(one, 12);
    std::vector<std::vector<std::vector<int64_t>>> slices;
    std::vector<LoaderPosition> positions;
    for (int64_t rank = 0; rank < world; ++rank) {
      LoaderOptions o = options(rank % 2, 2);
      o.rank = rank, o.world = world;
      Loader loader(data, o);
      slices.push_back(read(loader, 12));
      positions.push_back(loader.position());
      EXPECT_EQ(loader.batches_per_epoch(), 23 / (2 * world));
    }
    for (int64_t rank = 1; rank < world; ++rank) {
      EXPECT_EQ(positions[rank].epoch, positions[0].epoch) << world << " ranks";
      EXPECT_EQ(positions[rank].cursor, positions[0].cursor) << world << " ranks";
    }
    EXPECT_EQ(positions[0].epoch, one.position().epoch);
    EXPECT_EQ(positions[0].cursor, one.position().cursor);
    for (size_t b = 0; b < expected.size(); ++b) {
      std::vector<int64_t> joined;
      for (int64_t rank = 0; rank < world; ++rank)
        joined.insert(joined.end(), slices[rank][b].begin(), slices[rank][b].end());
      EXPECT_EQ(joined, expected[b]) << world << " ranks, batch " << b;
      // disjoint positions: each rank's slice is its own part of the global batch (an
      // unreadable sample's replacement may repeat a sample, as in one process)
      EXPECT_EQ(joined.size(), static_cast<size_t>(2 * world));
    }
    // a resume from the ranks' common position continues every rank's slices
    for (int64_t rank = 0; rank < world; ++rank) {
      LoaderOptions o = options(1, 2);
      o.rank = rank, o.world = world;
      Loader first(data, o);
      read(first, 5);
      LoaderPosition at = first.position();
      auto rest = read(first, 4);
      Loader resumed(data, o, at);
      EXPECT_EQ(read(resumed, 4), rest) << "rank " << rank << " of " << world;
    }
  }
  LoaderOptions bad = options(0, 2);
  bad.rank = 2, bad.world = 2;
  EXPECT_THAT(test::error_of([&] { Loader loader(data, bad); }), HasSubstr("rank 2 of 2"));
}

// every batch carries each sample's seed for the model's own draws: the same sample in the same
// epoch gets the same seed in any batch, another epoch gets another
TEST(Loader, GivesEachSampleItsModelSeed) {
  Numbers data(6);
  Loader loader(data, options(0, 2));
  std::map<int64_t, std::vector<int64_t>> seeds;  // sample -> its seed in epochs 0, 1
  for (int b = 0; b < 6; ++b) {
    auto batch = *loader.next();
    auto index = indices(batch);
    auto seed = batch.at(kSampleSeedKey).contiguous();
    ASSERT_EQ(seed.numel(), 2);
    for (size_t i = 0; i < index.size(); ++i) seeds[index[i]].push_back(seed.data_ptr<int64_t>()[i]);
  }
  for (const auto& [index, values] : seeds) {
    ASSERT_EQ(values.size(), 2u);
    EXPECT_EQ(values[0], model_seed(11, "n" + std::to_string(index), 0));
    EXPECT_NE(values[0], values[1]) << "a new seed each epoch";
  }
  EXPECT_NE(seeds[0][0], seeds[1][0]);
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
