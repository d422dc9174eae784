// Scripted experts in the manner of Meta-World's policies (spec §4): parse the observation, pick
// a target with distance checks, step towards it. One cascade serves every task; the task's
// Strategy only says where a grasped object should go next.
#include "expert.h"

#include <algorithm>
#include <cmath>

namespace wm::metaworld {

namespace {

Vec3 add(const Vec3& a, const Vec3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
Vec3 sub(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
Vec3 scale(const Vec3& a, double s) { return {a[0] * s, a[1] * s, a[2] * s}; }
double norm(const Vec3& v) { return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]); }
double xy_distance(const Vec3& a, const Vec3& b) { return std::hypot(a[0] - b[0], a[1] - b[1]); }
constexpr double kOpen = 0.75;  // gripper slot 3 when fully open: 0.8

Vec3 slot(const Observation& obs, int at) { return {obs[at], obs[at + 1], obs[at + 2]}; }

// where the hand body must be for the fingertips to be at `point`
Vec3 hand_for(const Vec3& point) { return {point[0], point[1], point[2] + kTcpBelowHand}; }

// rotate v about a unit axis by angle (Rodrigues)
Vec3 rotate(const Vec3& v, const Vec3& axis, double angle) {
  double c = std::cos(angle), s = std::sin(angle);
  Vec3 cross{axis[1] * v[2] - axis[2] * v[1], axis[2] * v[0] - axis[0] * v[2],
             axis[0] * v[1] - axis[1] * v[0]};
  double dot = axis[0] * v[0] + axis[1] * v[1] + axis[2] * v[2];
  Vec3 out;
  for (int i = 0; i < 3; ++i) out[i] = v[i] * c + cross[i] * s + axis[i] * dot * (1 - c);
  return out;
}

// the angle of the object's quaternion (slots 7-10, w x y z) about a known axis
double angle_about(const Observation& obs, const Vec3& axis) {
  double along = obs[8] * axis[0] + obs[9] * axis[1] + obs[10] * axis[2];
  return 2 * std::atan2(along, obs[7]);
}

// v rotated by the object's quaternion (slots 7-10)
Vec3 rotate_by_quaternion(const Observation& obs, const Vec3& v) {
  double w = obs[7];
  Vec3 q{obs[8], obs[9], obs[10]};
  Vec3 t{2 * (q[1] * v[2] - q[2] * v[1]), 2 * (q[2] * v[0] - q[0] * v[2]), 2 * (q[0] * v[1] - q[1] * v[0])};
  return {v[0] + w * t[0] + q[1] * t[2] - q[2] * t[1], v[1] + w * t[1] + q[2] * t[0] - q[0] * t[2],
          v[2] + w * t[2] + q[0] * t[1] - q[1] * t[0]};
}

// where the grasped object (its handle) should go next
Vec3 carry_target(const Task& task, const Observation& obs) {
  Vec3 object = handle_of(obs), goal = slot(obs, 36);
  switch (task.strategy) {
    case Strategy::CarryHigh: {
      Vec3 over{goal[0], goal[1], goal[2] + task.carry_height};
      if (xy_distance(object, goal) < 0.02) return goal;  // over it: lower
      if (object[2] < over[2] - 0.03) return {object[0], object[1], over[2]};  // lift first
      return over;
    }
    case Strategy::Insert: {
      // the metric point (e.g. the peg's head) lines up at goal + approach, then slides in
      Vec3 lead = object;
      if (task.metric_site == std::string("head")) lead = add(object, rotate_by_quaternion(obs, {-0.08, 0, 0}));
      Vec3 entry = add(goal, task.approach);
      Vec3 dir = scale(task.approach, 1.0 / norm(task.approach));
      Vec3 off_axis = sub(sub(lead, goal), scale(dir, (lead[0] - goal[0]) * dir[0] +
                                                          (lead[1] - goal[1]) * dir[1] +
                                                          (lead[2] - goal[2]) * dir[2]));
      double along = (lead[0] - goal[0]) * dir[0] + (lead[1] - goal[1]) * dir[1] + (lead[2] - goal[2]) * dir[2];
      Vec3 lead_target = (norm(off_axis) > 0.012 && along > 0.02) || along > norm(task.approach) + 0.03
                             ? entry
                             : sub(goal, scale(dir, task.overshoot));
      return add(object, sub(lead_target, lead));
    }
    case Strategy::Turn: {
      // follow the arc about the hinge by at most 0.25 rad per step
      Vec3 hinge = add(slot(obs, 11), task.hinge_offset);
      double angle = angle_about(obs, task.hinge_axis);
      double wanted = task.joint_goal + (task.joint_goal > task.joint_start ? task.overshoot : -task.overshoot);
      double turn = std::clamp(wanted - angle, -0.25, 0.25);
      return add(hinge, rotate(sub(object, hinge), task.hinge_axis, turn));
    }
    default: {
      // straight to the goal, aiming `overshoot` past it
      Vec3 to_goal = sub(goal, object);
      double distance = norm(to_goal);
      if (distance < 1e-9) return goal;
      return add(goal, scale(to_goal, task.overshoot / distance));
    }
  }
}

}  // namespace

Vec3 hand_of(const Observation& obs) { return slot(obs, 0); }
Vec3 handle_of(const Observation& obs) { return slot(obs, 4); }

Action move_to(const Observation& obs, const Vec3& target, double grip) {
  Vec3 error = sub(target, hand_of(obs));
  return {std::clamp(10 * error[0], -1.0, 1.0), std::clamp(10 * error[1], -1.0, 1.0),
          std::clamp(10 * error[2], -1.0, 1.0), grip};
}

bool grasp_step(const Observation& obs, Action& action, double hover) {
  Vec3 hand = hand_of(obs), at_handle = hand_for(handle_of(obs));
  double opening = obs[3], closing_speed = obs[21] - obs[3];
  bool closed = opening < kOpen && std::abs(closing_speed) < 0.01;
  if (closed && norm(sub(hand, at_handle)) < 0.03) return true;
  if (xy_distance(hand, at_handle) > 0.015 && !(opening < kOpen && norm(sub(hand, at_handle)) < 0.03)) {
    Vec3 above{at_handle[0], at_handle[1], std::min(at_handle[2] + hover, kHandHigh[2])};
    // rise first when low and far, so the fingers do not sweep the object away
    if (hand[2] < above[2] - 0.02 && xy_distance(hand, at_handle) > 0.04) above = {hand[0], hand[1], above[2]};
    action = move_to(obs, above, -1);
  } else if (std::abs(hand[2] - at_handle[2]) > 0.008 && opening > kOpen) {
    action = move_to(obs, at_handle, -1);
  } else {
    action = move_to(obs, at_handle, 1);  // close and wait until the fingers stop
  }
  return false;
}

Action expert_action(const Task& task, const Observation& obs) {
  Vec3 goal = slot(obs, 36);
  if (task.strategy == Strategy::Reach) return move_to(obs, hand_for(goal), -1);
  if (task.strategy == Strategy::Press) {
    // a closed fist over the button, then down past the goal height
    Vec3 hand = hand_of(obs), top = hand_for(handle_of(obs));
    Vec3 above{top[0], top[1], top[2] + 0.06};
    if (xy_distance(hand, top) > 0.01) return move_to(obs, {above[0], above[1], std::max(hand[2], above[2])}, 1);
    Vec3 fingertip_depth{top[0], top[1], goal[2] - task.overshoot + 0.015 + kTcpBelowHand};
    return move_to(obs, fingertip_depth, 1);
  }
  Action action{};
  if (!grasp_step(obs, action)) return action;
  Vec3 target = carry_target(task, obs);
  Vec3 hand_target = add(hand_of(obs), sub(target, handle_of(obs)));
  return move_to(obs, hand_target, 1);
}

}  // namespace wm::metaworld
