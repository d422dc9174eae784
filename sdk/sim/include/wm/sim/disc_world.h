// A table of discs seen from above: disc 0 is the agent, pushed each step by a continuous action;
// the others move only when struck (elastic collisions, masses ~ area), walls bounce, light
// friction, gravity of any sign. Positions are in frame-width units ([0, 1]), y grows downward.
// Its look (disc palette, table colour, a static table texture) is part of the options, so one
// world can stand in for several visual domains.
// The `synthetic` dataset records clips of it; the `disc_push` environment lets a policy act in it.
#pragma once
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "wm/params.h"
#include "wm/schema.h"

namespace wm::sim {

struct Disc {
  double x, y, vx, vy, radius;
  double mass() const { return radius * radius; }
};

struct DiscWorldOptions {
  int64_t objects = 3;   // discs; disc 0 is the agent
  double gravity = 0;    // pull on every disc in units of kGravity (1 down, -1 up: a balloon)
  double push = 0.004;   // agent acceleration of a unit action, frame widths per step^2
  int64_t palette = 0;   // disc k wears colour (k + palette) % 8
  std::array<uint8_t, 3> background = {24, 24, 24};  // the table's RGB
  double texture = 0;    // static table noise: each pixel's grey offset in [-texture, texture]
  uint64_t texture_seed = 0;  // which table: the noise pattern is a hash of (seed, x, y)
};

// the downward acceleration of gravity 1, frame widths per step^2
constexpr double kGravity = 0.002;

// declares the world's YAML parameters (objects, gravity, push, palette, background, texture)
// for a plugin built on it, and reads them back: every such plugin offers the same names, ranges
// and docs. `gravity` is a float; `true`/`false` read as 1/0, the boolean it used to be.
Schema& add_disc_world_params(Schema& schema, int64_t default_objects);
DiscWorldOptions disc_world_options(const Params& params);

class DiscWorld {
 public:
  explicit DiscWorld(DiscWorldOptions options);

  // discs that do not overlap, at rest, away from the walls (draws from `rng` in a fixed order)
  void place(std::mt19937_64& rng);
  // pushes the agent by `action` (x right, y down), then advances every disc one step
  void step(const std::array<double, 2>& action);
  // draws the table into frame [3, size, size] uint8: the table (background plus its static
  // texture), then anti-aliased discs
  void render(at::Tensor frame) const;
  // x, y, vx, vy of every disc: float32 [4 * objects]
  at::Tensor state() const;

  const std::vector<Disc>& discs() const { return discs_; }
  std::vector<Disc>& discs() { return discs_; }
  const DiscWorldOptions& options() const { return options_; }

 private:
  DiscWorldOptions options_;
  std::vector<Disc> discs_;
};

}  // namespace wm::sim
