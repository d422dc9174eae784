// A plugin that links against a function nobody defines: loading it must fail cleanly.
#include "wm/sdk.h"

double wm_test_function_that_does_not_exist(double);

namespace {

class LazyMetric : public wm::Metric {
 public:
  static wm::Schema schema() { return {}; }
  explicit LazyMetric(const wm::Params&) {}
  std::vector<std::string> required_keys() const override { return {}; }
  void reset() override {}
  void update(const wm::TensorMap&) override {}
  void merge(const wm::Metric&) override {}
  std::map<std::string, double> compute() const override {
    return {{"value", wm_test_function_that_does_not_exist(1.0)}};
  }
};

}  // namespace

WM_PLUGIN(wm::Metric, LazyMetric, "lazy_metric", "0.0.1", "test: has an unresolved symbol")
