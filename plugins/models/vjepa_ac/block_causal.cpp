#include "block_causal.h"

#include <ATen/ATen.h>

namespace wm::nn {

at::Tensor block_causal_mask(int64_t steps, int64_t tokens_per_step) {
  // the step of each position; a query may attend to keys of the same or an earlier step
  auto step = at::arange(steps, at::kLong).repeat_interleave(tokens_per_step);
  return step.unsqueeze(1) >= step.unsqueeze(0);
}

}  // namespace wm::nn
