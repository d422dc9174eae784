#include "wm/nn/frame_pair_model.h"

#include <torch/torch.h>

#include "wm/nn/sample_random.h"

namespace wm::nn {

FramePairModel::FramePairModel(std::shared_ptr<FramePairNet> net, GapSampling sampling,
                               int64_t eval_gap, int64_t tokens_per_pair)
    : TorchModel(net), net_(std::move(net)), sampling_(sampling), eval_gap_(eval_gap), tokens_per_pair_(tokens_per_pair) {}

LossOutput FramePairModel::loss(const Batch& batch) {
  auto pairs = sample_frame_pairs(batch.at("video"), sampling_, sample_seeds(batch.tensors));
  auto predicted = net_->predict_pair(pairs.first, pairs.future).first;
  LossOutput out;
  out.loss = gap_weighted_mse(predicted, pairs.future, pairs.gaps, sampling_.loss_decay, out.logs);
  out.tokens = tokens_per_pair_ * batch.size();
  return out;
}

TensorMap FramePairModel::predict(const Batch& batch) {
  const auto& video = batch.at("video");
  int64_t gap = requested_gap(batch.tensors, eval_gap_);
  auto pairs = pairs_at_gap(video, gap);
  auto [predicted, change] = net_->predict_pair(pairs.first, pairs.future);
  int64_t clips = video.size(0), steps = video.size(1) - gap;
  std::vector<int64_t> frames = {clips, steps, video.size(2), video.size(3), video.size(4)};
  return {{"prediction", predicted.view(frames)},
          {"target", pairs.future.view(frames)},
          {"change_embedding", change.view({clips, steps, -1})}};
}

TensorMap FramePairModel::encode(const Batch& batch) {
  auto pairs = pairs_at_gap(batch.at("video"), 1);
  auto change = net_->predict_pair(pairs.first, pairs.future).second;
  return {{"features", change.view({batch.size(), -1, change.size(1)}).mean(1)}};
}


Schema with_future_prediction_params(Schema schema) {
  return schema.integer("max_gap", 10, "largest frame gap k sampled in training").at_least(1)
      .real("sample_decay", 0.8, "P(gap k) proportional to sample_decay^(k-1)").range(0.0, 1.0)
      .real("loss_decay", 0.5, "a gap-k sample's loss weight is loss_decay^(k-1)").range(0.0, 1.0)
      .integer("eval_gap", 1, "gap predicted when an evaluation batch names none").at_least(1)
      .boolean("start_from_copy", true,
               "zero the output layer, so training starts exactly at the copy-last-frame baseline");
}

GapSampling gap_sampling(const Params& params) {
  return {params.get<int64_t>("max_gap"), params.get<double>("sample_decay"),
          params.get<double>("loss_decay")};
}

}  // namespace wm::nn
