#include "latent_rollout.h"

#include <ATen/ATen.h>

#include "wm/error.h"

namespace wm::nn {

namespace {
at::Tensor first_steps(const at::Tensor& tensor, int64_t steps) {
  return tensor.defined() ? tensor.slice(1, 0, steps) : tensor;
}
at::Tensor distance(const at::Tensor& a, const at::Tensor& b, double p) {
  auto gap = (a - b).abs();
  return (p == 1.0 ? gap : gap.pow(p)).mean() / p;
}
}  // namespace

at::Tensor LatentPredictionLoss::total() const { return teacher_forcing + rollout; }

LatentPredictionLoss latent_prediction_loss(const LatentPredictor& predictor, const at::Tensor& latents,
                                            const at::Tensor& actions, const at::Tensor& states,
                                            int64_t auto_steps, double loss_exp) {
  int64_t frames = latents.size(1);
  WM_CHECK(frames >= 2) << "latent prediction needs at least 2 frames, got " << frames;
  WM_CHECK(actions.size(1) >= frames - 1) << actions.size(1) << " actions for " << frames << " frames";
  WM_CHECK(auto_steps >= 1 && auto_steps <= frames - 1)
      << "auto_steps " << auto_steps << " must be in [1, frames - 1 = " << frames - 1 << "]";
  auto targets = latents.detach();

  // teacher forcing: every step sees the true latents of steps <= t and predicts step t + 1
  auto predicted = predictor(targets.slice(1, 0, frames - 1), actions.slice(1, 0, frames - 1),
                             first_steps(states, frames - 1));
  LatentPredictionLoss loss;
  loss.teacher_forcing = distance(predicted, targets.slice(1, 1), loss_exp);

  // rollout: seed with [latent 0, prediction 1], then feed predictions back
  auto sequence = at::cat({targets.slice(1, 0, 1), predicted.slice(1, 0, 1)}, 1);
  for (int64_t n = 1; n < auto_steps; ++n) {
    auto next = predictor(sequence, actions.slice(1, 0, n + 1), first_steps(states, n + 1));
    sequence = at::cat({sequence, next.slice(1, n, n + 1)}, 1);
  }
  loss.rollout = distance(sequence.slice(1, 1), targets.slice(1, 1, auto_steps + 1), loss_exp);
  return loss;
}

at::Tensor imagine(const LatentPredictor& predictor, const at::Tensor& context,
                   const at::Tensor& actions, const at::Tensor& states, int64_t horizon) {
  int64_t observed = context.size(1);
  WM_CHECK(actions.size(1) == observed - 1 + horizon)
      << "imagine: " << actions.size(1) << " actions for " << observed << " context frames and horizon "
      << horizon;
  at::Tensor all_states = states;
  if (states.defined() && horizon > 1) {
    auto last = states.slice(1, observed - 1, observed);
    all_states = at::cat({states, last.expand({-1, horizon - 1, -1})}, 1);
  }
  auto sequence = context;
  for (int64_t k = 0; k < horizon; ++k) {
    int64_t steps = observed + k;
    auto next = predictor(sequence, actions.slice(1, 0, steps), first_steps(all_states, steps));
    sequence = at::cat({sequence, next.slice(1, steps - 1, steps)}, 1);
  }
  return sequence.slice(1, observed);
}

}  // namespace wm::nn
