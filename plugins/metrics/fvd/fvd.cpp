// fvd: Fréchet Video Distance (Unterthiner et al. 2018) between predicted and true clips, in the
// features of a Kinetics-400 I3D: its 400 pre-softmax logits averaged over time. The detector is
// stylegan-v's TorchScript file (universome/stylegan-v, src/metrics/frechet_video_distance.py),
// called as detector(x, rescale=, resize=, return_features=True). Statistics are float64 sums
// (wm::eval::FrechetStatistics), so batches stream and worker states merge.
#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>

#include "frechet_distance.h"
#include "wm/sdk.h"
#include "wm/io/weight_files.h"

namespace {

namespace F = torch::nn::functional;

constexpr const char* kDetectorName = "i3d_torchscript.pt";
constexpr const char* kDetectorUrl = "https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt";

class Fvd : public wm::Metric {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .path("detector", "TorchScript Kinetics-400 I3D (stylegan-v's i3d_torchscript.pt); "
                          "default: <weights dir>/fvd/i3d_torchscript.pt")
        .choice("preprocess", "stretch", {"stretch", "short_side_crop", "detector"},
                "stretch: bilinear to resolution^2 ignoring aspect (TF reference, cd-fvd); "
                "short_side_crop: short side to resolution, centre crop (VideoGPT, JunyaoHu); "
                "detector: uint8 clips, the detector rescales and resizes (stylegan-v)")
        .required()
        .integer("frames", 16, "frames per clip: the first `frames` of each video (I3D needs >= 10)")
        .at_least(1)
        .integer("resolution", 224, "side of the detector's input frames").at_least(8)
        .integer("batch_size", 8, "clips per detector call").at_least(1)
        .boolean("unbiased_covariance", false,
                 "divide by N-1 (np.cov, VideoGPT) instead of N (stylegan-v, cd-fvd)")
        .text("prediction", "prediction", "model output key holding generated videos [B, T, 3, H, W]")
        .text("target", "target", "model output key holding real videos [B, T, 3, H, W]");
  }

  explicit Fvd(const wm::Params& params)
      : preprocess_(params.get<std::string>("preprocess")),
        frames_(params.get<int64_t>("frames")),
        resolution_(params.get<int64_t>("resolution")),
        batch_size_(params.get<int64_t>("batch_size")),
        unbiased_(params.get<bool>("unbiased_covariance")),
        prediction_key_(params.get<std::string>("prediction")),
        target_key_(params.get<std::string>("target")) {
    auto file = wm::io::find_weight_file(params.get<std::string>("detector"), "fvd", {kDetectorName});
    if (file.empty())
      throw wm::Error(std::string("fvd: no I3D detector. Download ") + kDetectorName + " (" +
                      kDetectorUrl + ") into " + (wm::io::weights_dir() / "fvd").string() +
                      "/ or set fvd.params.detector to its path");
    try {
      detector_ = torch::jit::load(file.string());
    } catch (const c10::Error& e) {
      throw wm::Error("fvd: " + file.string() + " is not a TorchScript module: " +
                      std::string(e.what_without_backtrace()).substr(0, 200));
    }
    detector_.eval();
    detector_path_ = file.string();
  }

  std::vector<std::string> required_keys() const override { return {prediction_key_, target_key_}; }

  void reset() override { generated_.reset(), real_.reset(); }

  void update(const wm::TensorMap& outputs) override {
    generated_.add(features(outputs.at(prediction_key_), prediction_key_));
    real_.add(features(outputs.at(target_key_), target_key_));
  }

  void merge(const wm::Metric& other) override {
    const auto& source = wm::merge_source<Fvd>(other, "fvd");
    generated_.merge(source.generated_), real_.merge(source.real_);
  }

  std::map<std::string, double> compute() const override {
    if (generated_.count() == 0 || real_.count() == 0)
      throw wm::Error("fvd: compute() before any update()");
    int64_t dim = generated_.dim();
    if (std::min(generated_.count(), real_.count()) < dim + 1)
      wm::log().warn("fvd: {} generated and {} real clips are fewer than feature dimension + 1 "
                     "({}): the covariances are singular and FVD is biased; compare FVDs only "
                     "at equal N",
                     generated_.count(), real_.count(), dim + 1);
    double distance = wm::eval::frechet_distance(
        generated_.mean(), generated_.covariance(unbiased_), real_.mean(), real_.covariance(unbiased_));
    return {{"fvd", distance},
            {"fvd_clips_generated", static_cast<double>(generated_.count())},
            {"fvd_clips_real", static_cast<double>(real_.count())}};
  }

 private:
  // detector features of float clips in [0, 1]: [B, T, 3, H, W] -> [B, D]
  torch::Tensor features(const torch::Tensor& videos, const std::string& key) {
    if (videos.dim() != 5 || videos.size(2) != 3)
      throw wm::Error("fvd: '" + key + "' must be RGB videos [B, T, 3, H, W], got " +
                      wm::describe_tensor(videos));
    if (videos.size(1) < frames_)
      throw wm::Error("fvd: '" + key + "' has " + std::to_string(videos.size(1)) +
                      " frames, fewer than fvd.params.frames = " + std::to_string(frames_) +
                      "; lower it (I3D needs >= 10) or evaluate longer clips");
    std::vector<torch::Tensor> chunks;
    auto clips = videos.slice(1, 0, frames_);
    for (int64_t start = 0; start < clips.size(0); start += batch_size_)
      chunks.push_back(detect(clips.slice(0, start, start + batch_size_)));
    return torch::cat(chunks);
  }

  torch::Tensor detect(const torch::Tensor& clips) {
    torch::NoGradGuard no_grad;
    bool detector_prepares = preprocess_ == "detector";
    torch::Tensor input;
    if (detector_prepares) {
      // the uint8 clips a video file holds: [B, T, 3, H, W] -> [B, 3, T, H, W]
      input = (clips * 255).round().clamp(0, 255).to(torch::kUInt8).permute({0, 2, 1, 3, 4});
    } else {
      // resize per frame: [B, T, 3, H, W] -> [B*T, 3, r, r] -> [B, 3, T, r, r] in [-1, 1]
      int64_t b = clips.size(0), t = clips.size(1), h = clips.size(3), w = clips.size(4);
      auto frames = clips.to(torch::kFloat32).reshape({b * t, 3, h, w});
      frames = preprocess_ == "stretch" ? resize(frames, resolution_, resolution_)
                                        : short_side_crop(frames);
      input = (frames * 2 - 1).reshape({b, t, 3, resolution_, resolution_}).permute({0, 2, 1, 3, 4});
    }
    torch::Tensor logits;
    try {
      logits = detector_
                   .get_method("forward")({input.contiguous()},
                                          {{"rescale", detector_prepares},
                                           {"resize", detector_prepares},
                                           {"return_features", true}})
                   .toTensor();
    } catch (const c10::Error& e) {
      throw wm::Error("fvd: the detector " + detector_path_ +
                      " failed on clips " + wm::describe_tensor(input) +
                      "; it must be called as forward(x, rescale, resize, return_features) "
                      "like stylegan-v's i3d_torchscript.pt: " +
                      std::string(e.what_without_backtrace()).substr(0, 300));
    }
    if (logits.dim() != 2 || logits.size(0) != input.size(0))
      throw wm::Error("fvd: the detector returned " + wm::describe_tensor(logits) +
                      " for " + std::to_string(input.size(0)) + " clips; expected [clips, 400]");
    return logits;
  }

  static torch::Tensor resize(const torch::Tensor& frames, int64_t height, int64_t width) {
    return F::interpolate(frames, F::InterpolateFuncOptions()
                                      .size(std::vector<int64_t>{height, width})
                                      .mode(torch::kBilinear)
                                      .align_corners(false));
  }

  // the short side to `resolution` (the long side rounded up, as VideoGPT), then the centre
  torch::Tensor short_side_crop(const torch::Tensor& frames) const {
    int64_t h = frames.size(2), w = frames.size(3);
    double scale = static_cast<double>(resolution_) / std::min(h, w);
    int64_t new_h = h < w ? resolution_ : static_cast<int64_t>(std::ceil(h * scale));
    int64_t new_w = h < w ? static_cast<int64_t>(std::ceil(w * scale)) : resolution_;
    auto resized = resize(frames, new_h, new_w);
    int64_t top = (new_h - resolution_) / 2, left = (new_w - resolution_) / 2;
    return resized.slice(2, top, top + resolution_).slice(3, left, left + resolution_);
  }

  std::string preprocess_;
  int64_t frames_, resolution_, batch_size_;
  bool unbiased_;
  std::string prediction_key_, target_key_;
  torch::jit::script::Module detector_;
  std::string detector_path_;
  wm::eval::FrechetStatistics generated_, real_;
};

}  // namespace

WM_PLUGIN(wm::Metric, Fvd, "fvd", "1.0.0",
          "Fréchet Video Distance in Kinetics-400 I3D logits (TorchScript detector)")
