// The cross-entropy method over action sequences (as V-JEPA 2-AC plans, notebooks/utils/mpc_utils.py):
// sample sequences from a Gaussian, keep the lowest-energy few, refit the Gaussian to them
// (blended with the previous one by `momentum`), repeat. The caller executes the first action of
// the returned mean and plans again (model-predictive control). Used by vjepa_ac and nsca.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

namespace wm {
class Params;
class Schema;
}  // namespace wm

namespace wm::plan {

struct CemOptions {
  int64_t horizon = 3;       // actions per sequence
  int64_t samples = 200;     // sequences per iteration
  int64_t elites = 20;       // lowest-energy sequences the Gaussian is refit to
  int64_t iterations = 5;    // refits
  double momentum = 0.15;    // share of the previous mean and std kept at each refit
  double initial_std = 1.0;  // std of the first Gaussian (its mean: cem's initial_mean, else 0)
  double low = -1.0, high = 1.0;  // every sampled action is clipped to this range
};

// candidate sequences [samples, horizon, action_size] -> energies [samples] (lower is better)
using Energy = std::function<at::Tensor(const at::Tensor& actions)>;

struct CemResult {
  at::Tensor mean;    // [horizon, action_size], clipped: the plan
  double energy = 0;  // lowest energy seen in the last iteration
};

// draws from LibTorch's default generator, so a seeded run plans the same way every time;
// initial_mean [horizon, action_size] starts the search at a guess (e.g. a policy's actions),
// undefined starts it at 0
CemResult cem(const Energy& energy, int64_t action_size, const CemOptions& options,
              const at::Tensor& initial_mean = {});

//---- the plan_* parameters of a model that plans ----

// plan_horizon, plan_samples, plan_elites, plan_iterations, plan_momentum and plan_std, with the
// model's own defaults
Schema& add_cem_params(Schema& schema, const CemOptions& defaults);
// reads them back over `base` (which keeps low and high); plan_elites above plan_samples is a
// config error naming plan_elites
CemOptions cem_options(const Params& params, CemOptions base = {});

}  // namespace wm::plan
