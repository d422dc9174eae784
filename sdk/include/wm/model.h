// Model: turns a batch into named outputs, and (when trainable) into a loss.
//
// For evaluation a model returns `prediction` and the `target` it should be judged against
// (e.g. frame t+k), so any metric can score any model. A batch may carry an int64 `gap` to ask a
// frame predictor for a particular horizon.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "wm/component.h"
#include "wm/sample.h"

namespace wm {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// what one training step minimises, and what to log about it
struct LossOutput {
  at::Tensor loss;                      // a scalar with a graph back to the parameters
  std::map<std::string, double> logs;   // e.g. {"mse_gap1": 0.01}
  int64_t tokens = 0;                   // tokens this batch consumed, for token budgets
};

class Model : public Component {
 public:
  static constexpr Kind kind = Kind::Model;
  ~Model() override;

  // batch keys the model reads, e.g. {"video", "actions"}
  virtual std::vector<std::string> required_keys() const = 0;
  // inference outputs, at least `prediction` and `target`
  virtual TensorMap predict(const Batch& batch) = 0;

  //---- training (a fixed baseline keeps the defaults) ----

  // trainable parameters under their checkpoint names
  virtual NamedTensors parameters() const { return {}; }
  // everything a checkpoint must hold: parameters and buffers
  virtual NamedTensors state() const { return parameters(); }
  // the training objective on one batch; random choices (gaps, masks) use LibTorch's generator
  virtual LossOutput loss(const Batch& batch);
  // switches dropout and similar layers between training and evaluation behaviour
  virtual void set_training(bool training) { (void)training; }
  // moves parameters and buffers to "cpu" or "cuda" (the experiment's `device`); batches
  // arrive on that device
  virtual void to_device(const std::string& device) { (void)device; }

  //---- probing ----

  // frozen features per sample, e.g. {"features": [B, D]}; for linear probes
  virtual TensorMap encode(const Batch& batch);
};

}  // namespace wm
