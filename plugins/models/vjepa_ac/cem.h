// The cross-entropy method over action sequences (as V-JEPA 2-AC plans, notebooks/utils/mpc_utils.py):
// sample sequences from a Gaussian, keep the lowest-energy few, refit the Gaussian to them
// (blended with the previous one by `momentum`), repeat. The caller executes the first action of
// the returned mean and plans again (model-predictive control).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

namespace wm::plan {

struct CemOptions {
  int64_t horizon = 3;       // actions per sequence
  int64_t samples = 200;     // sequences per iteration
  int64_t elites = 20;       // lowest-energy sequences the Gaussian is refit to
  int64_t iterations = 5;    // refits
  double momentum = 0.15;    // share of the previous mean and std kept at each refit
  double initial_std = 1.0;  // std of the first Gaussian (its mean is 0)
  double low = -1.0, high = 1.0;  // every sampled action is clipped to this range
};

// candidate sequences [samples, horizon, action_size] -> energies [samples] (lower is better)
using Energy = std::function<at::Tensor(const at::Tensor& actions)>;

struct CemResult {
  at::Tensor mean;    // [horizon, action_size], clipped: the plan
  double energy = 0;  // lowest energy seen in the last iteration
};

// draws from LibTorch's default generator, so a seeded run plans the same way every time
CemResult cem(const Energy& energy, int64_t action_size, const CemOptions& options);

}  // namespace wm::plan
