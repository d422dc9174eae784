// nsca's analytic physics prior P(s, a): the next value of state slots 0-17 (hand, finger gap,
// object position and quaternion, fixture) of the metaworld env from the current state and
// action alone, with the env's own constants (plugins/envs/metaworld: simulation.h, scene.cpp).
// No learned parameter; the constants are model parameters so a different world can be described.
#pragma once
#include <ATen/core/Tensor.h>

#include <array>

namespace wm {
class Params;
class Schema;
}

namespace nsca {

constexpr int64_t kPredicted = 18;  // slots 0-17 are predicted; 18-35 copy them; the rest is constant

struct PriorConstants {
  // hand: the mocap target moves clip(a, -1, 1) * action_scale per step inside [hand_low,
  // hand_high]; the hand body follows it through a soft weld, so its per-step displacement moves
  // hand_gain of the way from the last displacement to the mocap step (exact at constant actions)
  double action_scale = 0.01, hand_gain = 0.35;
  std::array<double, 3> hand_low{-0.5, 0.40, 0.05}, hand_high{0.5, 1.0, 0.5};
  // fingers: force-limited position servos against joint damping move each finger at most
  // finger_force / finger_damping m/s; the gap slot is the pad distance / gap_scale. Closing on
  // the object (within grasp_radius of the fingertips) they stop at object_gap, its width
  double finger_force = 20, finger_damping = 60, gap_scale = 0.1, gap_open = 0.86, gap_closed = 0.0;
  double object_gap = 0.338;
  // time: timestep * substeps seconds per env step
  double timestep = 0.0025;
  int64_t substeps = 5;
  // object: held when the grip closes (a[3] > 0), the gap is below grasp_gap and the object is
  // within grasp_radius of the fingertip centre (tcp_below_hand under the hand); else falling
  // under gravity down to rest_z; else sliding with its last displacement times friction_decay
  double grasp_gap = 0.6, grasp_radius = 0.03, tcp_below_hand = 0.03;
  double gravity = -9.81, rest_z = 0.02, friction_decay = 0.5;

  double dt() const { return timestep * static_cast<double>(substeps); }
  double gap_rate() const { return 2 * finger_force / finger_damping * dt() / gap_scale; }
};

// declares the constants above as model parameters, with the env's values as defaults
wm::Schema& add_prior_params(wm::Schema& schema);
PriorConstants prior_constants(const wm::Params& params);

// state [N, S >= 36] (slots 18-35 = the previous step's 0-17), action [N, 4] -> [N, 18]
at::Tensor physics_prior(const at::Tensor& state, const at::Tensor& action, const PriorConstants& c);

}  // namespace nsca
