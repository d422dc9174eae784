#include "wm/component.h"

#include <torch/nn/module.h>

#include "wm/dataset.h"
#include "wm/error.h"
#include "wm/env.h"
#include "wm/metric.h"
#include "wm/model.h"

namespace wm {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::Dataset: return "dataset";
    case Kind::Model: return "model";
    case Kind::Env: return "env";
    case Kind::Metric: return "metric";
  }
  return "?";
}

const char* kind_plural(Kind kind) {
  switch (kind) {
    case Kind::Dataset: return "datasets";
    case Kind::Model: return "models";
    case Kind::Env: return "envs";
    case Kind::Metric: return "metrics";
  }
  return "?";
}

// out-of-line destructors: the interfaces' vtables live here, once
Component::~Component() = default;
Dataset::~Dataset() = default;
Model::~Model() = default;
Env::~Env() = default;
Metric::~Metric() = default;
PrimitiveChooser::~PrimitiveChooser() = default;
ScriptedPolicy::~ScriptedPolicy() = default;
Policy::~Policy() = default;
StateReward::~StateReward() = default;

std::string Dataset::id(int64_t index) const { return get(index).id; }
std::string Dataset::group(int64_t index) const {
  std::string sample_id = id(index);
  return sample_id.substr(0, sample_id.find('@'));
}

// capabilities a model may lack: the error says which model and what to use instead
LossOutput Model::loss(const Batch&) {
  throw Error("this model has no training objective (a fixed baseline); train a learning model");
}
TensorMap Model::encode(const Batch&) {
  throw Error("this model exposes no encoder to probe");
}

TorchModel::TorchModel(std::shared_ptr<torch::nn::Module> module) : module_(std::move(module)) {}
void TorchModel::set_module(std::shared_ptr<torch::nn::Module> module) { module_ = std::move(module); }
torch::nn::Module& TorchModel::module() const {
  WM_CHECK(module_) << "TorchModel used before set_module()";
  return *module_;
}
NamedTensors TorchModel::parameters() const { return named_parameters(module()); }
NamedTensors TorchModel::state() const { return named_state(module()); }
void TorchModel::set_training(bool training) { module().train(training); }
void TorchModel::to_device(const std::string& device) { module().to(c10::Device(device)); }

NamedTensors named_parameters(const torch::nn::Module& module) {
  NamedTensors named;
  for (const auto& item : module.named_parameters()) named.emplace_back(item.key(), item.value());
  return named;
}

NamedTensors named_state(const torch::nn::Module& module) {
  NamedTensors named = named_parameters(module);
  for (const auto& item : module.named_buffers()) named.emplace_back(item.key(), item.value());
  return named;
}

}  // namespace wm
