// Plugins that each break one rule of `wmhost check`, compiled once per rule by tests/plugins
// (WM_BREAKS names the rule). Everything else about them is right, so the check must find
// exactly the broken rule.
#include <ATen/ATen.h>

#include "wm/sdk.h"

namespace {

#if defined(WM_BREAKS_DOCUMENTED) || defined(WM_BREAKS_MERGE)
// a metric: the mean of `prediction`
class Mean : public wm::Metric {
 public:
#ifdef WM_BREAKS_DOCUMENTED
  static wm::Schema schema() { return wm::Schema{}.real("scale", 1.0, ""); }  // no doc line
#else
  static wm::Schema schema() { return wm::Schema{}.real("scale", 1.0, "multiplies the mean"); }
#endif
  explicit Mean(const wm::Params& p) : scale_(p.get<double>("scale")) {}
  std::vector<std::string> required_keys() const override { return {"prediction"}; }
  void reset() override { sum_ = 0, count_ = 0; }
  void update(const wm::TensorMap& outputs) override {
    sum_ += outputs.at("prediction").to(at::kDouble).sum().item<double>();
    count_ += outputs.at("prediction").numel();
  }
  std::map<std::string, double> compute() const override { return {{"mean", scale_ * sum_ / count_}}; }
  void merge(const wm::Metric& other) override {
    const auto& source = wm::merge_source<Mean>(other, "mean");
#ifdef WM_BREAKS_MERGE
    sum_ += source.sum_;  // forgets the other's count
#else
    sum_ += source.sum_, count_ += source.count_;
#endif
  }

 private:
  double scale_, sum_ = 0;
  int64_t count_ = 0;
};
WM_PLUGIN(wm::Metric, Mean, WM_TEST_PLUGIN_NAME, "0.0.1", "test: the mean of the prediction")
#endif

#if defined(WM_BREAKS_DETERMINISTIC) || defined(WM_BREAKS_DATA_CONTRACT)
// a dataset of small clips
class Clips : public wm::Dataset {
 public:
  static wm::Schema schema() { return wm::Schema{}.integer("samples", 8, "clips").at_least(1); }
  explicit Clips(const wm::Params& p) : samples_(p.get<int64_t>("samples")) {}
  int64_t size() const override { return samples_; }
  std::vector<wm::KeySpec> keys() const override { return {{"video", "uint8", "[T, 3, H, W]"}}; }
  wm::Sample get(int64_t index) const override {
#ifdef WM_BREAKS_DETERMINISTIC
    auto video = at::randint(0, 255, {4, 3, 8, 8}).to(at::kByte);  // the global generator
#else
    auto video = at::full({4, 3, 8, 8}, index % 256).to(at::kByte);
#endif
#ifdef WM_BREAKS_DATA_CONTRACT
    video = video.to(at::kFloat);  // declared uint8
#endif
    return {{{"video", video}}, "clip-" + std::to_string(index), "", ""};
  }

 private:
  int64_t samples_;
};
WM_PLUGIN(wm::Dataset, Clips, WM_TEST_PLUGIN_NAME, "0.0.1", "test: grey clips")
#endif

#if defined(WM_BREAKS_PREDICT)
// a model whose prediction does not match its target
class Shrink : public wm::Model {
 public:
  static wm::Schema schema() { return wm::Schema{}; }
  explicit Shrink(const wm::Params&) {}
  std::vector<std::string> required_keys() const override { return {"video"}; }
  wm::TensorMap predict(const wm::Batch& batch) override {
    const auto& video = batch.at("video");
    return {{"prediction", video.slice(1, 0, 1)}, {"target", video.slice(1, 1)}};
  }
};
WM_PLUGIN(wm::Model, Shrink, WM_TEST_PLUGIN_NAME, "0.0.1", "test: predicts the wrong frames")
#endif

#if defined(WM_BREAKS_LOSS)
// a trainable model whose loss has no graph back to its parameters (it was detached)
class Detached : public wm::Model {
 public:
  static wm::Schema schema() { return wm::Schema{}; }
  explicit Detached(const wm::Params&) : scale_(at::ones({1}).requires_grad_()) {}
  std::vector<std::string> required_keys() const override { return {"video"}; }
  wm::TensorMap predict(const wm::Batch& batch) override {
    const auto& video = batch.at("video");
    int64_t frames = video.size(1);
    return {{"prediction", video.slice(1, 0, frames - 1) * scale_}, {"target", video.slice(1, 1)}};
  }
  wm::NamedTensors parameters() const override { return {{"scale", scale_}}; }
  wm::LossOutput loss(const wm::Batch& batch) override {
    auto out = predict(batch);
    return {(out.at("prediction") - out.at("target")).pow(2).mean().detach(), {}, 0};
  }

 private:
  at::Tensor scale_;
};
WM_PLUGIN(wm::Model, Detached, WM_TEST_PLUGIN_NAME, "0.0.1", "test: a loss without a graph")
#endif

#if defined(WM_BREAKS_BAD_ACTION)
// an environment that takes an action of any size
class Walker : public wm::Env {
 public:
  static wm::Schema schema() { return wm::Schema{}; }
  explicit Walker(const wm::Params&) {}
  wm::EnvSpec spec() const override {
    wm::EnvSpec spec;
    spec.action_size = 2;
    spec.max_episode_steps = 10;
    return spec;
  }
  wm::TensorMap reset(uint64_t seed) override {
    position_ = static_cast<double>(seed % 10);
    return {{"state", at::full({1}, position_)}};
  }
  wm::StepResult step(const at::Tensor& action) override {
    position_ += action.sum().item<double>();  // any size goes
    wm::StepResult result;
    result.observation = {{"state", at::full({1}, position_)}};
    return result;
  }

 private:
  double position_ = 0;
};
WM_PLUGIN(wm::Env, Walker, WM_TEST_PLUGIN_NAME, "0.0.1", "test: walks by the sum of its action")
#endif

}  // namespace
