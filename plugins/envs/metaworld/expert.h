// Scripted experts and babbling primitives: controllers that read only the 39-D observation.
#pragma once
#include "simulation.h"

namespace wm::metaworld {

// The expert of a task, stateless like Meta-World's policies: a cascade of distance checks
// picks a target (above the handle, down to it, close, carry along the task's path) and the
// action is a proportional step towards it. Needs the goal (slots 36-38).
Action expert_action(const Task& task, const Observation& obs);

//---- building blocks, shared with babbling ----

Vec3 hand_of(const Observation& obs);
Vec3 handle_of(const Observation& obs);
// the action that moves the hand towards `target` (gain 10, clipped by the env) with `grip`
Action move_to(const Observation& obs, const Vec3& target, double grip);
// the grasp cascade: above the handle, down, close; true once the fingers hold still, closed
bool grasp_step(const Observation& obs, Action& action, double hover = 0.1);

}  // namespace wm::metaworld
