// AdamW in as few kernels as LibTorch allows: its fused kernel (_fused_adamw_, one call per
// parameter group, LibTorch >= 2.4 on CPU and CUDA) or else the multi-tensor (_foreach) ops of
// PyTorch's default. The C++ frontend's torch::optim::AdamW loops over parameters with several
// small ops each and is ~2x slower. Both paths are PyTorch's torch.optim.AdamW update; biases and
// normalisation weights (tensors with one dimension) get no weight decay.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace wm::train {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.01;
  bool fused = true;  // the fused kernel where this LibTorch has it (AdamW::fused_available())
};

class AdamW {
 public:
  AdamW(const NamedTensors& parameters, AdamWOptions options);

  void step(double lr);  // one update from the parameters' .grad()
  void zero_grad();
  // scales gradients so their global L2 norm is at most max_norm; returns the norm before
  double clip_grad_norm(double max_norm);
  int64_t steps() const { return steps_; }
  // whether this build's LibTorch has the fused kernel, and whether this optimizer uses it
  static bool fused_available();
  bool fused() const { return fused_; }

  // moments and step count under stable names, for checkpoints
  NamedTensors state() const;
  void load_state(const NamedTensors& state);

 private:
  struct Group {
    std::vector<at::Tensor> params, exp_avg, exp_avg_sq;
    std::vector<at::Tensor> steps;  // the step count as the fused kernel reads it, one per parameter
    std::vector<std::string> names;
    double weight_decay;
  };
  void update(Group& group, double lr, double bias1, double bias2);
  void update_fused(Group& group, double lr);
  std::vector<at::Tensor> grads(const Group& group) const;

  AdamWOptions options_;
  Group decay_, no_decay_;
  int64_t steps_ = 0;
  bool fused_ = false;
};

}  // namespace wm::train
