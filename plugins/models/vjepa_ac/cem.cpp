#include "cem.h"

#include <ATen/ATen.h>

#include "wm/error.h"

namespace wm::plan {

CemResult cem(const Energy& energy, int64_t action_size, const CemOptions& options) {
  WM_CHECK(options.elites >= 1 && options.elites <= options.samples)
      << "cem: elites " << options.elites << " must be in [1, samples = " << options.samples << "]";
  auto mean = at::zeros({options.horizon, action_size}, at::kFloat);
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

}  // namespace wm::plan
