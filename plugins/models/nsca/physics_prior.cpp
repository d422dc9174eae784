#include "physics_prior.h"

#include <ATen/ATen.h>

#include "wm/params.h"
#include "wm/schema.h"

namespace nsca {

//---- parameters ----

wm::Schema& add_prior_params(wm::Schema& schema) {
  PriorConstants c;
  return schema
      .real("action_scale", c.action_scale, "prior: metres of mocap motion per unit action per step (env: 0.01)").at_least(0)
      .real("hand_gain", c.hand_gain,
            "prior: share of the gap between the last hand displacement and the mocap step closed in "
            "one step (the weld's lag; 0.35 fits the env's random-action transitions)").range(0, 1)
      .reals("hand_low", {c.hand_low[0], c.hand_low[1], c.hand_low[2]}, "prior: lower corner of the mocap box (env: -0.5, 0.4, 0.05)")
      .reals("hand_high", {c.hand_high[0], c.hand_high[1], c.hand_high[2]}, "prior: upper corner of the mocap box (env: 0.5, 1.0, 0.5)")
      .real("finger_force", c.finger_force, "prior: finger actuator force limit, N (env: 20)").at_least(0)
      .real("finger_damping", c.finger_damping, "prior: finger joint damping, N s/m (env: 60)").at_least(1e-9)
      .real("gap_scale", c.gap_scale, "prior: pad distance (m) that reads 1 in the gap slot (env: 0.1)").at_least(1e-9)
      .real("gap_open", c.gap_open, "prior: gap slot of the open hand at rest (env: 0.86)").range(0, 1)
      .real("gap_closed", c.gap_closed, "prior: gap slot of the hand closed on nothing (env: 0)").range(0, 1)
      .real("object_gap", c.object_gap, "prior: gap slot of the hand closed on the object (pick-place puck: 0.338)").range(0, 1)
      .real("timestep", c.timestep, "prior: physics timestep, s (env: 0.0025)").at_least(1e-9)
      .integer("substeps", c.substeps, "prior: physics steps per env step (env: 5)").at_least(1)
      .real("grasp_gap", c.grasp_gap, "prior: a closing hand holds the object below this gap").range(0, 1)
      .real("grasp_radius", c.grasp_radius, "prior: ... and within this distance (m) of the fingertips").at_least(0)
      .real("tcp_below_hand", c.tcp_below_hand, "prior: fingertip centre below the hand body, m (env: 0.03)")
      .real("gravity", c.gravity, "prior: vertical acceleration of a free object, m/s^2 (env: -9.81)")
      .real("rest_z", c.rest_z, "prior: object slot z at rest on the table (pick-place puck: 0.02)")
      .real("friction_decay", c.friction_decay, "prior: share of its last displacement a sliding object keeps").range(0, 1);
}

PriorConstants prior_constants(const wm::Params& p) {
  PriorConstants c;
  auto box = [&](const char* key) {
    auto values = p.get<wm::RealList>(key);
    if (values.size() != 3) throw p.error(key, "needs 3 values (x, y, z), got " + std::to_string(values.size()));
    return std::array<double, 3>{values[0], values[1], values[2]};
  };
  c.action_scale = p.get<double>("action_scale");
  c.hand_gain = p.get<double>("hand_gain");
  c.hand_low = box("hand_low"), c.hand_high = box("hand_high");
  for (int axis = 0; axis < 3; ++axis)
    if (c.hand_low[axis] > c.hand_high[axis]) throw p.error("hand_high", "must be >= hand_low on every axis");
  c.finger_force = p.get<double>("finger_force");
  c.finger_damping = p.get<double>("finger_damping");
  c.gap_scale = p.get<double>("gap_scale");
  c.gap_open = p.get<double>("gap_open");
  c.gap_closed = p.get<double>("gap_closed");
  c.object_gap = p.get<double>("object_gap");
  c.timestep = p.get<double>("timestep");
  c.substeps = p.get<int64_t>("substeps");
  c.grasp_gap = p.get<double>("grasp_gap");
  c.grasp_radius = p.get<double>("grasp_radius");
  c.tcp_below_hand = p.get<double>("tcp_below_hand");
  c.gravity = p.get<double>("gravity");
  c.rest_z = p.get<double>("rest_z");
  c.friction_decay = p.get<double>("friction_decay");
  return c;
}

//---- the prior ----

at::Tensor physics_prior(const at::Tensor& state, const at::Tensor& action, const PriorConstants& c) {
  auto options = state.options();
  auto vec3 = [&](const std::array<double, 3>& v) { return at::tensor({v[0], v[1], v[2]}, options.dtype(at::kDouble)).to(options); };
  auto hand = state.slice(1, 0, 3), hand_before = state.slice(1, 18, 21);
  auto gap = state.slice(1, 3, 4);
  auto object = state.slice(1, 4, 7), object_before = state.slice(1, 22, 25);
  auto rest = state.slice(1, 7, kPredicted);  // quaternion and fixture: unchanged
  auto clipped = action.clamp(-1, 1);
  auto grip = clipped.slice(1, 3, 4);

  // hand: the displacement closes hand_gain of its gap to the mocap step
  auto displacement = hand - hand_before;
  auto mocap_step = clipped.slice(1, 0, 3) * c.action_scale;
  auto hand_next = at::maximum(at::minimum(hand + displacement + c.hand_gain * (mocap_step - displacement),
                                   vec3(c.hand_high)), vec3(c.hand_low));

  // fingers: towards closed (grip > 0) or open, at most gap_rate per step
  auto target = at::where(grip > 0, at::full_like(gap, c.gap_closed), at::full_like(gap, c.gap_open));
  double rate = c.gap_rate();
  auto gap_next = gap + (target - gap).clamp(-rate, rate);
  // ... unless they close on the object between them: they stop at its width
  auto tcp = hand - vec3({0, 0, c.tcp_below_hand});
  auto near = (object - tcp).norm(2, {1}, /*keepdim=*/true) < c.grasp_radius;
  auto blocked = (grip > 0).logical_and(near).logical_and(gap >= c.object_gap - 1e-3);
  gap_next = at::where(blocked, at::clamp_min(gap_next, c.object_gap), gap_next);

  // object: held, falling or sliding
  auto held = (grip > 0).logical_and(gap < c.grasp_gap).logical_and(near);
  auto carried = object + (hand_next - hand);
  double dt = c.dt();
  auto z = object.slice(1, 2, 3), vz = (z - object_before.slice(1, 2, 3)) / dt;
  auto airborne = z > c.rest_z + 1e-3;
  auto z_fall = at::clamp_min(z + (vz + c.gravity * dt) * dt, c.rest_z);
  auto xy = object.slice(1, 0, 2), xy_moved = xy + (xy - object_before.slice(1, 0, 2));
  auto falling = at::cat({xy_moved, z_fall}, 1);
  auto sliding = object + (object - object_before) * c.friction_decay;
  auto object_next = at::where(held, carried, at::where(airborne, falling, sliding));

  return at::cat({hand_next, gap_next, object_next, rest}, 1);
}

}  // namespace nsca
