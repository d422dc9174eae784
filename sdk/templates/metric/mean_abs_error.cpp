// Template plugin: copy this folder, rename the class and the registered name, implement.
// mean_abs_error: the mean absolute difference between a model's prediction and its target.
#include <torch/torch.h>

#include "wm/sdk.h"

namespace {

class MeanAbsError : public wm::Metric {
 public:
  // every parameter is declared: type, default, limits, one line of doc
  static wm::Schema schema() {
    return wm::Schema{}.real("scale", 1.0, "multiplies the reported error").at_least(0);
  }

  // parameters arrive validated; plugins never parse YAML
  explicit MeanAbsError(const wm::Params& params) : scale_(params.get<double>("scale")) {}

  std::vector<std::string> required_keys() const override { return {"prediction", "target"}; }

  void reset() override { sum_ = 0, count_ = 0; }

  void update(const wm::TensorMap& outputs) override {
    auto difference = outputs.at("prediction").to(torch::kFloat64) - outputs.at("target");
    sum_ += difference.abs().sum().item<double>();
    count_ += difference.numel();
  }

  // combine the state of another instance (another worker), as if this one saw its data
  void merge(const wm::Metric& other) override {
    const auto& source = wm::merge_source<MeanAbsError>(other, "mean_abs_error");
    sum_ += source.sum_, count_ += source.count_;
  }

  std::map<std::string, double> compute() const override {
    if (count_ == 0) throw wm::Error("mean_abs_error: compute() before any update()");
    return {{"mae", scale_ * sum_ / static_cast<double>(count_)}};
  }

 private:
  double scale_;
  double sum_ = 0;
  int64_t count_ = 0;
};

}  // namespace

// kind, class, registered name (never reuse a name for new behaviour), version, summary
WM_PLUGIN(wm::Metric, MeanAbsError, "mean_abs_error", "1.0.0",
          "Template: mean absolute error of prediction vs. target")
