#include "procedures/action_scaler_fit.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <future>
#include <random>

#include "engine/dataset_split.h"
#include "wm/error.h"
#include "wm/log.h"
#include "report/progress.h"
#include "wm/io/webdataset.h"

namespace wm {

namespace {

//---- convergence ----

// the convergence rule of the header comment
class ConvergenceCheck {
 public:
  explicit ConvergenceCheck(const ActionScalerFitOptions& options) : options_(options) {}

  bool settled(const io::RunningMoments& moments) {
    if (moments.count() < next_check_) return false;
    next_check_ = moments.count() + options_.check_every;
    auto stds = moments.stddev();
    bool stable = !last_mean_.empty();
    for (size_t d = 0; stable && d < stds.size(); ++d) {
      double unit = stds[d] > 0 ? stds[d] : 1.0;
      stable = std::abs(moments.mean()[d] - last_mean_[d]) <= options_.tolerance * unit &&
               std::abs(stds[d] - last_std_[d]) <= options_.tolerance * unit;
    }
    streak_ = stable ? streak_ + 1 : 0;
    last_mean_ = moments.mean();
    last_std_ = stds;
    return streak_ >= options_.patience && moments.count() >= options_.min_samples;
  }

 private:
  const ActionScalerFitOptions& options_;
  int64_t next_check_ = 0, streak_ = 0;
  std::vector<double> last_mean_, last_std_;
};

std::vector<std::filesystem::path> shard_order(const ActionScalerFitOptions& options) {
  auto shards = options.shards;
  std::mt19937_64 rng(options.seed);
  std::shuffle(shards.begin(), shards.end(), rng);
  if (options.max_shards > 0 && static_cast<int64_t>(shards.size()) > options.max_shards)
    shards.resize(static_cast<size_t>(options.max_shards));
  return shards;
}

//---- one shard, read on any thread ----

// what a shard holds, in archive order: each readable sample's action rows (fitted or held
// out), each unreadable one's error. Nothing here depends on other shards, so shards can be
// read in parallel and their samples fed to the moments in order.
struct ShardSampleRows {
  bool held_out = false;
  bool readable = true;
  std::string error, source;  // of an unreadable sample (or the shard's unreadable tail)
  size_t offset = 0, rows = 0, columns = 0;
  std::vector<std::string> names;  // the column names (first readable sample only)
};

struct ShardRows {
  std::vector<ShardSampleRows> samples;
  std::vector<double> values;  // every sample's rows, row-major, at its offset
  int64_t short_samples = 0;
};

ShardRows read_shard(const std::filesystem::path& shard, const ActionScalerFitOptions& options,
                     const io::ActionFields& fields, const std::atomic<bool>& stop) {
  ShardRows out;
  io::TarReader reader(shard);
  io::TarMember member;
  bool named = false;
  while (!stop.load(std::memory_order_relaxed)) {
    std::string source = shard.string();
    size_t begin = out.values.size();
    try {
      if (!reader.next(member)) break;
      auto [key, extension] = io::split_member_name(member.name);
      if (extension != "jsonl") continue;  // videos are seeked over, never read
      source += ":" + member.name;
      auto records = io::json::parse_lines(reader.read(member), source);
      if (records.size() < 2) continue;
      // clips as the webdataset plugin cuts them (frames 0: the whole sample, whole strides)
      auto count = static_cast<int64_t>(records.size());
      int64_t steps = options.frames > 0 ? options.frames - 1 : (count - 1) / options.stride;
      auto starts = io::clip_starts(count, steps * options.stride + 1, options.every_clip);
      if (steps < 1 || starts.empty()) {
        ++out.short_samples;
        continue;
      }
      ShardSampleRows sample;
      for (int64_t start : starts)
        sample.columns = fields.append_stride_sums(records, static_cast<size_t>(start),
                                                   static_cast<size_t>(steps),
                                                   static_cast<size_t>(options.stride), source,
                                                   out.values);
      sample.offset = begin;
      sample.rows = (out.values.size() - begin) / sample.columns;
      sample.source = source;
      sample.held_out = stable_unit_hash(shard.filename().string() + "/" + key, "holdout",
                                         options.seed) < options.holdout;
      if (!named) sample.names = fields.columns(records[0]), named = true;
      out.samples.push_back(std::move(sample));
    } catch (const DataError& e) {
      // a bad record skips its sample; a bad header ends what can be read of the shard
      out.values.resize(begin);
      ShardSampleRows bad;
      bad.readable = false;
      bad.error = e.what();
      bad.source = e.source();
      out.samples.push_back(std::move(bad));
      if (source == shard.string()) break;
    }
  }
  return out;
}

//---- shards ahead of the fit ----

// shard i + threads - 1 is read while shard i is being fitted; threads 1 reads in the caller
class ShardQueue {
 public:
  ShardQueue(std::vector<std::filesystem::path> shards, const ActionScalerFitOptions& options,
             const io::ActionFields& fields)
      : shards_(std::move(shards)), options_(options), fields_(fields) {}
  ~ShardQueue() {
    stop_ = true;
    for (auto& pending : ahead_) pending.wait();
  }

  bool done() const { return next_ == shards_.size(); }

  ShardRows next() {
    if (options_.threads <= 1) return read_shard(shards_[next_++], options_, fields_, stop_);
    while (launched_ < shards_.size() && ahead_.size() < static_cast<size_t>(options_.threads)) {
      const auto& shard = shards_[launched_++];
      ahead_.push_back(std::async(std::launch::async, [this, &shard] {
        return read_shard(shard, options_, fields_, stop_);
      }));
    }
    ShardRows rows = ahead_.front().get();
    ahead_.pop_front();
    ++next_;
    return rows;
  }

 private:
  std::vector<std::filesystem::path> shards_;
  const ActionScalerFitOptions& options_;
  const io::ActionFields& fields_;
  std::atomic<bool> stop_{false};
  std::deque<std::future<ShardRows>> ahead_;
  size_t launched_ = 0, next_ = 0;
};

}  // namespace

//---- the fit ----

ActionScalerFit fit_action_scaler(const ActionScalerFitOptions& options) {
  if (options.shards.empty()) throw Error("fit_action_scaler: no shards to read");
  if (options.max_samples < 1) throw Error("fit_action_scaler: max_samples must be >= 1");
  if (options.stride < 1) throw Error("fit_action_scaler: stride must be >= 1");
  if (options.frames == 1 || options.frames < 0)
    throw Error("fit_action_scaler: frames must be 0 (whole samples) or >= 2");
  auto start = std::chrono::steady_clock::now();
  io::ActionFields fields(options.fields);
  ActionScalerFit fit;
  io::RunningMoments moments;
  std::vector<double> held_out;
  ConvergenceCheck convergence(options);
  Progress progress("fit_action_scaler", options.max_samples);
  bool done = false;

  ShardQueue queue(shard_order(options), options, fields);
  while (!done && !queue.done()) {
    ShardRows shard = queue.next();
    ++fit.shards_used;
    fit.short_samples += shard.short_samples;
    for (const ShardSampleRows& sample : shard.samples) {
      if (!sample.readable) {
        ++fit.skipped;
        fit.skipped_sources.push_back(sample.source);
        log().warn("fit_action_scaler: skipped {}", sample.error);
        continue;
      }
      if (moments.dims() == 0) {
        moments = io::RunningMoments(sample.columns);
        fit.scaler.names = sample.names;
      } else if (sample.columns != moments.dims()) {
        std::string what = sample.source + ": " + std::to_string(sample.columns) +
                           " action values per frame, earlier samples have " +
                           std::to_string(moments.dims());
        ++fit.skipped;
        fit.skipped_sources.push_back(sample.source);
        log().warn("fit_action_scaler: skipped {}", what);
        continue;
      }
      ++fit.samples_read;
      const double* rows = shard.values.data() + sample.offset;
      if (sample.held_out) {
        size_t limit = static_cast<size_t>(options.max_holdout_rows) * sample.columns;
        size_t values = std::min(sample.rows * sample.columns, limit - std::min(limit, held_out.size()));
        held_out.insert(held_out.end(), rows, rows + values);
        continue;
      }
      // the budget is exact: the last sample contributes only the rows still needed
      size_t take = std::min<size_t>(sample.rows, static_cast<size_t>(options.max_samples - moments.count()));
      moments.add(rows, take);
      if (options.progress) progress.advance(static_cast<int64_t>(take));
      if (moments.count() >= options.max_samples) done = true;
      if (options.convergence && convergence.settled(moments)) {
        fit.scaler.converged = true;
        done = true;
      }
      if (done) break;
    }
  }
  if (moments.count() == 0)
    throw Error("fit_action_scaler: no action rows found in " + std::to_string(fit.shards_used) +
                " shard(s) (expected <key>.jsonl members with fields " + [&] {
                  std::string names;
                  for (const auto& f : options.fields) names += (names.empty() ? "" : ", ") + f;
                  return names;
                }() + (fit.short_samples > 0 ? "; " + std::to_string(fit.short_samples) +
                                                    " sample(s) were shorter than one clip"
                                              : std::string()) + ")");

  fit.scaler.mean = moments.mean();
  fit.scaler.std = moments.stddev();
  fit.scaler.count = moments.count();
  // verification: the held-out rows, standardised, should have mean ~0 and std ~1
  if (!held_out.empty()) {
    size_t columns = moments.dims();
    io::RunningMoments check(columns);
    std::vector<double> scaled(held_out.size());
    for (size_t i = 0; i < held_out.size(); ++i) {
      size_t d = i % columns;
      double divisor = fit.scaler.std[d] > 0 ? fit.scaler.std[d] : 1.0;
      scaled[i] = (held_out[i] - fit.scaler.mean[d]) / divisor;
    }
    check.add(scaled.data(), scaled.size() / columns);
    fit.holdout_mean = check.mean();
    fit.holdout_std = check.stddev();
    fit.holdout_rows = check.count();
  }
  fit.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return fit;
}

}  // namespace wm
