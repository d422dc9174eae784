// Clips whose quality is known by construction, some of them unreadable: a texture that moves
// (odd indices, `shift` pixels right per frame, the actions say so) or stands still, sharp or
// box-blurred (indices 2, 3 mod 4). Indices listed in `unreadable` throw wm::DataError, as a
// truncated video file would.
#include <torch/torch.h>

#include <algorithm>

#include "wm/sdk.h"

namespace {

class TestClips : public wm::Dataset {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .integer("samples", 8, "number of clips").at_least(1)
        .integer("frames", 6, "frames per clip").at_least(2)
        .integer("size", 32, "frame side").at_least(8)
        .integer("shift", 2, "pixels a moving clip moves right per frame").at_least(0)
        .integers("unreadable", {}, "indices whose get() throws wm::DataError").at_least(0);
  }
  explicit TestClips(const wm::Params& p)
      : samples_(p.get<int64_t>("samples")), frames_(p.get<int64_t>("frames")),
        size_(p.get<int64_t>("size")), shift_(p.get<int64_t>("shift")),
        unreadable_(p.get<wm::IntList>("unreadable")) {}

  int64_t size() const override { return samples_; }
  std::string id(int64_t index) const override { return "clip-" + std::to_string(index); }
  std::vector<wm::KeySpec> keys() const override {
    return {{"video", "uint8", "[T, 3, H, W]", "a texture, moving or not, sharp or blurred"},
            {"actions", "float32", "[T-1, 2]", "the texture's move between frames (x, y)"}};
  }

  wm::Sample get(int64_t index) const override {
    std::string file = "clips/" + id(index) + ".mp4";
    if (std::find(unreadable_.begin(), unreadable_.end(), index) != unreadable_.end())
      throw wm::DataError(file, "truncated file: no moov atom");
    bool moving = index % 2 == 1, blurred = (index / 2) % 2 == 1;
    // a fixed random texture, wider than the frame so it can slide
    auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
    auto texture = torch::rand({3, size_, size_ + frames_ * shift_}, generator);
    if (blurred)
      texture = torch::avg_pool2d(texture.unsqueeze(0), 5, 1, 2, false, false).squeeze(0);
    auto video = torch::empty({frames_, 3, size_, size_}, torch::kUInt8);
    auto actions = torch::zeros({frames_ - 1, 2});
    for (int64_t t = 0; t < frames_; ++t) {
      int64_t left = moving ? (frames_ - t) * shift_ : 0;  // content moves right as t grows
      video[t] = texture.slice(2, left, left + size_).mul(255).round().to(torch::kUInt8);
      if (t > 0 && moving) actions[t - 1][0] = static_cast<float>(shift_);
    }
    return {{{"video", video}, {"actions", actions}}, id(index), file, ""};
  }

 private:
  int64_t samples_, frames_, size_, shift_;
  wm::IntList unreadable_;
};

}  // namespace

WM_PLUGIN(wm::Dataset, TestClips, "test_clips", "0.0.1",
          "test: clips of known motion and sharpness, some unreadable")
