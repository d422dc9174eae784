// Babbling primitives and spawn modes. A primitive is a short open-loop plan around the handle
// (the object's grasp point) closed by the proportional controller of the experts.
#include "babbling.h"

#include <algorithm>
#include <cmath>

#include "expert.h"

namespace wm::metaworld {

namespace {

Vec3 add(const Vec3& a, const Vec3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
Vec3 scale(const Vec3& a, double s) { return {a[0] * s, a[1] * s, a[2] * s}; }
Vec3 hand_for(const Vec3& tcp) { return {tcp[0], tcp[1], tcp[2] + kTcpBelowHand}; }
Vec3 clamp_hand(Vec3 p) {
  for (int i = 0; i < 3; ++i) p[i] = std::clamp(p[i], kHandLow[i], kHandHigh[i]);
  return p;
}

Vec3 horizontal_direction(std::mt19937_64& rng) {
  double angle = std::uniform_real_distribution<double>(0, 2 * M_PI)(rng);
  return {std::cos(angle), std::sin(angle), 0};
}

enum Primitive : size_t { Reach, Grasp, Lift, Shake, Drop, Strike, Push };

}  // namespace

const std::vector<std::string>& Babbler::primitives() {
  static const std::vector<std::string> names = {"reach", "grasp", "lift", "shake", "drop", "strike", "push"};
  return names;
}

void Babbler::reset(uint64_t seed, bool free_object) {
  rng_.seed(seed ^ 0x9e3779b97f4a7c15ull);
  free_object_ = free_object;
  active_ = false;
}

void Babbler::start(size_t primitive, const Observation& obs) {
  // lift, shake and drop grasp first when the hand holds nothing, which takes up to ~25 steps
  static const int lengths[] = {25, 40, 45, 45, 45, 30, 35};
  primitive_ = primitive;
  length_ = lengths[primitive];
  step_ = contacts_ = 0;
  active_ = true;
  grasped_at_ = -1;
  released_ = false;
  direction_ = horizontal_direction(rng_);
  std::uniform_real_distribution<double> offset(-0.04, 0.04);
  Vec3 handle = handle_of(obs);
  anchor_ = primitive == Reach ? Vec3{handle[0] + offset(rng_), handle[1] + offset(rng_), handle[2] + std::abs(offset(rng_))}
                               : hand_of(obs);
}

Action Babbler::act(const Observation& obs, bool contact, const std::function<size_t()>& choose,
                    const std::function<void(size_t, double)>& outcome) {
  if (active_ && step_ >= length_) {
    outcome(primitive_, static_cast<double>(contacts_) / length_);
    active_ = false;
  }
  if (!active_) start(choose(), obs);
  contacts_ += contact ? 1 : 0;
  int step = step_++;
  Vec3 handle = handle_of(obs);
  Action action{};
  switch (primitive_) {
    case Reach: return move_to(obs, clamp_hand(hand_for(anchor_)), -1);
    case Grasp: grasp_step(obs, action, 0.05); return action;
    case Lift:
    case Shake:
    case Drop: {
      // these act on a held object: take it first (and again when it slips); they move from
      // where the hand first took it
      if (!released_ && !grasp_step(obs, action, 0.05)) {
        if (grasped_at_ < 0) anchor_ = hand_of(obs);
        return action;
      }
      if (grasped_at_ < 0) grasped_at_ = step;
      // a handle on a hinge or slide does not rise: it is pulled sideways instead
      Vec3 raised = clamp_hand(add(anchor_, free_object_ ? Vec3{0, 0, 0.1} : scale(direction_, 0.08)));
      if (primitive_ == Lift) return move_to(obs, raised, 1);
      if (primitive_ == Shake) {
        double sign = (step / 3) % 2 ? 1.0 : -1.0;  // 3 steps each way: about 13 Hz at 80 Hz control
        Vec3 centre = free_object_ ? add(anchor_, {0, 0, 0.04}) : anchor_;
        return move_to(obs, clamp_hand(add(centre, scale(direction_, 0.03 * sign))), 1);
      }
      // drop: raise it (pull it) for 15 steps, then open the hand and stay
      if (!released_ && step - grasped_at_ < 15) return move_to(obs, raised, 1);
      released_ = true;
      return move_to(obs, raised, -1);
    }
    case Strike: {
      // wind up on one side, then swing through the object with a closed hand
      Vec3 through = add(handle, scale(direction_, step < length_ / 2 ? -0.07 : 0.06));
      return move_to(obs, clamp_hand(hand_for(through)), 1);
    }
    default: {  // Push: line up behind the object, then lean through it slowly
      Vec3 behind = add(handle, scale(direction_, -0.045));
      if (step < length_ / 3) return move_to(obs, clamp_hand(hand_for(behind)), 1);
      Action slow = move_to(obs, clamp_hand(hand_for(add(handle, scale(direction_, 0.05)))), 1);
      for (int i = 0; i < 3; ++i) slow[i] *= 0.4;
      return slow;
    }
  }
}

//---- spawn modes (Simulation::reset) ----

void Simulation::spawn_for_babbling(Spawn spawn, std::mt19937_64& rng) {
  mj_forward(model_, data_);
  Vec3 handle = site(handle_site_);
  std::uniform_real_distribution<double> unit(0, 1);
  if (spawn == Spawn::Drop) {
    // the object held in the air (a jointed object: held by its handle)
    if (free_object_) {
      data_->qpos[object_qpos_ + 2] += 0.08 + 0.15 * unit(rng);
      mj_forward(model_, data_);
      handle = site(handle_site_);
    }
    place_hand(clamp_hand(hand_for(handle)), 1.0);
    settle(60, 1.0, true);
    return;
  }
  Vec3 away = horizontal_direction(rng);
  if (spawn == Spawn::Strike) {
    // a few centimetres from the object, gripper anywhere
    Vec3 at = add(handle, scale(away, 0.04 + 0.03 * unit(rng)));
    double grip = 2 * unit(rng) - 1;
    place_hand(clamp_hand(hand_for(at)), grip);
    settle(20, grip);
    return;
  }
  // push: a closed hand brought in until it touches the object
  place_hand(clamp_hand(hand_for(add(handle, scale(away, 0.05)))), 1.0);
  settle(20, 1.0);
  double* mocap = data_->mocap_pos + 3 * hand_mocap_;
  for (int i = 0; i < 150 && !touching(false); ++i) {
    for (int axis = 0; axis < 2; ++axis) mocap[axis] -= away[axis] * 0.0005;
    mj_step(model_, data_);
  }
}

}  // namespace wm::metaworld
