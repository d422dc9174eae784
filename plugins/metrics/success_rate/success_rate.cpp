// success_rate: the fraction of episodes that succeeded, from an episode success flag, with a
// Wilson score interval (Wilson 1927) so that "14/20" and "700/1000" are not read alike.
// A flag per step ([B, T]) is reduced to one per episode: success at any step, or at the last.
#include <torch/torch.h>

#include <cmath>

#include "wm/sdk.h"

namespace {

class SuccessRate : public wm::Metric {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .text("success", "success", "output key holding the success flag: [B] or per step [B, T]")
        .choice("per_step", "any", {"any", "last"},
                "how a per-step flag [B, T] becomes one per episode: any step, or the last step")
        .real("threshold", 0.5, "a float flag above this counts as success")
        .real("z", 1.96, "normal quantile of the Wilson interval (1.96: 95%)").at_least(0);
  }

  explicit SuccessRate(const wm::Params& params)
      : success_key_(params.get<std::string>("success")),
        per_step_(params.get<std::string>("per_step")),
        threshold_(params.get<double>("threshold")),
        z_(params.get<double>("z")) {}

  std::vector<std::string> required_keys() const override { return {success_key_}; }

  void reset() override { successes_ = episodes_ = 0; }

  void update(const wm::TensorMap& outputs) override {
    const auto& flag = outputs.at(success_key_);
    if (flag.dim() != 1 && flag.dim() != 2)
      throw wm::Error("success_rate: '" + success_key_ + "' must be [B] or [B, T], got " +
                      wm::describe_tensor(flag));
    auto succeeded = flag.to(torch::kFloat64) > threshold_;
    if (flag.dim() == 2) {
      if (flag.size(1) == 0) throw wm::Error("success_rate: episodes with no steps");
      succeeded = per_step_ == "any" ? succeeded.any(1) : succeeded.select(1, -1);
    }
    successes_ += succeeded.sum().item<int64_t>();
    episodes_ += succeeded.size(0);
  }

  void merge(const wm::Metric& other) override {
    const auto& source = wm::merge_source<SuccessRate>(other, "success_rate");
    successes_ += source.successes_, episodes_ += source.episodes_;
  }

  std::map<std::string, double> compute() const override {
    if (episodes_ == 0) throw wm::Error("success_rate: compute() before any update()");
    double n = static_cast<double>(episodes_), p = successes_ / n, z2 = z_ * z_;
    double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half_width = z_ / (1 + z2 / n) * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    return {{"success_rate", p},
            {"success_rate_low", std::max(0.0, centre - half_width)},
            {"success_rate_high", std::min(1.0, centre + half_width)},
            {"episodes", n}};
  }

 private:
  std::string success_key_, per_step_;
  double threshold_, z_;
  int64_t successes_ = 0, episodes_ = 0;
};

}  // namespace

WM_PLUGIN(wm::Metric, SuccessRate, "success_rate", "1.0.0",
          "Fraction of successful episodes with a Wilson score interval")
