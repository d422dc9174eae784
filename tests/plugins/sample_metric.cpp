// A minimal valid metric, compiled under several names and ABI numbers by tests/plugins.
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

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

#ifdef WM_TEST_ABORT_ON_LOAD
// a static constructor that aborts, as a library missing a resource at load time might: wmhost
// must skip the file with a message, not die with it
[[maybe_unused]] const int aborts_on_load = [] {
  std::fputs("aborting_metric: cannot find its license file\n", stderr);
  std::abort();
  return 0;
}();
#endif
#ifdef WM_TEST_EXIT_ON_LOAD
// a static constructor that ends the process with status 0: not a clean load
[[maybe_unused]] const int exits_on_load = [] {
  std::exit(0);
  return 0;
}();
#endif
#ifdef WM_TEST_HANG_ON_LOAD
// a static constructor that never returns, as one waiting on a lock or a network share might:
// the probe's child is killed after its time and the file skipped
[[maybe_unused]] const int hangs_on_load = [] {
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  return 0;
}();
#endif

}  // namespace

WM_PLUGIN(wm::Metric, SampleMetric, WM_TEST_PLUGIN_NAME, "0.0.1", "test: sums the prediction")
