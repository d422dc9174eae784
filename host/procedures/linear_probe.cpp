#include "procedures/linear_probe.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "wm/error.h"
#include "engine/adamw.h"

namespace wm::eval {

at::Tensor LinearProbe::operator()(const at::Tensor& features) const {
  return at::addmm(bias, features, weight.t());
}

namespace {
template <class Loss>
LinearProbe fit(const at::Tensor& x, int64_t outputs, const LinearProbeOptions& options, Loss loss) {
  at::AutoGradMode grad(true);
  auto features = x.detach().to(at::kFloat);
  LinearProbe probe{at::zeros({outputs, x.size(1)}, features.options()).set_requires_grad(true),
                    at::zeros({outputs}, features.options()).set_requires_grad(true)};
  train::AdamW optimizer({{"weight", probe.weight}, {"bias", probe.bias}},
                         {0.9, 0.999, 1e-8, options.weight_decay});
  for (int64_t step = 0; step < options.steps; ++step) {
    loss(probe(features)).backward();
    optimizer.step(options.lr);
    optimizer.zero_grad();
  }
  probe.weight = probe.weight.detach(), probe.bias = probe.bias.detach();
  return probe;
}
}  // namespace

LinearProbe fit_classifier(const at::Tensor& features, const at::Tensor& labels, int64_t classes,
                           const LinearProbeOptions& options) {
  WM_CHECK(features.size(0) == labels.size(0)) << features.sizes() << " features, " << labels.sizes() << " labels";
  return fit(features, classes, options,
             [&](const at::Tensor& logits) { return at::cross_entropy_loss(logits, labels); });
}

LinearProbe fit_regressor(const at::Tensor& features, const at::Tensor& targets,
                          const LinearProbeOptions& options) {
  WM_CHECK(features.size(0) == targets.size(0)) << features.sizes() << " features, " << targets.sizes() << " targets";
  auto y = targets.to(at::kFloat);
  return fit(features, y.size(1), options, [&](const at::Tensor& out) { return (out - y).pow(2).mean(); });
}

double top_k_accuracy(const at::Tensor& logits, const at::Tensor& labels, int64_t k) {
  auto top = std::get<1>(logits.topk(std::min<int64_t>(k, logits.size(1)), 1));
  return top.eq(labels.unsqueeze(1)).any(1).to(at::kDouble).mean().item<double>();
}

double r2_score(const at::Tensor& prediction, const at::Tensor& target) {
  auto y = target.to(at::kDouble), p = prediction.to(at::kDouble);
  auto total = (y - y.mean(0)).pow(2).sum(0).clamp_min(1e-12);
  return (1 - (p - y).pow(2).sum(0) / total).mean().item<double>();
}

}  // namespace wm::eval
