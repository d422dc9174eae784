// copy_last: the baseline every frame predictor must beat. It predicts frame t+gap to be frame t.
#include <torch/torch.h>

#include "wm/sdk.h"

namespace {

class CopyLast : public wm::Model {
 public:
  static wm::Schema schema() {
    return wm::Schema{}.integer("gap", 1, "frames ahead to predict").at_least(1);
  }

  explicit CopyLast(const wm::Params& params) : gap_(params.get<int64_t>("gap")) {}

  std::vector<std::string> required_keys() const override { return {"video"}; }

  // video [B, T, 3, H, W] -> prediction = frames [0, T-gap), target = frames [gap, T)
  wm::TensorMap predict(const wm::Batch& batch) override {
    const auto& video = batch.at("video");
    if (video.dim() != 5) throw wm::Error("copy_last: video must be [B, T, C, H, W]");
    int64_t frames = video.size(1);
    // an evaluation may ask for another horizon through the batch's `gap`
    auto requested = batch.tensors.find("gap");
    int64_t gap = requested == batch.tensors.end() ? gap_ : requested->second.item<int64_t>();
    if (frames <= gap)
      throw wm::Error("copy_last: clips have " + std::to_string(frames) +
                      " frames, too few for gap " + std::to_string(gap));
    return {{"prediction", video.slice(1, 0, frames - gap)}, {"target", video.slice(1, gap, frames)}};
  }

 private:
  int64_t gap_;
};

}  // namespace

WM_PLUGIN(wm::Model, CopyLast, "copy_last", "1.0.0",
          "Baseline: predicts frame t+gap to be frame t")
