// ssim: structural similarity of predicted frames (Wang et al. 2004, "Image Quality Assessment:
// From Error Visibility to Structural Similarity", and its reference MATLAB code ssim_index.m):
// an 11x11 Gaussian window with sigma 1.5, K1 0.01, K2 0.03, statistics over the 'valid' part of
// the image (no padding), averaged over channels and pixels per frame, then over frames.
#include <torch/torch.h>

#include "wm/sdk.h"

namespace {

namespace F = torch::nn::functional;

class Ssim : public wm::Metric {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .real("data_range", 1.0, "maximum minus minimum possible pixel value").at_least(1e-12)
        .integer("window_size", 11, "side of the Gaussian window in pixels (odd)").at_least(1)
        .real("sigma", 1.5, "standard deviation of the Gaussian window in pixels").at_least(1e-3)
        .real("k1", 0.01, "luminance stabiliser: C1 = (k1 * data_range)^2").at_least(0)
        .real("k2", 0.03, "contrast stabiliser: C2 = (k2 * data_range)^2").at_least(0)
        .text("prediction", "prediction", "model output key holding the predicted frames")
        .text("target", "target", "model output key holding the true frames");
  }

  explicit Ssim(const wm::Params& params)
      : data_range_(params.get<double>("data_range")),
        window_size_(params.get<int64_t>("window_size")),
        sigma_(params.get<double>("sigma")),
        k1_(params.get<double>("k1")),
        k2_(params.get<double>("k2")),
        prediction_key_(params.get<std::string>("prediction")),
        target_key_(params.get<std::string>("target")) {
    if (window_size_ % 2 == 0)
      throw params.error("window_size", "must be odd, got " + std::to_string(window_size_));
    // separable Gaussian, normalised to sum 1, centred on the middle tap
    auto offsets = torch::arange(window_size_, torch::kFloat64) - (window_size_ - 1) / 2.0;
    window_ = torch::exp(-offsets.pow(2) / (2 * sigma_ * sigma_));
    window_ /= window_.sum();
  }

  std::vector<std::string> required_keys() const override { return {prediction_key_, target_key_}; }

  void reset() override { ssim_sum_ = 0, frames_ = 0; }

  void update(const wm::TensorMap& outputs) override {
    const auto& prediction = outputs.at(prediction_key_);
    const auto& target = outputs.at(target_key_);
    if (!prediction.sizes().equals(target.sizes()))
      throw wm::Error("ssim: prediction " + wm::describe_tensor(prediction) + " and target " +
                      wm::describe_tensor(target) + " differ in shape");
    if (prediction.dim() < 3) throw wm::Error("ssim: frames must be [..., C, H, W]");
    int64_t channels = prediction.size(-3), height = prediction.size(-2), width = prediction.size(-1);
    if (height < window_size_ || width < window_size_)
      throw wm::Error("ssim: frames of " + std::to_string(height) + "x" + std::to_string(width) +
                      " are smaller than the " + std::to_string(window_size_) +
                      "-pixel window; lower ssim.params.window_size");
    // float64 keeps sxx - mu^2 from cancelling badly on flat regions
    auto x = prediction.to(torch::kFloat64).reshape({-1, channels, height, width});
    auto y = target.to(torch::kFloat64).reshape({-1, channels, height, width});
    auto mu_x = blur(x), mu_y = blur(y);
    auto var_x = blur(x * x) - mu_x * mu_x;
    auto var_y = blur(y * y) - mu_y * mu_y;
    auto cov_xy = blur(x * y) - mu_x * mu_y;
    double c1 = std::pow(k1_ * data_range_, 2), c2 = std::pow(k2_ * data_range_, 2);
    auto ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)) /
                    ((mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2));
    // per frame: [frames, C, H', W'] -> [frames]
    auto per_frame = ssim_map.flatten(1).mean(1);
    ssim_sum_ += per_frame.sum().item<double>();
    frames_ += per_frame.size(0);
  }

  void merge(const wm::Metric& other) override {
    const auto& source = wm::merge_source<Ssim>(other, "ssim");
    ssim_sum_ += source.ssim_sum_, frames_ += source.frames_;
  }

  std::map<std::string, double> compute() const override {
    if (frames_ == 0) throw wm::Error("ssim: compute() before any update()");
    return {{"ssim", ssim_sum_ / frames_}};
  }

 private:
  // Gaussian-weighted local mean, 'valid' part only: [N, C, H, W] -> [N, C, H-w+1, W-w+1]
  torch::Tensor blur(const torch::Tensor& images) const {
    int64_t channels = images.size(1);
    auto rows = window_.view({1, 1, window_size_, 1}).expand({channels, 1, window_size_, 1}).contiguous();
    auto cols = window_.view({1, 1, 1, window_size_}).expand({channels, 1, 1, window_size_}).contiguous();
    auto options = F::Conv2dFuncOptions().groups(channels);
    return F::conv2d(F::conv2d(images, rows, options), cols, options);
  }

  double data_range_;
  int64_t window_size_;
  double sigma_, k1_, k2_;
  std::string prediction_key_, target_key_;
  torch::Tensor window_;
  double ssim_sum_ = 0;
  int64_t frames_ = 0;
};

}  // namespace

WM_PLUGIN(wm::Metric, Ssim, "ssim", "1.0.0",
          "Structural similarity (11x11 Gaussian window, sigma 1.5) of predicted frames")
