// Per-dimension standardisation of continuous actions, fitted by the fit_action_scaler procedure
// and applied by the host to a dataset's `actions` (experiment key data.<name>.action_scaler).
// Equal to scikit-learn's StandardScaler: population std (ddof 0), and a dimension whose std is 0
// is divided by 1, not 0.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "wm/dataset.h"

namespace wm::io {

//---- the scaler ----

struct ActionScaler {
  std::vector<std::string> names;  // one per action dimension: "mouse.dx", "yaw_diff", ...
  std::vector<double> mean, std;   // float64, same length as names
  int64_t count = 0;               // action rows the statistics were fitted on
  bool converged = false;          // the fit stopped because mean and std had settled

  int64_t size() const { return static_cast<int64_t>(mean.size()); }

  // .yaml/.yml or .json by extension; a missing file, a missing field or lengths that disagree
  // throw wm::Error naming the file and the field
  static ActionScaler load(const std::filesystem::path& path);
  // written atomically; the format follows the extension (.yaml, .yml or .json)
  void save(const std::filesystem::path& path) const;
  std::string to_yaml() const;
  std::string to_json() const;

  // (actions - mean) / std over the last dimension, any leading shape; keeps the dtype.
  // A last dimension of the wrong size throws wm::Error with both sizes.
  at::Tensor apply(const at::Tensor& actions) const;
  // actions * std + mean: back to the recorded units
  at::Tensor invert(const at::Tensor& actions) const;
};

//---- fitting: float64 sufficient statistics ----

// running count, mean and sum of squared deviations per dimension; rows are merged in batches by
// Chan et al.'s parallel update, numerically stable at any count
class RunningMoments {
 public:
  explicit RunningMoments(size_t dims = 0) : mean_(dims, 0.0), m2_(dims, 0.0) {}
  // adds `rows` rows of `dims` values each, row-major
  void add(const double* values, size_t rows);
  void merge(const RunningMoments& other);
  int64_t count() const { return count_; }
  size_t dims() const { return mean_.size(); }
  const std::vector<double>& mean() const { return mean_; }
  std::vector<double> stddev() const;  // population std (ddof 0)

 private:
  int64_t count_ = 0;
  std::vector<double> mean_, m2_;
};

//---- applying it to a dataset ----

// a dataset whose samples' `actions` are standardised by a scaler. The size check happens at
// construction when the dataset declares the action width (keys() shape "[T-1, 4]"), otherwise
// at the first get().
class ScaledActionsDataset : public Dataset {
 public:
  ScaledActionsDataset(std::shared_ptr<Dataset> base, ActionScaler scaler, std::string scaler_file);
  int64_t size() const override { return base_->size(); }
  Sample get(int64_t index) const override;
  std::vector<KeySpec> keys() const override;
  std::string id(int64_t index) const override { return base_->id(index); }
  std::string group(int64_t index) const override { return base_->group(index); }

 private:
  std::shared_ptr<Dataset> base_;
  ActionScaler scaler_;
  std::string scaler_file_;
};

}  // namespace wm::io
