// latent_cosine: cosine similarity between predicted and actual latents (JEPA-style world models
// predict representations, not pixels). Each vector along the last dimension is one latent, e.g.
// [B, T, N, D] token latents give B*T*N cosines; the metric averages them, the same formula as
// torch.nn.functional.cosine_similarity: a.b / max(|a| |b|, eps).
#include <torch/torch.h>

#include "wm/sdk.h"

namespace {

class LatentCosine : public wm::Metric {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .real("eps", 1e-8, "floor of |a| |b|, so a zero latent scores 0 instead of NaN")
        .at_least(0)
        .text("prediction", "prediction", "model output key holding the predicted latents [..., D]")
        .text("target", "target", "model output key holding the actual latents [..., D]");
  }

  explicit LatentCosine(const wm::Params& params)
      : eps_(params.get<double>("eps")),
        prediction_key_(params.get<std::string>("prediction")),
        target_key_(params.get<std::string>("target")) {}

  std::vector<std::string> required_keys() const override { return {prediction_key_, target_key_}; }

  void reset() override { cosine_sum_ = squared_error_sum_ = 0, vectors_ = 0; }

  void update(const wm::TensorMap& outputs) override {
    const auto& prediction = outputs.at(prediction_key_);
    const auto& target = outputs.at(target_key_);
    if (!prediction.sizes().equals(target.sizes()))
      throw wm::Error("latent_cosine: prediction " + wm::describe_tensor(prediction) +
                      " and target " + wm::describe_tensor(target) + " differ in shape");
    if (prediction.dim() < 1 || prediction.numel() == 0)
      throw wm::Error("latent_cosine: latents must be non-empty [..., D], got " +
                      wm::describe_tensor(prediction));
    // [..., D] -> [vectors, D] -> cosine [vectors]
    int64_t dim = prediction.size(-1);
    auto a = prediction.to(torch::kFloat64).reshape({-1, dim});
    auto b = target.to(torch::kFloat64).reshape({-1, dim});
    auto cosine = (a * b).sum(1) / (a.norm(2, 1) * b.norm(2, 1)).clamp_min(eps_);
    cosine_sum_ += cosine.sum().item<double>();
    squared_error_sum_ += (a - b).pow(2).mean(1).sum().item<double>();
    vectors_ += cosine.size(0);
  }

  void merge(const wm::Metric& other) override {
    const auto& source = wm::merge_source<LatentCosine>(other, "latent_cosine");
    cosine_sum_ += source.cosine_sum_, squared_error_sum_ += source.squared_error_sum_;
    vectors_ += source.vectors_;
  }

  std::map<std::string, double> compute() const override {
    if (vectors_ == 0) throw wm::Error("latent_cosine: compute() before any update()");
    return {{"cosine", cosine_sum_ / vectors_}, {"mse", squared_error_sum_ / vectors_}};
  }

 private:
  double eps_;
  std::string prediction_key_, target_key_;
  double cosine_sum_ = 0, squared_error_sum_ = 0;
  int64_t vectors_ = 0;
};

}  // namespace

WM_PLUGIN(wm::Metric, LatentCosine, "latent_cosine", "1.0.0",
          "Mean cosine similarity (and MSE) between predicted and actual latent vectors")
