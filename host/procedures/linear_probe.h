// Linear probes on frozen features: a linear map fitted with AdamW on a whole (small) feature
// matrix, for classification (cross-entropy) or regression (MSE), and the scores probes report.
// Used by the `probe` procedure; standardise the features first (fit statistics on the training
// split only).
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace wm::eval {

struct LinearProbeOptions {
  int64_t steps = 300;  // full-batch AdamW steps
  double lr = 0.01;
  double weight_decay = 1e-4;
};

struct LinearProbe {
  at::Tensor weight, bias;                     // [K, D], [K]
  at::Tensor operator()(const at::Tensor& features) const;  // [N, D] -> [N, K]
};

// features [N, D], labels int64 [N] in [0, classes)
LinearProbe fit_classifier(const at::Tensor& features, const at::Tensor& labels, int64_t classes,
                           const LinearProbeOptions& options);
// features [N, D], targets [N, K]
LinearProbe fit_regressor(const at::Tensor& features, const at::Tensor& targets,
                          const LinearProbeOptions& options);

// share of rows whose label is among the k highest logits
double top_k_accuracy(const at::Tensor& logits, const at::Tensor& labels, int64_t k);
// coefficient of determination per target channel (1 - SSE / SST, SST about the targets' own
// mean), averaged over channels
double r2_score(const at::Tensor& prediction, const at::Tensor& target);

}  // namespace wm::eval
