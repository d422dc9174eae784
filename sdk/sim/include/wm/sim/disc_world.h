// A table of discs seen from above: disc 0 is the agent, pushed each step by a continuous action;
// the others move only when struck (elastic collisions, masses ~ area), walls bounce, light
// friction, optional gravity. Positions are in frame-width units ([0, 1]), y grows downward.
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
  bool gravity = false;  // a constant downward pull on every disc
  double push = 0.004;   // agent acceleration of a unit action, frame widths per step^2
};

// declares the world's YAML parameters (objects, gravity, push) for a plugin built on it, and
// reads them back: every such plugin offers the same names, ranges and docs
Schema& add_disc_world_params(Schema& schema, int64_t default_objects);
DiscWorldOptions disc_world_options(const Params& params);

class DiscWorld {
 public:
  explicit DiscWorld(DiscWorldOptions options);

  // discs that do not overlap, at rest, away from the walls (draws from `rng` in a fixed order)
  void place(std::mt19937_64& rng);
  // pushes the agent by `action` (x right, y down), then advances every disc one step
  void step(const std::array<double, 2>& action);
  // draws the table into frame [3, size, size] uint8: a dark table, anti-aliased discs
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
