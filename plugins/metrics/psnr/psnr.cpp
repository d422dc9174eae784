// psnr: peak signal-to-noise ratio of predicted frames, averaged over frames (the video-prediction
// convention: each frame is scored on its own, then frames are averaged), plus their MSE.
#include <torch/torch.h>

#include "wm/sdk.h"

namespace {

class Psnr : public wm::Metric {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .real("data_range", 1.0, "maximum minus minimum possible pixel value").at_least(1e-12)
        .real("max_db", 100.0, "score of a perfect frame (MSE 0), instead of infinity")
        .at_least(0)
        .text("prediction", "prediction", "model output key holding the predicted frames")
        .text("target", "target", "model output key holding the true frames");
  }

  explicit Psnr(const wm::Params& params)
      : data_range_(params.get<double>("data_range")),
        max_db_(params.get<double>("max_db")),
        prediction_key_(params.get<std::string>("prediction")),
        target_key_(params.get<std::string>("target")) {}

  std::vector<std::string> required_keys() const override { return {prediction_key_, target_key_}; }

  void reset() override { psnr_sum_ = mse_sum_ = 0, frames_ = 0; }

  void update(const wm::TensorMap& outputs) override {
    const auto& prediction = outputs.at(prediction_key_);
    const auto& target = outputs.at(target_key_);
    if (!prediction.sizes().equals(target.sizes()))
      throw wm::Error("psnr: prediction " + wm::describe_tensor(prediction) +
                      " and target " + wm::describe_tensor(target) + " differ in shape");
    if (prediction.dim() < 3) throw wm::Error("psnr: frames must be [..., C, H, W]");
    // per frame: [..., C, H, W] -> [frames, C*H*W] -> mse [frames]
    auto difference = (prediction.to(torch::kFloat64) - target.to(torch::kFloat64))
                          .reshape({-1, prediction.size(-3) * prediction.size(-2) *
                                            prediction.size(-1)});
    auto mse = difference.pow(2).mean(1);
    auto psnr = (10.0 * torch::log10(data_range_ * data_range_ / mse)).clamp_max(max_db_);
    psnr_sum_ += psnr.sum().item<double>();
    mse_sum_ += mse.sum().item<double>();
    frames_ += mse.size(0);
  }

  void merge(const wm::Metric& other) override {
    const auto& source = wm::merge_source<Psnr>(other, "psnr");
    psnr_sum_ += source.psnr_sum_, mse_sum_ += source.mse_sum_, frames_ += source.frames_;
  }

  std::map<std::string, double> compute() const override {
    if (frames_ == 0) throw wm::Error("psnr: compute() before any update()");
    return {{"psnr", psnr_sum_ / frames_}, {"mse", mse_sum_ / frames_}};
  }

 private:
  double data_range_, max_db_;
  std::string prediction_key_, target_key_;
  double psnr_sum_ = 0, mse_sum_ = 0;
  int64_t frames_ = 0;
};

}  // namespace

WM_PLUGIN(wm::Metric, Psnr, "psnr", "1.0.0", "Peak signal-to-noise ratio and MSE of predicted frames")
