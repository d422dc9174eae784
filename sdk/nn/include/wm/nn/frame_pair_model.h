// The wm::Model side of a future-frame predictor that maps (frame t, frame t+k) to (predicted
// frame t+k, change embedding): gap-sampled training pairs and the weighted loss, predictions at
// a requested gap, change embeddings for probes. two_stream and single_stream differ only in
// their network.
#pragma once
#include <torch/nn/module.h>

#include <memory>
#include <utility>

#include "wm/model.h"
#include "wm/params.h"
#include "wm/schema.h"
#include "wm/nn/future_prediction.h"

namespace wm::nn {

class FramePairNet : public torch::nn::Module {
 public:
  // first, future [N, 3, H, W] -> predicted future [N, 3, H, W], change embedding [N, C]
  virtual std::pair<at::Tensor, at::Tensor> predict_pair(const at::Tensor& first,
                                                         const at::Tensor& future) = 0;
};

class FramePairModel : public TorchModel {
 public:
  FramePairModel(std::shared_ptr<FramePairNet> net, GapSampling sampling, int64_t eval_gap,
                 int64_t tokens_per_pair);

  std::vector<std::string> required_keys() const override { return {"video"}; }
  LossOutput loss(const Batch& batch) override;
  // every pair of each clip at the requested gap: prediction, target [B, T-gap, 3, H, W] and
  // change_embedding [B, T-gap, C]
  TensorMap predict(const Batch& batch) override;
  // features for probes: the mean change embedding over consecutive frames of each clip
  TensorMap encode(const Batch& batch) override;

 private:
  std::shared_ptr<FramePairNet> net_;
  GapSampling sampling_;
  int64_t eval_gap_, tokens_per_pair_;
};

// the parameters every frame-pair model shares: max_gap, sample_decay, loss_decay, eval_gap,
// start_from_copy, appended to a plugin's own
Schema with_future_prediction_params(Schema schema);
GapSampling gap_sampling(const Params& params);

}  // namespace wm::nn
