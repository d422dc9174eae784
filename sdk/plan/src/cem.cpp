#include "wm/plan/cem.h"

#include <ATen/ATen.h>

#include "wm/error.h"
#include "wm/params.h"
#include "wm/schema.h"

namespace wm::plan {

CemResult cem(const Energy& energy, int64_t action_size, const CemOptions& options,
              const at::Tensor& initial_mean) {
  WM_CHECK(options.elites >= 1 && options.elites <= options.samples)
      << "cem: elites " << options.elites << " must be in [1, samples = " << options.samples << "]";
  auto mean = at::zeros({options.horizon, action_size}, at::kFloat);
  if (initial_mean.defined()) {
    WM_CHECK(initial_mean.sizes() == mean.sizes())
        << "cem: initial_mean must be [" << options.horizon << ", " << action_size << "], got "
        << initial_mean.sizes();
    mean = initial_mean.detach().to(at::kCPU, at::kFloat).clamp(options.low, options.high);
  }
  auto std = at::full({options.horizon, action_size}, options.initial_std, at::kFloat);
  CemResult result;
  for (int64_t iteration = 0; iteration < options.iterations; ++iteration) {
    // sample: [S, H, A] around the current Gaussian, inside the action range
    auto noise = at::randn({options.samples, options.horizon, action_size}, at::kFloat);
    auto candidates = (mean + std * noise).clamp(options.low, options.high);
    auto energies = energy(candidates).to(at::kFloat).flatten();
    WM_CHECK(energies.size(0) == options.samples)
        << "cem: energy returned " << energies.size(0) << " values for " << options.samples << " sequences";
    // refit to the elites, keeping `momentum` of the previous Gaussian
    auto best = std::get<1>(energies.topk(options.elites, 0, /*largest=*/false));
    auto elites = candidates.index_select(0, best);
    mean = options.momentum * mean + (1 - options.momentum) * elites.mean(0);
    std = options.momentum * std + (1 - options.momentum) * elites.std(0, /*unbiased=*/false);
    result.energy = energies.index_select(0, best.slice(0, 0, 1)).item<double>();
  }
  result.mean = mean.clamp(options.low, options.high);
  return result;
}

//---- parameters ----

Schema& add_cem_params(Schema& schema, const CemOptions& defaults) {
  return schema.integer("plan_horizon", defaults.horizon, "planning: actions per imagined sequence").at_least(1)
      .integer("plan_samples", defaults.samples, "planning: CEM sequences per iteration").at_least(2)
      .integer("plan_elites", defaults.elites, "planning: lowest-energy sequences the Gaussian is refit to")
      .at_least(1)
      .integer("plan_iterations", defaults.iterations, "planning: CEM refits").at_least(1)
      .real("plan_momentum", defaults.momentum, "planning: share of the previous Gaussian kept").range(0.0, 1.0)
      .real("plan_std", defaults.initial_std, "planning: initial std of the actions around the first mean")
      .at_least(0);
}

CemOptions cem_options(const Params& params, CemOptions base) {
  base.horizon = params.get<int64_t>("plan_horizon");
  base.samples = params.get<int64_t>("plan_samples");
  base.elites = params.get<int64_t>("plan_elites");
  base.iterations = params.get<int64_t>("plan_iterations");
  base.momentum = params.get<double>("plan_momentum");
  base.initial_std = params.get<double>("plan_std");
  if (base.elites > base.samples) throw params.error("plan_elites", "must be at most plan_samples");
  return base;
}

}  // namespace wm::plan
