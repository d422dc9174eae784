// A minimal valid metric, compiled under several names and ABI numbers by tests/plugins.
#include <ATen/ATen.h>

#include "wm/sdk.h"

namespace {

class SampleMetric : public wm::Metric {
 public:
  static wm::Schema schema() { return wm::Schema{}.real("scale", 1.0, "multiplies the result"); }
  explicit SampleMetric(const wm::Params& params) : scale_(params.get<double>("scale")) {}
  std::vector<std::string> required_keys() const override { return {"prediction"}; }
  void reset() override { sum_ = 0; }
  void update(const wm::TensorMap& outputs) override {
    sum_ += outputs.at("prediction").sum().item<double>();
  }
  std::map<std::string, double> compute() const override { return {{"sum", scale_ * sum_}}; }
  void merge(const wm::Metric& other) override {
    sum_ += wm::merge_source<SampleMetric>(other, "sample_metric").sum_;
  }

 private:
  double scale_, sum_ = 0;
};

}  // namespace

WM_PLUGIN(wm::Metric, SampleMetric, WM_TEST_PLUGIN_NAME, "0.0.1", "test: sums the prediction")
