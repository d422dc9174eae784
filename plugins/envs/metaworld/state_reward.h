// The task's reward from `state` vectors alone (wm::StateReward), batched over any leading
// dimensions, for planners that score predicted states. It mirrors Simulation::evaluate() with
// what the 39 slots hold: the fingertip centre is taken as the hand 3 cm lower (the env measures
// it between the finger pads, which a tilted hand or unequal fingers move), and a grasp as
// fingers part-closed around the handle (the env reads contacts). README: "Reward from states".
#pragma once
#include <ATen/core/Tensor.h>

#include "simulation.h"

namespace wm::metaworld {

// held: opening below this (0.8 open, 0.27-0.4 around a puck, 0 closed on nothing) ...
constexpr double kHeldOpening = 0.5;
// ... and the fingertip centre this close to the handle: free objects and the button, handles
// on hinges or slides
constexpr double kHeldRadiusFree = 0.04, kHeldRadiusJointed = 0.02;

// what the reward needs besides the state, fixed at reset()
struct RewardEpisode {
  Vec3 goal{};          // used when the state's goal slots are zeroed (partially_observable)
  bool goal_in_state = true;
  double initial_metric = 1, initial_reach = 1, initial_tcp_to_goal = 1;
  Vec3 metric_offset{};  // Simulation::metric_offset()
  bool free_object = true;
};

RewardEpisode reward_episode(const Simulation& sim, bool goal_in_state);

// [..., 39] float -> [...] of the input's dtype and device; computed in float64
at::Tensor reward_from_states(const Task& task, const RewardEpisode& episode, const at::Tensor& state);

}  // namespace wm::metaworld
