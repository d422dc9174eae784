// Template dataset plugin: copy this folder, rename the class and the registered name, implement.
// moving_square: a white square on black that moves by its actions, one clip per index.
#include <torch/torch.h>

#include <random>

#include "wm/sdk.h"

namespace {

class MovingSquare : public wm::Dataset {
 public:
  // every parameter is declared: type, default, limits, one line of doc
  static wm::Schema schema() {
    return wm::Schema{}
        .integer("samples", 64, "clips in the dataset").at_least(1)
        .integer("frames", 8, "frames per clip").at_least(2)
        .integer("size", 32, "frame height and width in pixels").at_least(8)
        .integer("seed", 0, "clip i is the same for the same seed, on every machine");
  }

  // parameters arrive validated; plugins never parse YAML
  explicit MovingSquare(const wm::Params& p)
      : samples_(p.get<int64_t>("samples")),
        frames_(p.get<int64_t>("frames")),
        size_(p.get<int64_t>("size")),
        seed_(p.get<int64_t>("seed")) {}

  int64_t size() const override { return samples_; }

  // the keys and shapes of docs/data_contract.md: video uint8 [T, 3, H, W], actions [T-1, 2]
  std::vector<wm::KeySpec> keys() const override {
    return {{"video", "uint8", "[T, 3, H, W]"}, {"actions", "float32", "[T-1, 2]"}};
  }

  wm::Sample get(int64_t index) const override {
    WM_CHECK(index >= 0 && index < samples_) << "index " << index << " of " << samples_;
    // a generator of its own per sample: the same clip whatever the order or thread
    std::mt19937_64 random(static_cast<uint64_t>(seed_) * 1000003u + static_cast<uint64_t>(index));
    std::uniform_int_distribution<int64_t> position(0, size_ - side_), step(-2, 2);
    int64_t x = position(random), y = position(random);

    auto video = torch::zeros({frames_, 3, size_, size_}, torch::kUInt8);
    auto actions = torch::zeros({frames_ - 1, 2}, torch::kFloat32);
    for (int64_t t = 0; t < frames_; ++t) {
      video[t].slice(1, y, y + side_).slice(2, x, x + side_).fill_(255);
      if (t + 1 == frames_) break;
      // the action moves the square, clipped at the border
      int64_t dx = step(random), dy = step(random);
      actions[t][0] = static_cast<float>(dx), actions[t][1] = static_cast<float>(dy);
      x = std::clamp<int64_t>(x + dx, 0, size_ - side_);
      y = std::clamp<int64_t>(y + dy, 0, size_ - side_);
    }
    wm::Sample sample;
    sample.id = "square-" + std::to_string(index);
    sample.tensors = {{"video", video}, {"actions", actions}};
    return sample;
  }

 private:
  int64_t samples_, frames_, size_, seed_;
  int64_t side_ = 6;
};

}  // namespace

// kind, class, registered name (never reuse a name for new behaviour), version, summary
WM_PLUGIN(wm::Dataset, MovingSquare, "moving_square", "1.0.0",
          "Template: a square that moves by its actions")
