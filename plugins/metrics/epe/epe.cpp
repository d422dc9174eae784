// epe: optical-flow end-point error with the benchmark conventions of RAFT's evaluate.py
// (princeton-vl/RAFT): Sintel/Chairs pool every pixel of the dataset, then average; KITTI
// averages over each image's valid pixels, then over images, and reports Fl-all, the share of
// valid pixels with EPE > 3 px and > 5% of the true flow's length, pooled over the dataset.
// 1/3/5 px are accuracies: the share of pixels with EPE below 1, 3 and 5 px.
#include <torch/torch.h>

#include <array>

#include "wm/sdk.h"

namespace {

constexpr std::array<double, 3> kThresholdsPx = {1.0, 3.0, 5.0};

class Epe : public wm::Metric {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .choice("convention", "sintel", {"sintel", "kitti"},
                "sintel: mean over all pixels of the dataset; kitti: mean per image, then over "
                "images")
        .text("prediction", "prediction", "model output key holding estimated flow [..., 2, H, W] (px)")
        .text("target", "target", "model output key holding true flow [..., 2, H, W] (px)")
        .text("valid", "", "output key of the valid-pixel mask [..., H, W] (KITTI's third PNG "
                           "channel; >= 0.5 is valid); empty: every finite pixel with |flow| < 1e9")
        .real("unknown_flow_px", 1e9, "true flow beyond this (Middlebury's 1e10 marker) is unknown")
        .at_least(0);
  }

  explicit Epe(const wm::Params& params)
      : kitti_(params.get<std::string>("convention") == "kitti"),
        prediction_key_(params.get<std::string>("prediction")),
        target_key_(params.get<std::string>("target")),
        valid_key_(params.get<std::string>("valid")),
        unknown_flow_px_(params.get<double>("unknown_flow_px")) {}

  std::vector<std::string> required_keys() const override {
    std::vector<std::string> keys{prediction_key_, target_key_};
    if (!valid_key_.empty()) keys.push_back(valid_key_);
    return keys;
  }

  void reset() override { state_ = State{}; }

  void update(const wm::TensorMap& outputs) override {
    const auto& prediction = outputs.at(prediction_key_);
    const auto& target = outputs.at(target_key_);
    if (!prediction.sizes().equals(target.sizes()))
      throw wm::Error("epe: prediction " + wm::describe_tensor(prediction) + " and target " +
                      wm::describe_tensor(target) + " differ in shape");
    if (prediction.dim() < 3 || prediction.size(-3) != 2)
      throw wm::Error("epe: flow must be [..., 2, H, W], got " + wm::describe_tensor(prediction));
    int64_t h = prediction.size(-2), w = prediction.size(-1);
    // [..., 2, H, W] -> [images, 2, H*W]
    auto estimate = prediction.to(torch::kFloat64).reshape({-1, 2, h * w});
    auto truth = target.to(torch::kFloat64).reshape({-1, 2, h * w});
    auto known = torch::isfinite(truth).all(1) & (truth.abs() < unknown_flow_px_).all(1);
    if (!valid_key_.empty()) {
      const auto& mask = outputs.at(valid_key_);
      if (mask.numel() != known.numel())
        throw wm::Error("epe: valid mask " + wm::describe_tensor(mask) + " does not match flow " +
                        wm::describe_tensor(prediction) + "; it must be [..., H, W]");
      known = known & (mask.to(torch::kFloat64).reshape({-1, h * w}) >= 0.5);
    }
    // per pixel [images, H*W]; unknown pixels get 0 weight
    auto truth_safe = truth.masked_fill(known.unsqueeze(1).logical_not(), 0);
    auto error = (estimate - truth_safe).pow(2).sum(1).sqrt().masked_fill(known.logical_not(), 0);
    auto weight = known.to(torch::kFloat64);
    auto pixels = weight.sum(1);

    state_.error_sum += error.sum().item<double>();
    state_.pixels += pixels.sum().item<double>();
    auto has_pixels = pixels > 0;
    state_.image_error_sum += (error.sum(1) / pixels.clamp_min(1)).masked_select(has_pixels).sum().item<double>();
    state_.images += has_pixels.sum().item<int64_t>();
    state_.images_without_pixels += has_pixels.logical_not().sum().item<int64_t>();
    for (size_t i = 0; i < kThresholdsPx.size(); ++i)
      state_.within[i] += ((error < kThresholdsPx[i]) & known).sum().item<double>();
    auto length = truth_safe.pow(2).sum(1).sqrt();
    state_.outliers += ((error > 3.0) & (error > 0.05 * length) & known).sum().item<double>();
  }

  void merge(const wm::Metric& other) override {
    const auto& source = wm::merge_source<Epe>(other, "epe").state_;
    state_.error_sum += source.error_sum, state_.pixels += source.pixels;
    state_.image_error_sum += source.image_error_sum, state_.images += source.images;
    state_.images_without_pixels += source.images_without_pixels;
    for (size_t i = 0; i < kThresholdsPx.size(); ++i) state_.within[i] += source.within[i];
    state_.outliers += source.outliers;
  }

  std::map<std::string, double> compute() const override {
    if (state_.pixels == 0)
      throw wm::Error("epe: no valid pixels were seen" +
                      std::string(state_.images_without_pixels ? " (every valid mask was empty)" : ""));
    if (state_.images_without_pixels)
      wm::log().warn("epe: {} flow fields had no valid pixel and were skipped",
                     state_.images_without_pixels);
    double pixels = state_.pixels;
    return {{"epe", kitti_ ? state_.image_error_sum / state_.images : state_.error_sum / pixels},
            {"within_1px", state_.within[0] / pixels},
            {"within_3px", state_.within[1] / pixels},
            {"within_5px", state_.within[2] / pixels},
            {"fl_all", 100.0 * state_.outliers / pixels},
            {"images_without_valid_pixels", static_cast<double>(state_.images_without_pixels)}};
  }

 private:
  // sums, so that workers merge by adding
  struct State {
    double error_sum = 0, pixels = 0, image_error_sum = 0, outliers = 0;
    std::array<double, 3> within{};
    int64_t images = 0, images_without_pixels = 0;
  };

  bool kitti_;
  std::string prediction_key_, target_key_, valid_key_;
  double unknown_flow_px_;
  State state_;
};

}  // namespace

WM_PLUGIN(wm::Metric, Epe, "epe", "1.0.0",
          "Optical-flow end-point error (Sintel or KITTI averaging), 1/3/5-px accuracy, Fl-all")
