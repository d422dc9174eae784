// synthetic: procedurally generated action-conditioned video. Discs on a table; disc 0 is the
// agent, pushed every step by a known continuous action; the others move only when struck
// (elastic collisions, walls that bounce, gravity of any sign; the simulation is wm/sim/disc_world.h).
// Deterministic by (seed, index), any size, no files. Each clip's discrete label is the direction
// it was pushed in.
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

#include "wm/sdk.h"
#include "wm/sim/clip_corruption.h"
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
    // a split enumerates every clip's id: ten million is already minutes of it
    schema.integer("samples", 1000, "number of clips").range(1, 10000000)
        .integer("frames", 8, "frames per clip").range(2, 1024)
        .integer("size", 64, "frame height and width in pixels").range(8, 1024);
    return wm::sim::add_disc_world_params(schema, 3)
        .boolean("texture_per_clip", false, "a new table texture for every clip (default: one table, `texture_seed`)")
        .real("label_noise", 0, "share of clips whose action_label is redrawn uniformly over the 5 labels").range(0, 1)
        .strings("text", {kLabels.begin(), kLabels.end()}, "the text of each label, in label order (5 strings)")
        .real("action_noise", 0.3, "std of the noise added to each step's action").at_least(0)
        .integer("seed", 0, "generator seed; with the index it fixes every clip").at_least(0)
        .real("sensor_noise", 0, "std, in levels, of the Gaussian noise added to every pixel and "
                                 "channel of every frame (a camera's); 0: none").range(0, 64)
        .real("corrupt_fraction", 0, "share of clips corrupted, split evenly over corrupt_kinds").range(0, 1)
        .strings("corrupt_kinds", {"blur", "static", "occluder"},
                 "the corruptions: blur (every frame), static (every frame is the first), "
                 "occluder (an opaque static box over 27-36 % of the frame)");
  }

  explicit Synthetic(const wm::Params& params)
      : samples_(params.get<int64_t>("samples")),
        frames_(params.get<int64_t>("frames")),
        size_(params.get<int64_t>("size")),
        world_(wm::sim::disc_world_options(params)),
        texture_per_clip_(params.get<bool>("texture_per_clip")),
        label_noise_(params.get<double>("label_noise")),
        texts_(params.get<wm::StringList>("text")),
        action_noise_(params.get<double>("action_noise")),
        seed_(static_cast<uint64_t>(params.get<int64_t>("seed"))),
        sensor_noise_(params.get<double>("sensor_noise")),
        corrupt_fraction_(params.get<double>("corrupt_fraction")),
        corrupt_kinds_(corrupt_kinds(params)) {
    if (texts_.size() != kLabels.size())
      throw params.error("text", "needs one text per label (" + std::to_string(kLabels.size()) +
                                     "), got " + std::to_string(texts_.size()));
  }

  int64_t size() const override { return samples_; }
  std::string id(int64_t index) const override { return "synthetic-" + std::to_string(index); }
  // every sample is its own episode
  std::string group(int64_t index) const override { return id(index); }

  std::vector<wm::KeySpec> keys() const override {
    return {{"video", "uint8", "[T, 3, H, W]", "rendered frames"},
            {"actions", "float32", "[T-1, 2]", "agent push between frames (x, y)"},
            {"action_label", "int64", "[]", "push direction: right, up, left, down, stay (label_noise redraws some)"},
            {"state", "float32", "[T, 4*objects]", "x, y, vx, vy of every disc, in [0, 1] units"},
            {"corrupted", "bool", "[]", "the clip was corrupted (corrupt_fraction)"},
            {"corruption", "int64", "[]", "0 none, 1 blur, 2 static, 3 occluder"}};
  }

  wm::Sample get(int64_t index) const override {
    WM_CHECK(index >= 0 && index < samples_) << "index " << index << " of " << samples_;
    std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(index));
    std::normal_distribution<double> noise(0.0, action_noise_);

    wm::sim::DiscWorldOptions options = world_;
    if (texture_per_clip_) options.texture_seed = seed_ * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(index) + 1;
    wm::sim::DiscWorld world(options);
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
    // the camera's noise, then the clip's corruption, each from a stream of its own
    uint64_t stream = seed_ * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(index);
    wm::sim::add_sensor_noise(video, sensor_noise_, stream);
    auto corruption = wm::sim::corruption_of(seed_, index, corrupt_fraction_, corrupt_kinds_);
    wm::sim::corrupt(video, corruption, stream);
    wm::Sample sample;
    sample.tensors = {{"corrupted", torch::tensor(corruption != wm::sim::Corruption::none)},
                      {"corruption", torch::tensor(static_cast<int64_t>(corruption), torch::kInt64)},
                      {"video", video},
                      {"actions", actions},
                      {"action_label", torch::tensor(noisy_label(index, label), torch::kInt64)},
                      {"state", state}};
    sample.id = id(index);
    sample.text = texts_[noisy_label(index, label)];
    return sample;
  }

  // the recorded label: with probability label_noise redrawn uniformly (maybe the same one), from a
  // stream of its own, so the clip itself is the one label_noise 0 gives
  int64_t noisy_label(int64_t index, int64_t label) const {
    if (label_noise_ <= 0) return label;
    std::mt19937_64 rng((seed_ + 0x5851F42D4C957F2Dull) * 0xD1B54A32D192ED03ull + static_cast<uint64_t>(index));
    if (std::uniform_real_distribution<double>(0, 1)(rng) >= label_noise_) return label;
    return static_cast<int64_t>(rng() % kLabels.size());
  }

 private:
  int64_t samples_, frames_, size_;
  wm::sim::DiscWorldOptions world_;
  bool texture_per_clip_;
  double label_noise_;
  wm::StringList texts_;
  double action_noise_;
  uint64_t seed_;
  double sensor_noise_, corrupt_fraction_;
  std::vector<wm::sim::Corruption> corrupt_kinds_;

  // the kinds named by corrupt_kinds, each once
  static std::vector<wm::sim::Corruption> corrupt_kinds(const wm::Params& params) {
    std::vector<wm::sim::Corruption> kinds;
    for (const auto& name : params.get<wm::StringList>("corrupt_kinds")) {
      wm::sim::Corruption kind = wm::sim::Corruption::none;
      try {
        kind = wm::sim::corruption_from_name(name);
      } catch (const wm::Error& e) {
        throw params.error("corrupt_kinds", e.what());
      }
      if (std::find(kinds.begin(), kinds.end(), kind) != kinds.end())
        throw params.error("corrupt_kinds", "names '" + name + "' twice");
      kinds.push_back(kind);
    }
    if (kinds.empty() && params.get<double>("corrupt_fraction") > 0)
      throw params.error("corrupt_kinds", "is empty, but corrupt_fraction is above 0");
    return kinds;
  }
};

}  // namespace

WM_PLUGIN(wm::Dataset, Synthetic, "synthetic", "1.0.0",
          "Procedural action-conditioned video: discs pushed by known actions")
