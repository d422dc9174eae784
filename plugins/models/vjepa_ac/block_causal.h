// Block-causal attention over a sequence of time steps, each a block of tokens (V-JEPA 2-AC:
// per step [action, state, frame tokens]): every token of step t sees every token of steps <= t,
// and nothing later. Full attention inside a step.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace wm::nn {

// bool [steps * tokens_per_step, steps * tokens_per_step], true where query i may attend key j
at::Tensor block_causal_mask(int64_t steps, int64_t tokens_per_step);

}  // namespace wm::nn
