// AdamW with multi-tensor (_foreach) updates, as PyTorch's default: the C++ frontend's
// torch::optim::AdamW loops over parameters with several small ops each and is ~2x slower.
// Biases and normalisation weights (tensors with one dimension) get no weight decay.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace wm::train {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.01;
};

class AdamW {
 public:
  AdamW(const NamedTensors& parameters, AdamWOptions options);

  void step(double lr);  // one update from the parameters' .grad()
  void zero_grad();
  // scales gradients so their global L2 norm is at most max_norm; returns the norm before
  double clip_grad_norm(double max_norm);
  int64_t steps() const { return steps_; }

  // moments and step count under stable names, for checkpoints
  NamedTensors state() const;
  void load_state(const NamedTensors& state);

 private:
  struct Group {
    std::vector<at::Tensor> params, exp_avg, exp_avg_sq;
    std::vector<std::string> names;
    double weight_decay;
  };
  void update(Group& group, double lr, double bias1, double bias2);
  std::vector<at::Tensor> grads(const Group& group) const;

  AdamWOptions options_;
  Group decay_, no_decay_;
  int64_t steps_ = 0;
};

}  // namespace wm::train
