#include "wm/sim/disc_world.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace wm::sim {

Schema& add_disc_world_params(Schema& schema, int64_t default_objects) {
  return schema.integer("objects", default_objects, "discs; disc 0 is the pushed agent").range(1, 8)
      .real("gravity", 0, "pull on every disc: 1 down, 0 none, negative up (a balloon)")
      .real("push", DiscWorldOptions{}.push, "agent acceleration of a full action, in frame widths per step^2")
      .at_least(0)
      .integer("palette", 0, "rotates the disc colours: disc k wears colour (k + palette) % 8").range(0, 7)
      .integers("background", {24, 24, 24}, "the table's colour, R G B").range(0, 255)
      .real("texture", 0, "static table noise: each pixel's grey offset is uniform in [-texture, texture]")
      .range(0, 255)
      .integer("texture_seed", 0, "which table: the texture pattern is fixed by it").at_least(0);
}

DiscWorldOptions disc_world_options(const Params& params) {
  DiscWorldOptions options;
  options.objects = params.get<int64_t>("objects");
  options.gravity = params.get<double>("gravity");
  options.push = params.get<double>("push");
  options.palette = params.get<int64_t>("palette");
  IntList background = params.get<IntList>("background");
  if (background.size() != 3)
    throw params.error("background", "needs 3 values (R G B), got " + std::to_string(background.size()));
  for (int c = 0; c < 3; ++c) options.background[c] = static_cast<uint8_t>(background[c]);
  options.texture = params.get<double>("texture");
  options.texture_seed = static_cast<uint64_t>(params.get<int64_t>("texture_seed"));
  return options;
}

namespace {
constexpr std::array<std::array<uint8_t, 3>, 8> kColours = {{{230, 80, 60},
                                                             {70, 160, 230},
                                                             {240, 200, 60},
                                                             {90, 200, 110},
                                                             {200, 100, 220},
                                                             {240, 140, 40},
                                                             {60, 210, 200},
                                                             {220, 220, 220}}};

// a pixel's table noise in [-1, 1]: splitmix64 of (seed, x, y), the same for every frame
double table_noise(uint64_t seed, int64_t x, int64_t y) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + (static_cast<uint64_t>(y) << 32) + static_cast<uint64_t>(x);
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53 * 2 - 1;
}
}  // namespace

DiscWorld::DiscWorld(DiscWorldOptions options) : options_(options) {}

void DiscWorld::place(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  discs_.clear();
  for (int64_t k = 0; k < options_.objects; ++k) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      double radius = 0.06 + 0.05 * unit(rng);
      Disc disc{radius + (1 - 2 * radius) * unit(rng), radius + (1 - 2 * radius) * unit(rng), 0, 0,
                radius};
      bool clear = true;
      for (const auto& other : discs_)
        clear = clear && std::hypot(disc.x - other.x, disc.y - other.y) > disc.radius + other.radius;
      if (clear || attempt == 99) {
        discs_.push_back(disc);
        break;
      }
    }
  }
}

void DiscWorld::step(const std::array<double, 2>& action) {
  constexpr double kRestitution = 0.9, kFriction = 0.02;
  discs_[0].vx += options_.push * action[0];
  discs_[0].vy += options_.push * action[1];
  for (auto& d : discs_) {
    d.vy += options_.gravity * kGravity;
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
  for (size_t i = 0; i < discs_.size(); ++i)
    for (size_t j = i + 1; j < discs_.size(); ++j) {
      Disc &a = discs_[i], &b = discs_[j];
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

void DiscWorld::render(at::Tensor frame) const {
  auto pixels = frame.accessor<uint8_t, 3>();
  int64_t size = frame.size(2);
  // the table: its colour, plus a grey offset per pixel that never changes within a table
  for (int64_t y = 0; y < frame.size(1); ++y)
    for (int64_t x = 0; x < size; ++x) {
      double offset = options_.texture > 0 ? options_.texture * table_noise(options_.texture_seed, x, y) : 0;
      for (int c = 0; c < 3; ++c)
        pixels[c][y][x] = static_cast<uint8_t>(std::clamp(std::lround(options_.background[c] + offset), 0L, 255L));
    }
  double scale = static_cast<double>(size);
  for (size_t k = 0; k < discs_.size(); ++k) {
    const Disc& d = discs_[k];
    const auto& colour = kColours[(k + static_cast<size_t>(options_.palette)) % kColours.size()];
    double cx = d.x * scale, cy = d.y * scale, r = d.radius * scale;
    int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(cx - r - 1));
    int64_t x1 = std::min<int64_t>(size - 1, static_cast<int64_t>(cx + r + 1));
    int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(cy - r - 1));
    int64_t y1 = std::min<int64_t>(size - 1, static_cast<int64_t>(cy + r + 1));
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

at::Tensor DiscWorld::state() const {
  auto state = at::empty({4 * static_cast<int64_t>(discs_.size())}, at::kFloat);
  float* values = state.data_ptr<float>();
  for (size_t k = 0; k < discs_.size(); ++k) {
    const Disc& d = discs_[k];
    values[4 * k] = static_cast<float>(d.x), values[4 * k + 1] = static_cast<float>(d.y);
    values[4 * k + 2] = static_cast<float>(d.vx), values[4 * k + 3] = static_cast<float>(d.vy);
  }
  return state;
}

}  // namespace wm::sim
