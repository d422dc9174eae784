// The task's reward from states, vectorised with LibTorch (see state_reward.h).
#include "state_reward.h"

#include <torch/torch.h>

#include <algorithm>
#include <string>

#include "wm/error.h"
#include "wm/sample.h"

namespace wm::metaworld {

namespace {

at::Tensor norm3(const at::Tensor& v) { return v.pow(2).sum(-1).sqrt(); }

// Meta-World's long-tail tolerance, as in simulation.cpp: 1 inside [0, bound], then 1 / (1 + (3 d)^2)
at::Tensor tolerance(const at::Tensor& x, double bound, double margin) {
  auto d = (x - bound).clamp_min(0.0) / std::max(margin, 1e-9);
  return 1.0 / (1.0 + 9.0 * d * d);
}

at::Tensor vec3(const Vec3& v, const at::TensorOptions& options) {
  return torch::tensor({v[0], v[1], v[2]}, options.dtype(torch::kFloat64));
}

// v (a fixed [3] vector) rotated by quaternions [..., 4] (w, x, y, z)
at::Tensor rotate(const at::Tensor& quaternion, const at::Tensor& v) {
  auto w = quaternion.narrow(-1, 0, 1), q = quaternion.narrow(-1, 1, 3);
  auto t = 2.0 * torch::linalg_cross(q, v.expand_as(q), -1);
  return v + w * t + torch::linalg_cross(q, t, -1);
}

}  // namespace

RewardEpisode reward_episode(const Simulation& sim, bool goal_in_state) {
  RewardEpisode episode;
  episode.goal = sim.goal();
  episode.goal_in_state = goal_in_state;
  episode.initial_metric = sim.initial_metric();
  episode.initial_reach = sim.initial_reach();
  episode.initial_tcp_to_goal = sim.initial_tcp_to_goal();
  episode.metric_offset = sim.metric_offset();
  episode.free_object = sim.free_object();
  return episode;
}

at::Tensor reward_from_states(const Task& task, const RewardEpisode& episode, const at::Tensor& state) {
  WM_CHECK(state.defined() && state.dim() >= 1 && state.size(-1) == kObservationSize &&
           state.is_floating_point())
      << "metaworld: reward_from_state takes float states [..., " << kObservationSize << "], got "
      << describe_tensor(state);
  torch::NoGradGuard no_grad;
  auto s = state.to(torch::kFloat64);
  auto options = s.options();

  //---- the slots ----
  auto hand = s.narrow(-1, 0, 3);
  auto tcp = hand - vec3({0, 0, kTcpBelowHand}, options);
  auto opening = s.select(-1, 3);
  auto handle = s.narrow(-1, 4, 3);
  auto quaternion = s.narrow(-1, 7, 4);
  auto goal = episode.goal_in_state ? s.narrow(-1, 36, 3) : vec3(episode.goal, options).expand_as(handle);

  //---- the success metric (Simulation::success_metric) ----
  at::Tensor metric;
  if (task.metric_is_angle) {
    // the hinge angle from the object's quaternion about the task's axis
    auto along = (quaternion.narrow(-1, 1, 3) * vec3(task.hinge_axis, options)).sum(-1);
    metric = (2.0 * torch::atan2(along, quaternion.select(-1, 0)) - task.joint_goal).abs();
  } else {
    at::Tensor point = handle;
    if (std::string(task.metric_site) == "tcp") point = tcp;
    const Vec3& offset = episode.metric_offset;
    if (offset != Vec3{}) point = handle + rotate(quaternion, vec3(offset, options));
    metric = norm3((point - goal) * vec3(task.metric_weights, options));
  }

  //---- the reward (Simulation::evaluate) ----
  at::Tensor reward;
  if (task.strategy == Strategy::Reach) {
    reward = 10.0 * tolerance(norm3(tcp - goal), 0.05, std::max(episode.initial_tcp_to_goal, 0.05));
  } else {
    auto reach = norm3(tcp - handle);
    auto near = tolerance(reach, 0.02, std::max(episode.initial_reach, 0.05));
    auto in_place = tolerance(metric, task.threshold,
                              std::max(episode.initial_metric - task.threshold, task.threshold));
    double radius = episode.free_object || task.strategy == Strategy::Press ? kHeldRadiusFree : kHeldRadiusJointed;
    auto held = ((opening < kHeldOpening) & (reach < radius)).to(torch::kFloat64);
    auto shaped = 2.0 * near + 3.0 * held + 5.0 * in_place;
    reward = torch::where(metric <= task.threshold, torch::full_like(shaped, 10.0), shaped);
  }
  return reward.to(state.scalar_type());
}

}  // namespace wm::metaworld
