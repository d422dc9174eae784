#include "procedures/action_scaler_fit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "engine/dataset_split.h"
#include "wm/error.h"
#include "wm/log.h"
#include "report/progress.h"
#include "wm/io/webdataset.h"

namespace wm {

namespace {

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

}  // namespace

ActionScalerFit fit_action_scaler(const ActionScalerFitOptions& options) {
  if (options.shards.empty()) throw Error("fit_action_scaler: no shards to read");
  if (options.max_samples < 1) throw Error("fit_action_scaler: max_samples must be >= 1");
  auto start = std::chrono::steady_clock::now();
  io::ActionFields fields(options.fields);
  ActionScalerFit fit;
  io::RunningMoments moments;
  std::vector<double> held_out, rows;
  ConvergenceCheck convergence(options);
  Progress progress("fit_action_scaler", options.max_samples);
  bool done = false;

  for (const auto& shard : shard_order(options)) {
    if (done) break;
    ++fit.shards_used;
    io::TarReader reader(shard);
    io::TarMember member;
    for (;;) {
      std::string source = shard.string();
      try {
        if (!reader.next(member)) break;
        auto [key, extension] = io::split_member_name(member.name);
        if (extension != "jsonl") continue;  // videos are seeked over, never read
        source += ":" + member.name;
        auto records = io::json::parse_lines(reader.read(member), source);
        if (records.size() < 2) continue;
        rows.clear();
        size_t columns = fields.append_rows(records, 0, records.size(), source, rows);
        if (moments.dims() == 0) {
          moments = io::RunningMoments(columns);
          fit.scaler.names = fields.columns(records[0]);
        } else if (columns != moments.dims()) {
          throw DataError(source, source + ": " + std::to_string(columns) +
                                      " action values per frame, earlier samples have " +
                                      std::to_string(moments.dims()));
        }
        ++fit.samples_read;
        size_t row_count = rows.size() / columns;
        if (stable_unit_hash(shard.filename().string() + "/" + key, "holdout", options.seed) <
            options.holdout) {
          size_t limit = static_cast<size_t>(options.max_holdout_rows) * columns;
          if (held_out.size() < limit)
            held_out.insert(held_out.end(), rows.begin(),
                            rows.begin() + static_cast<long>(std::min(rows.size(), limit - held_out.size())));
          continue;
        }
        // the budget is exact: the last sample contributes only the rows still needed
        size_t take = std::min<size_t>(row_count, static_cast<size_t>(options.max_samples - moments.count()));
        moments.add(rows.data(), take);
        if (options.progress) progress.advance(static_cast<int64_t>(take));
        if (moments.count() >= options.max_samples) done = true;
        if (options.convergence && convergence.settled(moments)) {
          fit.scaler.converged = true;
          done = true;
        }
        if (done) break;
      } catch (const DataError& e) {
        // a bad record skips its sample; a bad header ends what can be read of the shard
        ++fit.skipped;
        fit.skipped_sources.push_back(e.source());
        log().warn("fit_action_scaler: skipped {}", e.what());
        if (source == shard.string()) break;
      }
    }
  }
  if (moments.count() == 0)
    throw Error("fit_action_scaler: no action rows found in " + std::to_string(fit.shards_used) +
                " shard(s) (expected <key>.jsonl members with fields " +
                [&] {
                  std::string names;
                  for (const auto& f : options.fields) names += (names.empty() ? "" : ", ") + f;
                  return names;
                }() + ")");

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
