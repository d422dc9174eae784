// nsca's planner: the cross-entropy method (wm/plan/cem.h) over action sequences, scored by the
// env's task reward (wm::StateReward) of the states the model imagines. The search starts at the
// policy head's actions along its own imagined trajectory.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>

#include "wm/plan/cem.h"

namespace nsca {

// (full states [N, S], actions [N, A]) -> the imagined next full states [N, S]
using Dynamics = std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>;
using PolicyHead = std::function<at::Tensor(const at::Tensor&)>;  // states [N, S] -> actions [N, A]
using Reward = std::function<at::Tensor(const at::Tensor&)>;      // states [N, S] -> rewards [N]

struct PlanResult {
  at::Tensor action;   // [A]: the first action of the plan
  at::Tensor initial;  // [H, A]: the policy's actions the search started from
  double energy = 0;   // minus the best imagined return
};

// plans from one state [S]
PlanResult plan(const at::Tensor& state, int64_t action_size, const Dynamics& dynamics,
                const PolicyHead& policy, const Reward& reward, const wm::plan::CemOptions& options);

}  // namespace nsca
