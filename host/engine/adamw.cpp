#include "engine/adamw.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/version.h>

#include <cmath>
#include <map>

#include "wm/error.h"

namespace wm::train {

// _fused_adamw_ came with LibTorch 2.0 for CUDA and 2.4 for CPU
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define WM_FUSED_ADAMW 1
#else
#define WM_FUSED_ADAMW 0
#endif

bool AdamW::fused_available() { return WM_FUSED_ADAMW; }

AdamW::AdamW(const NamedTensors& parameters, AdamWOptions options)
    : options_(options), fused_(options.fused && fused_available()) {
  decay_.weight_decay = options.weight_decay;
  no_decay_.weight_decay = 0.0;
  for (const auto& [name, param] : parameters) {
    if (!param.requires_grad()) continue;
    Group& group = param.dim() <= 1 ? no_decay_ : decay_;
    group.names.push_back(name);
    group.params.push_back(param);
    group.exp_avg.push_back(at::zeros_like(param));
    group.exp_avg_sq.push_back(at::zeros_like(param));
    if (fused_) group.steps.push_back(at::zeros({}, param.options().dtype(at::kFloat)));
  }
}

std::vector<at::Tensor> AdamW::grads(const Group& group) const {
  std::vector<at::Tensor> grads;
  grads.reserve(group.params.size());
  for (const auto& param : group.params) {
    const at::Tensor& grad = param.grad();
    grads.push_back(grad.defined() ? grad : at::zeros_like(param));
  }
  return grads;
}

void AdamW::update(Group& group, double lr, double bias1, double bias2) {
  if (group.params.empty()) return;
  at::NoGradGuard no_grad;
  auto g = grads(group);
  // decoupled weight decay, then the moment updates and the step, each as one multi-tensor op
  if (group.weight_decay != 0) at::_foreach_mul_(group.params, 1.0 - lr * group.weight_decay);
  at::_foreach_mul_(group.exp_avg, options_.beta1);
  at::_foreach_add_(group.exp_avg, g, 1.0 - options_.beta1);
  at::_foreach_mul_(group.exp_avg_sq, options_.beta2);
  at::_foreach_addcmul_(group.exp_avg_sq, g, g, 1.0 - options_.beta2);
  auto denominator = at::_foreach_sqrt(group.exp_avg_sq);
  at::_foreach_div_(denominator, std::sqrt(bias2));
  at::_foreach_add_(denominator, options_.eps);
  at::_foreach_addcdiv_(group.params, group.exp_avg, denominator, -lr / bias1);
}

// the same update in one kernel per group; the kernel reads the step count (it does not advance
// it), so the step tensors are advanced first, or the first bias correction would divide by zero
void AdamW::update_fused(Group& group, double lr) {
  if (group.params.empty()) return;
#if WM_FUSED_ADAMW
  at::NoGradGuard no_grad;
  at::_foreach_add_(group.steps, 1);
  at::_fused_adamw_(group.params, grads(group), group.exp_avg, group.exp_avg_sq, /*max_exp_avg_sqs=*/{},
                    group.steps, lr, options_.beta1, options_.beta2, group.weight_decay, options_.eps,
                    /*amsgrad=*/false, /*maximize=*/false);
#else
  (void)lr;
  throw Error("AdamW: this LibTorch has no fused kernel");
#endif
}

void AdamW::step(double lr) {
  ++steps_;
  if (fused_) {
    update_fused(decay_, lr);
    update_fused(no_decay_, lr);
    return;
  }
  double bias1 = 1.0 - std::pow(options_.beta1, static_cast<double>(steps_));
  double bias2 = 1.0 - std::pow(options_.beta2, static_cast<double>(steps_));
  update(decay_, lr, bias1, bias2);
  update(no_decay_, lr, bias1, bias2);
}

void AdamW::zero_grad() {
  for (Group* group : {&decay_, &no_decay_})
    for (auto& param : group->params)
      if (param.grad().defined()) param.mutable_grad() = at::Tensor();
}

double AdamW::clip_grad_norm(double max_norm) {
  std::vector<at::Tensor> all;
  for (Group* group : {&decay_, &no_decay_})
    for (auto& param : group->params)
      if (param.grad().defined()) all.push_back(param.grad());
  if (all.empty()) return 0.0;
  at::NoGradGuard no_grad;
  double norm = at::stack(at::_foreach_norm(all)).norm().item<double>();
  if (max_norm > 0 && norm > max_norm) at::_foreach_mul_(all, max_norm / (norm + 1e-6));
  return norm;
}

NamedTensors AdamW::state() const {
  NamedTensors state = {{"step", at::scalar_tensor(steps_, at::kLong)}};
  for (const Group* group : {&decay_, &no_decay_})
    for (size_t i = 0; i < group->params.size(); ++i) {
      state.emplace_back("exp_avg/" + group->names[i], group->exp_avg[i]);
      state.emplace_back("exp_avg_sq/" + group->names[i], group->exp_avg_sq[i]);
    }
  return state;
}

void AdamW::load_state(const NamedTensors& state) {
  std::map<std::string, at::Tensor> by_name(state.begin(), state.end());
  auto take = [&](const std::string& name, at::Tensor& into) {
    auto it = by_name.find(name);
    if (it == by_name.end()) throw Error("optimizer state lacks '" + name + "'");
    if (!it->second.sizes().equals(into.sizes()))
      throw Error("optimizer state '" + name + "' has another shape than the parameter");
    at::NoGradGuard no_grad;
    into.copy_(it->second);
  };
  at::Tensor step = at::zeros({}, at::kLong);
  take("step", step);
  steps_ = step.item<int64_t>();
  for (Group* group : {&decay_, &no_decay_})
    for (auto& count : group->steps) count.fill_(static_cast<double>(steps_));
  for (Group* group : {&decay_, &no_decay_})
    for (size_t i = 0; i < group->params.size(); ++i) {
      take("exp_avg/" + group->names[i], group->exp_avg[i]);
      take("exp_avg_sq/" + group->names[i], group->exp_avg_sq[i]);
    }
}

}  // namespace wm::train
