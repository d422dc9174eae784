#include "planner.h"

#include <ATen/ATen.h>

namespace nsca {

PlanResult plan(const at::Tensor& state, int64_t action_size, const Dynamics& dynamics,
                const PolicyHead& policy, const Reward& reward, const wm::plan::CemOptions& options) {
  PlanResult result;
  // the policy's own imagined trajectory: the search's starting mean
  std::vector<at::Tensor> guess;
  auto s = state.unsqueeze(0);
  for (int64_t h = 0; h < options.horizon; ++h) {
    auto a = policy(s);
    guess.push_back(a.squeeze(0));
    s = dynamics(s, a);
  }
  result.initial = at::stack(guess).to(at::kCPU, at::kFloat);

  // energy = minus the reward summed over the imagined states
  auto energy = [&](const at::Tensor& candidates) {  // [N, H, A] -> [N]
    auto actions = candidates.to(state.device(), state.scalar_type());
    auto x = state.unsqueeze(0).expand({actions.size(0), state.size(0)});
    auto total = at::zeros({actions.size(0)}, state.options());
    for (int64_t h = 0; h < options.horizon; ++h) {
      x = dynamics(x, actions.select(1, h));
      total = total + reward(x).reshape({-1});
    }
    return (-total).to(at::kCPU);
  };
  auto cem = wm::plan::cem(energy, action_size, options, result.initial);
  result.action = cem.mean[0];
  result.energy = cem.energy;
  return result;
}

}  // namespace nsca
