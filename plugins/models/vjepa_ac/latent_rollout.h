// Action-conditioned prediction in latent space (V-JEPA 2-AC, app/vjepa_droid/train.py): a
// predictor maps the latents, actions and states of steps 0..n to the latents of steps 1..n+1.
// Training compares teacher-forced and autoregressive predictions with the encoder's latents;
// planning imagines the latents an action sequence leads to.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

namespace wm::nn {

// latents [B, S, ...], actions [B, S, A], states [B, S, Z] or undefined -> the next latent of
// every step [B, S, ...] (block-causal: output s depends on steps <= s only)
using LatentPredictor = std::function<at::Tensor(const at::Tensor& latents, const at::Tensor& actions,
                                                 const at::Tensor& states)>;

struct LatentPredictionLoss {
  at::Tensor teacher_forcing;  // mean |predictor(latents 0..T-2) - latents 1..T-1|^p / p
  at::Tensor rollout;          // mean |autoregressive latents 1..auto_steps - latents 1..auto_steps|^p / p
  at::Tensor total() const;    // their sum, the training loss
};

// latents [B, T, ...] of the observed frames (the targets), actions [B, T-1, A], states [B, T, Z]
// or undefined. The rollout starts from [latent 0, teacher-forced prediction 1] and feeds its own
// predictions back for auto_steps - 1 more steps, with the true actions and states. The distance
// is mean |x|^p / p (the reference's `loss_exp`; p = 1: L1, p = 2: half the MSE).
LatentPredictionLoss latent_prediction_loss(const LatentPredictor& predictor, const at::Tensor& latents,
                                            const at::Tensor& actions, const at::Tensor& states,
                                            int64_t auto_steps, double loss_exp = 1.0);

// the latents of the next `horizon` frames: context [B, C, ...] latents of observed frames,
// actions [B, C - 1 + horizon, A] (those executed between the context frames, then the plan),
// states [B, C, Z] or undefined (imagined steps repeat the last observed state) -> [B, horizon, ...]
at::Tensor imagine(const LatentPredictor& predictor, const at::Tensor& context,
                   const at::Tensor& actions, const at::Tensor& states, int64_t horizon);

}  // namespace wm::nn
