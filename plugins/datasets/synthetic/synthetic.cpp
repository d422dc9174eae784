// synthetic: procedurally generated action-conditioned video. Discs on a table; disc 0 is the
// agent, pushed every step by a known continuous action; the others move only when struck
// (elastic collisions, walls that bounce, optional gravity). Deterministic by (seed, index), any
// size, no files. Each clip's discrete label is the direction it was pushed in.
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <random>

#include "wm/sdk.h"

namespace {

constexpr std::array<const char*, 5> kLabels = {"push right", "push up", "push left",
                                                "push down", "stay"};
constexpr std::array<std::array<double, 2>, 5> kDirections = {
    {{1, 0}, {0, -1}, {-1, 0}, {0, 1}, {0, 0}}};  // image coordinates: y grows downward
constexpr std::array<std::array<uint8_t, 3>, 8> kColours = {{{230, 80, 60},
                                                             {70, 160, 230},
                                                             {240, 200, 60},
                                                             {90, 200, 110},
                                                             {200, 100, 220},
                                                             {240, 140, 40},
                                                             {60, 210, 200},
                                                             {220, 220, 220}}};

struct Disc {
  double x, y, vx, vy, radius;
  double mass() const { return radius * radius; }
};

class Synthetic : public wm::Dataset {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .integer("samples", 1000, "number of clips").at_least(1)
        .integer("frames", 8, "frames per clip").range(2, 1024)
        .integer("size", 64, "frame height and width in pixels").range(8, 1024)
        .integer("objects", 3, "discs per clip; disc 0 is the pushed agent").range(1, 8)
        .boolean("gravity", false, "pull every disc downward")
        .real("push", 0.004, "agent acceleration of a full action, in frame widths per step^2")
        .at_least(0)
        .real("action_noise", 0.3, "std of the noise added to each step's action").at_least(0)
        .integer("seed", 0, "generator seed; with the index it fixes every clip").at_least(0);
  }

  explicit Synthetic(const wm::Params& params)
      : samples_(params.get<int64_t>("samples")),
        frames_(params.get<int64_t>("frames")),
        size_(params.get<int64_t>("size")),
        objects_(params.get<int64_t>("objects")),
        gravity_(params.get<bool>("gravity")),
        push_(params.get<double>("push")),
        action_noise_(params.get<double>("action_noise")),
        seed_(static_cast<uint64_t>(params.get<int64_t>("seed"))) {}

  int64_t size() const override { return samples_; }
  std::string id(int64_t index) const override { return "synthetic-" + std::to_string(index); }

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

    auto discs = place_discs(rng);
    int64_t label = static_cast<int64_t>(rng() % kLabels.size());
    auto video = torch::empty({frames_, 3, size_, size_}, torch::kUInt8);
    auto actions = torch::empty({frames_ - 1, 2}, torch::kFloat32);
    auto state = torch::empty({frames_, 4 * objects_}, torch::kFloat32);

    for (int64_t t = 0; t < frames_; ++t) {
      render(discs, video[t]);
      for (int64_t k = 0; k < objects_; ++k) {
        const Disc& d = discs[static_cast<size_t>(k)];
        for (int64_t j = 0; j < 4; ++j)
          state[t][4 * k + j] = static_cast<float>(std::array<double, 4>{d.x, d.y, d.vx, d.vy}[j]);
      }
      if (t + 1 == frames_) break;
      std::array<double, 2> action = {kDirections[label][0] + noise(rng),
                                      kDirections[label][1] + noise(rng)};
      actions[t][0] = static_cast<float>(action[0]);
      actions[t][1] = static_cast<float>(action[1]);
      simulate_step(discs, action);
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
  // discs that do not overlap, at rest, away from the walls
  std::vector<Disc> place_discs(std::mt19937_64& rng) const {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<Disc> discs;
    for (int64_t k = 0; k < objects_; ++k) {
      for (int attempt = 0; attempt < 100; ++attempt) {
        double radius = 0.06 + 0.05 * unit(rng);
        Disc disc{radius + (1 - 2 * radius) * unit(rng), radius + (1 - 2 * radius) * unit(rng), 0,
                  0, radius};
        bool clear = true;
        for (const auto& other : discs)
          clear = clear && std::hypot(disc.x - other.x, disc.y - other.y) > disc.radius + other.radius;
        if (clear || attempt == 99) {
          discs.push_back(disc);
          break;
        }
      }
    }
    return discs;
  }

  void simulate_step(std::vector<Disc>& discs, const std::array<double, 2>& action) const {
    constexpr double kRestitution = 0.9, kGravity = 0.002, kFriction = 0.02;
    discs[0].vx += push_ * action[0];
    discs[0].vy += push_ * action[1];
    for (auto& d : discs) {
      if (gravity_) d.vy += kGravity;
      d.vx *= 1 - kFriction;
      d.vy *= 1 - kFriction;
      d.x += d.vx;
      d.y += d.vy;
      // walls: reflect the velocity and put the disc back inside
      if (d.x < d.radius) d.x = d.radius, d.vx = std::abs(d.vx) * kRestitution;
      if (d.x > 1 - d.radius) d.x = 1 - d.radius, d.vx = -std::abs(d.vx) * kRestitution;
      if (d.y < d.radius) d.y = d.radius, d.vy = std::abs(d.vy) * kRestitution;
      if (d.y > 1 - d.radius) d.y = 1 - d.radius, d.vy = -std::abs(d.vy) * kRestitution;
    }
    // disc-disc: elastic impulse along the line of centres, masses ~ area
    for (size_t i = 0; i < discs.size(); ++i)
      for (size_t j = i + 1; j < discs.size(); ++j) {
        Disc &a = discs[i], &b = discs[j];
        double dx = b.x - a.x, dy = b.y - a.y, distance = std::hypot(dx, dy);
        double overlap = a.radius + b.radius - distance;
        if (overlap <= 0 || distance == 0) continue;
        double nx = dx / distance, ny = dy / distance;
        double approach = (a.vx - b.vx) * nx + (a.vy - b.vy) * ny;
        double total = a.mass() + b.mass();
        if (approach > 0) {
          double impulse = (1 + kRestitution) * approach / total;
          a.vx -= impulse * b.mass() * nx, a.vy -= impulse * b.mass() * ny;
          b.vx += impulse * a.mass() * nx, b.vy += impulse * a.mass() * ny;
        }
        a.x -= overlap * nx * b.mass() / total, a.y -= overlap * ny * b.mass() / total;
        b.x += overlap * nx * a.mass() / total, b.y += overlap * ny * a.mass() / total;
      }
  }

  // frame: [3, H, W] uint8; a dark table, then each disc with a soft one-pixel edge
  void render(const std::vector<Disc>& discs, torch::Tensor frame) const {
    frame.fill_(24);
    auto pixels = frame.accessor<uint8_t, 3>();
    double scale = static_cast<double>(size_);
    for (size_t k = 0; k < discs.size(); ++k) {
      const Disc& d = discs[k];
      const auto& colour = kColours[k];
      double cx = d.x * scale, cy = d.y * scale, r = d.radius * scale;
      int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(cx - r - 1));
      int64_t x1 = std::min<int64_t>(size_ - 1, static_cast<int64_t>(cx + r + 1));
      int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(cy - r - 1));
      int64_t y1 = std::min<int64_t>(size_ - 1, static_cast<int64_t>(cy + r + 1));
      for (int64_t y = y0; y <= y1; ++y)
        for (int64_t x = x0; x <= x1; ++x) {
          double coverage = std::clamp(r - std::hypot(x + 0.5 - cx, y + 0.5 - cy) + 0.5, 0.0, 1.0);
          if (coverage <= 0) continue;
          for (int c = 0; c < 3; ++c)
            pixels[c][y][x] = static_cast<uint8_t>(
                std::lround(pixels[c][y][x] * (1 - coverage) + colour[c] * coverage));
        }
    }
  }

  int64_t samples_, frames_, size_, objects_;
  bool gravity_;
  double push_, action_noise_;
  uint64_t seed_;
};

}  // namespace

WM_PLUGIN(wm::Dataset, Synthetic, "synthetic", "1.0.0",
          "Procedural action-conditioned video: discs pushed by known actions")
