// synthetic: procedurally generated action-conditioned video. Discs on a table; disc 0 is the
// agent, pushed every step by a known continuous action; the others move only when struck
// (elastic collisions, walls that bounce, optional gravity; the simulation is wm/sim/disc_world.h).
// Deterministic by (seed, index), any size, no files. Each clip's discrete label is the direction
// it was pushed in.
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <random>

#include "wm/sdk.h"
#include "wm/sim/disc_world.h"

namespace {

constexpr std::array<const char*, 5> kLabels = {"push right", "push up", "push left",
                                                "push down", "stay"};
constexpr std::array<std::array<double, 2>, 5> kDirections = {
    {{1, 0}, {0, -1}, {-1, 0}, {0, 1}, {0, 0}}};  // image coordinates: y grows downward

class Synthetic : public wm::Dataset {
 public:
  static wm::Schema schema() {
    wm::Schema schema;
    schema.integer("samples", 1000, "number of clips").at_least(1)
        .integer("frames", 8, "frames per clip").range(2, 1024)
        .integer("size", 64, "frame height and width in pixels").range(8, 1024);
    return wm::sim::add_disc_world_params(schema, 3)
        .real("action_noise", 0.3, "std of the noise added to each step's action").at_least(0)
        .integer("seed", 0, "generator seed; with the index it fixes every clip").at_least(0);
  }

  explicit Synthetic(const wm::Params& params)
      : samples_(params.get<int64_t>("samples")),
        frames_(params.get<int64_t>("frames")),
        size_(params.get<int64_t>("size")),
        world_(wm::sim::disc_world_options(params)),
        action_noise_(params.get<double>("action_noise")),
        seed_(static_cast<uint64_t>(params.get<int64_t>("seed"))) {}

  int64_t size() const override { return samples_; }
  std::string id(int64_t index) const override { return "synthetic-" + std::to_string(index); }
  // every sample is its own episode
  std::string group(int64_t index) const override { return id(index); }

  std::vector<wm::KeySpec> keys() const override {
    return {{"video", "uint8", "[T, 3, H, W]", "rendered frames"},
            {"actions", "float32", "[T-1, 2]", "agent push between frames (x, y)"},
            {"action_label", "int64", "[]", "push direction: right, up, left, down, stay"},
            {"state", "float32", "[T, 4*objects]", "x, y, vx, vy of every disc, in [0, 1] units"}};
  }

  wm::Sample get(int64_t index) const override {
    WM_CHECK(index >= 0 && index < samples_) << "index " << index << " of " << samples_;
    std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(index));
    std::normal_distribution<double> noise(0.0, action_noise_);

    wm::sim::DiscWorld world(world_);
    world.place(rng);
    int64_t label = static_cast<int64_t>(rng() % kLabels.size());
    auto video = torch::empty({frames_, 3, size_, size_}, torch::kUInt8);
    auto actions = torch::empty({frames_ - 1, 2}, torch::kFloat32);
    auto state = torch::empty({frames_, 4 * world_.objects}, torch::kFloat32);

    for (int64_t t = 0; t < frames_; ++t) {
      world.render(video[t]);
      state[t] = world.state();
      if (t + 1 == frames_) break;
      std::array<double, 2> action = {kDirections[label][0] + noise(rng),
                                      kDirections[label][1] + noise(rng)};
      actions[t][0] = static_cast<float>(action[0]);
      actions[t][1] = static_cast<float>(action[1]);
      world.step(action);
    }
    wm::Sample sample;
    sample.tensors = {{"video", video},
                      {"actions", actions},
                      {"action_label", torch::tensor(label, torch::kInt64)},
                      {"state", state}};
    sample.id = id(index);
    sample.text = kLabels[label];
    return sample;
  }

 private:
  int64_t samples_, frames_, size_;
  wm::sim::DiscWorldOptions world_;
  double action_noise_;
  uint64_t seed_;
};

}  // namespace

WM_PLUGIN(wm::Dataset, Synthetic, "synthetic", "1.0.0",
          "Procedural action-conditioned video: discs pushed by known actions")
