// Mixed precision for the forward pass of a training step (train's `precision: bf16`): inside an
// Autocast scope LibTorch runs the ops that profit (matrix products, convolutions, attention) in
// bfloat16 and keeps the ones that need the range (losses, norms, softmax) in float32. Weights,
// gradients and the optimizer's state stay float32: the master weights. The backward pass runs
// outside the scope, in the types the forward pass chose, as in PyTorch's torch.autocast.
#pragma once
#include <string>

namespace wm::train {

class Autocast {
 public:
  // precision "fp32" does nothing; "bf16" turns autocast on for the device ("cpu", "cuda[:k]")
  Autocast(const std::string& device, const std::string& precision);
  ~Autocast();
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  bool on_ = false, cuda_ = false;
  bool was_enabled_ = false;
  int previous_type_ = 0;  // the autocast type before the scope (an at::ScalarType)
};

}  // namespace wm::train
