#include "engine/loader.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include "engine/batch_transforms.h"
#include "engine/dataset_split.h"
#include "wm/error.h"
#include "wm/log.h"
#include "engine/transforms.h"

namespace wm {

//---- one compute thread for data work ----

namespace {
// OpenMP's per-thread team size, found in whichever OpenMP runtime LibTorch loaded (absent in
// a build without OpenMP: then LibTorch's own pool applies and nothing is changed here)
using OmpSet = void (*)(int);
using OmpGet = int (*)();
OmpSet omp_set() {
  static auto fn = reinterpret_cast<OmpSet>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  return fn;
}
OmpGet omp_get() {
  static auto fn = reinterpret_cast<OmpGet>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  return fn;
}
}  // namespace

SingleComputeThread::SingleComputeThread() {
  // LibTorch sets a thread's team size on its first parallel op; do that first, then override.
  // The first-op flag is an inline function's thread_local, one copy per library that hides its
  // symbols: LibTorch 2.x keeps its own (reached through get_num_threads), apart from this one
  at::internal::lazy_init_num_threads();
  (void)at::get_num_threads();
  if (omp_set() && omp_get()) saved_ = omp_get()(), omp_set()(1);
}

SingleComputeThread::~SingleComputeThread() {
  if (saved_ > 0) omp_set()(saved_);
}

uint64_t sample_seed(uint64_t seed, const std::string& id, int64_t epoch) {
  double unit = stable_unit_hash(id, "transform/" + std::to_string(epoch), seed);
  return static_cast<uint64_t>(unit * static_cast<double>(1ull << 53));
}

int64_t model_seed(uint64_t seed, const std::string& id, int64_t epoch) {
  double unit = stable_unit_hash(id, "model/" + std::to_string(epoch), seed);
  return static_cast<int64_t>(unit * static_cast<double>(1ull << 53));
}

//---- the loader's state ----

namespace {
// consecutive unreadable samples after which the data, not a file, is the problem
constexpr int64_t kMaxConsecutiveFailures = 100;

// one batch to build: `count` samples from `begin` in epoch `epoch`'s order; the loader stands at
// `end` after it (past the other ranks' slices of a global batch)
struct Job {
  int64_t sequence, epoch, begin, count, end;
};

struct BuiltBatch {
  std::optional<Batch> batch;  // empty when every sample of a one-pass batch was unreadable
  std::vector<SkippedSample> skips;
  std::exception_ptr error;
  LoaderPosition after;
};
}  // namespace

struct Loader::State {
  State(const Dataset& dataset, LoaderOptions options, LoaderPosition start)
      : dataset(dataset), options(std::move(options)), position(start), planned(start) {}

  const Dataset& dataset;
  const LoaderOptions options;
  LoaderPosition position, planned;  // delivered; where the next job starts
  int64_t next_job = 0, next_result = 0;
  bool plan_finished = false;
  int64_t skipped = 0;
  std::vector<SkippedSample> skipped_list;
  std::set<std::string> skipped_ids;

  std::mutex mutex;
  std::condition_variable job_ready, result_ready;
  std::map<int64_t, BuiltBatch> results;
  std::map<int64_t, std::shared_ptr<const std::vector<int64_t>>> orders;
  bool stopping = false;
  std::vector<std::thread> threads;

  int64_t size() const { return dataset.size(); }

  // the next job in sequence, or none after a one-pass loader's end (caller holds the mutex)
  std::optional<Job> plan() {
    int64_t batch = options.batch_size;
    if (options.training) {
      int64_t global = batch * options.world;
      if (planned.cursor + global > size()) ++planned.epoch, planned.cursor = 0;
      Job job{next_job++, planned.epoch, planned.cursor + options.rank * batch, batch,
              planned.cursor + global};
      planned.cursor = job.end;
      return job;
    }
    if (planned.cursor >= size()) return std::nullopt;
    batch = std::min(batch, size() - planned.cursor);
    Job job{next_job++, planned.epoch, planned.cursor, batch, planned.cursor + batch};
    planned.cursor = job.end;
    return job;
  }

  // a fixed permutation per (seed, epoch); training only (caller holds the mutex)
  std::shared_ptr<const std::vector<int64_t>> order(int64_t epoch) {
    auto it = orders.find(epoch);
    if (it != orders.end()) return it->second;
    auto indices = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(size()));
    std::iota(indices->begin(), indices->end(), 0);
    std::mt19937_64 rng(options.seed * 1000003u + static_cast<uint64_t>(epoch));
    std::shuffle(indices->begin(), indices->end(), rng);
    while (orders.size() > 2) orders.erase(orders.begin());  // epochs only move forward
    return orders[epoch] = indices;
  }

  // DataError's text starts with its source, which the log names separately
  static std::string reason(const DataError& e) {
    std::string text = user_message(e), prefix = e.source() + ": ";
    return text.rfind(prefix, 0) == 0 ? text.substr(prefix.size()) : text;
  }

  std::string safe_id(int64_t index) const {
    try {
      return dataset.id(index);
    } catch (const std::exception&) {
      return "#" + std::to_string(index);
    }
  }

  // the sample at `index`, transformed; an unreadable one is replaced (training) or left out
  std::optional<Sample> fetch(int64_t index, int64_t epoch, BuiltBatch& built) const {
    for (int64_t failures = 0;;) {
      try {
        Sample sample = dataset.get(index);
        if (options.transforms) options.transforms->apply(sample, sample_seed(options.seed, sample.id, epoch));
        return sample;
      } catch (const DataError& e) {
        built.skips.push_back({safe_id(index), e.source(), reason(e)});
        if (!options.training) return std::nullopt;
        if (++failures >= std::min(kMaxConsecutiveFailures, size()))
          throw Error(options.name + ": " + std::to_string(failures) +
                      " samples in a row could not be read (the last: " + e.source() + ": " +
                      reason(e) + "); is the data there and complete?");
        index = (index + 1) % size();
      }
    }
  }

  BuiltBatch build(const Job& job, std::shared_ptr<const std::vector<int64_t>> order) const {
    BuiltBatch built;
    built.after = {job.epoch, job.end};
    try {
      SingleComputeThread one_thread;  // same numbers in every thread, no fight over cores
      std::vector<Sample> samples;
      samples.reserve(static_cast<size_t>(job.count));
      for (int64_t i = job.begin; i < job.begin + job.count; ++i) {
        int64_t index = order ? (*order)[static_cast<size_t>(i)] : i;
        if (auto sample = fetch(index, job.epoch, built)) samples.push_back(std::move(*sample));
      }
      if (!samples.empty()) {
        built.batch = collate(samples);
        std::vector<int64_t> seeds;
        for (const Sample& sample : samples) seeds.push_back(model_seed(options.seed, sample.id, job.epoch));
        built.batch->tensors[kSampleSeedKey] = at::tensor(seeds, at::kLong);
      }
      if (built.batch && options.training && options.batch_transforms)
        options.batch_transforms->apply(*built.batch, batch_seed(options.seed, job.epoch, job.begin));
    } catch (...) {
      built.error = std::current_exception();
    }
    return built;
  }

  // a worker: takes jobs in sequence while the window of prefetched batches has room
  void work() {
    std::unique_lock<std::mutex> lock(mutex);
    int64_t window = options.workers * options.prefetch;
    for (;;) {
      job_ready.wait(lock, [&] { return stopping || (!plan_finished && next_job < next_result + window); });
      if (stopping) return;
      std::optional<Job> job = plan();
      if (!job) {
        plan_finished = true;
        result_ready.notify_all();
        continue;
      }
      auto indices = options.training ? order(job->epoch) : nullptr;
      lock.unlock();
      BuiltBatch built = build(*job, indices);
      lock.lock();
      results.emplace(job->sequence, std::move(built));
      result_ready.notify_all();
    }
  }

  // the next built batch in sequence, or none at the end of a one-pass loader
  std::optional<BuiltBatch> take() {
    if (threads.empty()) {
      std::optional<Job> job = plan();
      if (!job) return std::nullopt;
      ++next_result;
      return build(*job, options.training ? order(job->epoch) : nullptr);
    }
    std::unique_lock<std::mutex> lock(mutex);
    result_ready.wait(lock, [&] {
      return results.count(next_result) || (plan_finished && next_result == next_job);
    });
    auto it = results.find(next_result);
    if (it == results.end()) return std::nullopt;
    BuiltBatch built = std::move(it->second);
    results.erase(it);
    ++next_result;
    job_ready.notify_all();
    return built;
  }

  // counts and logs the unreadable samples of a delivered batch, in batch order
  void record(const std::vector<SkippedSample>& skips) {
    for (const auto& skip : skips) {
      ++skipped;
      if (!skipped_ids.insert(skip.id).second) continue;
      skipped_list.push_back(skip);
      log().warn("{}: skipped unreadable sample '{}' ({}): {}", options.name, skip.id,
                 skip.source.empty() ? "no file" : skip.source, skip.message);
    }
  }
};

//---- the loader ----

Loader::Loader(const Dataset& dataset, LoaderOptions options, LoaderPosition start) {
  if (options.batch_size < 1) throw Error(options.name + ": batch_size must be at least 1");
  if (options.workers < 0 || options.prefetch < 1)
    throw Error(options.name + ": needs workers >= 0 and prefetch >= 1");
  if (options.world < 1 || options.rank < 0 || options.rank >= options.world)
    throw Error(options.name + ": rank " + std::to_string(options.rank) + " of " +
                std::to_string(options.world) + " ranks");
  if (options.training && dataset.size() < options.batch_size * options.world)
    throw Error(options.name + " has " + std::to_string(dataset.size()) +
                " samples, fewer than batch_size " + std::to_string(options.batch_size * options.world));
  state_ = std::make_unique<State>(dataset, std::move(options), start);
  State& s = *state_;
  for (int64_t w = 0; w < s.options.workers; ++w) s.threads.emplace_back([&s] { s.work(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
  }
  state_->job_ready.notify_all();
  for (auto& thread : state_->threads) thread.join();
}

std::optional<Batch> Loader::next() {
  for (;;) {
    std::optional<BuiltBatch> built = state_->take();
    if (!built) return std::nullopt;
    state_->record(built->skips);
    if (built->error) std::rethrow_exception(built->error);
    state_->position = built->after;
    if (built->batch) return std::move(built->batch);
  }
}

LoaderPosition Loader::position() const { return state_->position; }
int64_t Loader::skipped() const { return state_->skipped; }
const std::vector<SkippedSample>& Loader::skipped_samples() const { return state_->skipped_list; }

int64_t Loader::batches_per_epoch() const {
  int64_t size = state_->size(), batch = state_->options.batch_size;
  return state_->options.training ? size / (batch * state_->options.world) : (size + batch - 1) / batch;
}

}  // namespace wm
