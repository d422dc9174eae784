// Model: turns a batch into named outputs, and (when trainable) into a loss.
//
// For evaluation a model returns `prediction` and the `target` it should be judged against
// (e.g. frame t+k), so any metric can score any model. A batch may carry an int64 `gap` to ask a
// frame predictor for a particular horizon.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wm/component.h"
#include "wm/sample.h"

namespace torch::nn {
class Module;
}

namespace wm {

class Env;
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

//---- optional capability: acting ----

// A model that chooses actions (a policy, or a planner toward a goal) also derives Policy; the
// rollout and collect procedures find it with dynamic_cast<wm::Policy*>(&model) for
// `policy: model`. A model that does not derive it is refused there with its name.
class Policy {
 public:
  virtual ~Policy();
  // A batch of one episode's recent past: the observation keys the procedure stacks over time
  // (`history_keys`, e.g. video [1, C, 3, H, W], state [1, C, S]), the C-1 `actions` between
  // them, and the other observation keys as they are (e.g. a `goal` frame [1, 3, H, W]).
  // Returns at least `action` [1, A]; more keys (e.g. `plan_energy`) are logged.
  virtual TensorMap act(const Batch& observations) = 0;
  // rollout and collect call this once, before the first episode, with the env the policy acts
  // in; a planner keeps it to read optional env capabilities (e.g. wm::StateReward)
  virtual void attach(const Env& env) { (void)env; }
};

//---- a model built on one torch::nn::Module ----

// Implements parameters, state, set_training and to_device from the module, so a LibTorch model
// writes only required_keys, predict and loss. Checkpoint names are the module's own
// (register_module / register_parameter names, "blocks.0.attn.qkv.weight").
class TorchModel : public Model {
 public:
  NamedTensors parameters() const override;
  NamedTensors state() const override;
  void set_training(bool training) override;
  void to_device(const std::string& device) override;

 protected:
  // the module may also be handed over later, once built
  explicit TorchModel(std::shared_ptr<torch::nn::Module> module = nullptr);
  void set_module(std::shared_ptr<torch::nn::Module> module);

 private:
  torch::nn::Module& module() const;
  std::shared_ptr<torch::nn::Module> module_;
};

// a module's parameters (or parameters and buffers) under their checkpoint names
NamedTensors named_parameters(const torch::nn::Module& module);
NamedTensors named_state(const torch::nn::Module& module);

}  // namespace wm
