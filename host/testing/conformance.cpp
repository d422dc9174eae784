// The contract checks of `wmhost check` and wm::testing::conformance: each finding names its rule.
//   documented      the plugin and every parameter have a doc line
//   deterministic   the same parameters (and seed) give the same samples, weights, outputs, states
//   data contract   samples carry their declared keys with the dtypes and shapes of
//                   docs/data_contract.md, finite values and stable, unique ids
//   predict         a model's predict() returns `prediction` and `target` of equal shape
//   loss            a trainable model's loss() is a finite scalar with a graph to its parameters
//   merge           a metric merged from two halves equals one pass over both
//   bad action      an env refuses a wrong-size action with wm::Error and keeps its state
#include <ATen/ATen.h>

#include <cmath>
#include <set>

#include "api.h"
#include "plugin_registry.h"
#include "wm/dataset.h"
#include "wm/env.h"
#include "wm/error.h"
#include "wm/metric.h"
#include "wm/model.h"
#include "wm/testing.h"

namespace wm::testing {

Host& host();  // kit.cpp

namespace {

using Findings = std::vector<std::string>;

// runs one rule's check; an exception is a finding of that rule too
template <class Body>
void rule(Findings& findings, const std::string& name, Body&& body) {
  try {
    if (std::string what = body(); !what.empty()) findings.push_back(name + ": " + what);
  } catch (const std::exception& e) {
    findings.push_back(name + ": " + user_message(e));
  }
}

std::string dtype_name(const at::Tensor& tensor) {
  switch (tensor.scalar_type()) {
    case at::kByte: return "uint8";
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kBool: return "bool";
    default: return at::toString(tensor.scalar_type());
  }
}

// "" when both maps hold the same keys with equal tensors, else the first difference
std::string compare(const TensorMap& a, const TensorMap& b, const std::string& what) {
  for (const auto& [key, tensor] : a) {
    auto other = b.find(key);
    if (other == b.end()) return what + ": key '" + key + "' appears only once";
    if (!tensor.defined() || !other->second.defined()) continue;
    if (tensor.sizes() != other->second.sizes() || tensor.scalar_type() != other->second.scalar_type() ||
        !at::equal(tensor.cpu(), other->second.cpu()))
      return what + ": '" + key + "' differs";
  }
  if (a.size() != b.size()) return what + ": the two have different keys";
  return "";
}

TensorMap as_map(const NamedTensors& named) {
  TensorMap map;
  for (const auto& [name, tensor] : named) map[name] = tensor.detach();
  return map;
}

// number of dimensions a declared shape "[T, 3, H, W]" has; -1 when it is not written that way
int64_t declared_rank(const std::string& shape) {
  if (shape.size() < 2 || shape.front() != '[' || shape.back() != ']') return -1;
  std::string inside = shape.substr(1, shape.size() - 2);
  if (inside.find_first_not_of(' ') == std::string::npos) return 0;
  return 1 + static_cast<int64_t>(std::count(inside.begin(), inside.end(), ','));
}

// the conventions of docs/data_contract.md for the keys it names: dtype and rank
struct Convention {
  const char* dtype;
  int64_t rank;
};
const std::map<std::string, Convention>& conventions() {
  static const std::map<std::string, Convention> table{
      {"video", {"uint8", 4}},   {"actions", {"float32", 2}}, {"action_label", {"int64", 0}},
      {"state", {"float32", 2}}, {"buttons", {"float32", 2}}, {"reward", {"float32", 1}},
      {"success", {"bool", 1}},  {"pose", {"float32", 3}}};
  return table;
}

std::string check_sample(const Dataset& data, int64_t index, const Sample& sample) {
  if (sample.id.empty()) return "sample " + std::to_string(index) + " has no id";
  if (data.id(index) != sample.id)
    return "id(" + std::to_string(index) + ") is '" + data.id(index) + "' but get() gives '" + sample.id + "'";
  std::string at_index = "sample " + std::to_string(index) + " ('" + sample.id + "')";
  for (const auto& spec : data.keys()) {
    auto found = sample.tensors.find(spec.name);
    if (found == sample.tensors.end()) return at_index + " lacks its declared key '" + spec.name + "'";
    const auto& tensor = found->second;
    if (dtype_name(tensor) != spec.dtype)
      return at_index + ": '" + spec.name + "' is " + dtype_name(tensor) + ", declared " + spec.dtype;
    if (int64_t rank = declared_rank(spec.shape); rank >= 0 && tensor.dim() != rank)
      return at_index + ": '" + spec.name + "' has " + std::to_string(tensor.dim()) +
             " dimensions, declared " + spec.shape;
  }
  for (const auto& [key, tensor] : sample.tensors) {
    if (auto convention = conventions().find(key); convention != conventions().end()) {
      if (dtype_name(tensor) != convention->second.dtype || tensor.dim() != convention->second.rank)
        return at_index + ": '" + key + "' is " + describe_tensor(tensor) + "; docs/data_contract.md has " +
               convention->second.dtype + " with " + std::to_string(convention->second.rank) + " dimensions";
      if (key == "video" && tensor.size(1) != 3)
        return at_index + ": 'video' is " + describe_tensor(tensor) + "; frames are [T, 3, H, W]";
    }
    if (tensor.is_floating_point() && !at::isfinite(tensor).all().item<bool>())
      return at_index + ": '" + key + "' holds NaN or infinite values";
  }
  return "";
}

// the samples a check looks at: first, middle, last
std::vector<int64_t> probe_indices(int64_t size) {
  std::set<int64_t> picked{0, size / 2, size - 1};
  return {picked.begin(), picked.end()};
}

void check_dataset(Findings& findings, const std::string& plugin, const CheckOptions& options) {
  auto first = make<Dataset>(plugin, options.params), second = make<Dataset>(plugin, options.params);
  if (first->size() <= 0) {
    findings.push_back("data contract: the dataset is empty with these parameters");
    return;
  }
  rule(findings, "deterministic", [&]() -> std::string {
    if (first->size() != second->size()) return "two instances have different sizes";
    for (int64_t i : probe_indices(first->size())) {
      auto a = first->get(i), again = first->get(i), b = second->get(i);
      if (a.id != b.id || a.id != again.id) return "sample " + std::to_string(i) + " has different ids";
      if (auto d = compare(a.tensors, again.tensors, "sample " + std::to_string(i) + " read twice"); !d.empty())
        return d;
      if (auto d = compare(a.tensors, b.tensors, "sample " + std::to_string(i) + " of two instances"); !d.empty())
        return d;
    }
    return "";
  });
  rule(findings, "data contract", [&]() -> std::string {
    std::set<std::string> ids;
    for (int64_t i : probe_indices(first->size())) {
      auto sample = first->get(i);
      if (auto problem = check_sample(*first, i, sample); !problem.empty()) return problem;
      if (!ids.insert(sample.id).second) return "two samples share the id '" + sample.id + "'";
    }
    return "";
  });
}

// the first `count` samples from `offset` on, collated
Batch input_batch(Dataset& data, int64_t offset, int64_t count) {
  std::vector<Sample> samples;
  for (int64_t i = offset; i < std::min(data.size(), offset + count); ++i) samples.push_back(data.get(i));
  if (samples.empty()) throw Error("the input dataset has fewer than " + std::to_string(offset + 1) + " samples");
  return collate(samples);
}

std::string missing_key(const std::vector<std::string>& needed, const TensorMap& have,
                        const std::string& source) {
  for (const auto& key : needed)
    if (!have.count(key)) {
      std::vector<std::string> keys;
      for (const auto& entry : have) keys.push_back(entry.first);
      return "needs '" + key + "', which " + source + " does not give (it gives " + join(keys) +
             "); choose another input with --data/--model";
    }
  return "";
}

void check_model(Findings& findings, const std::string& plugin, const CheckOptions& options) {
  auto data = make<Dataset>(options.data, options.data_params);
  Batch batch = input_batch(*data, 0, options.batch_size);
  at::manual_seed(0);
  auto first = make<Model>(plugin, options.params);
  at::manual_seed(0);
  auto second = make<Model>(plugin, options.params);
  if (auto missing = missing_key(first->required_keys(), batch.tensors, "data '" + options.data + "'");
      !missing.empty()) {
    findings.push_back("predict: " + missing);
    return;
  }
  first->set_training(false), second->set_training(false);
  TensorMap outputs;
  rule(findings, "predict", [&]() -> std::string {
    at::manual_seed(1);  // predictions may draw (masks): from the same seed they repeat
    outputs = first->predict(batch);
    if (!outputs.count("prediction") || !outputs.count("target"))
      return "predict() must return 'prediction' and 'target'";
    if (outputs.at("prediction").sizes() != outputs.at("target").sizes())
      return "'prediction' is " + describe_tensor(outputs.at("prediction")) + " but 'target' is " +
             describe_tensor(outputs.at("target"));
    return "";
  });
  rule(findings, "deterministic", [&]() -> std::string {
    if (auto d = compare(as_map(first->state()), as_map(second->state()), "two instances made after the same seed");
        !d.empty())
      return d;
    if (outputs.empty()) return "";
    at::manual_seed(1);
    auto again = second->predict(batch);
    return compare(outputs, again, "predict() of two instances on the same batch");
  });
  if (first->parameters().empty()) return;  // a fixed baseline: nothing to train
  rule(findings, "loss", [&]() -> std::string {
    first->set_training(true);
    auto out = first->loss(batch);
    if (!out.loss.defined() || out.loss.numel() != 1) return "loss() must return a scalar";
    if (!std::isfinite(out.loss.item<double>())) return "loss() is not finite";
    if (!out.loss.requires_grad()) return "loss() has no graph back to the parameters";
    return "";
  });
}

void check_metric_inputs(Findings& findings, const std::string& plugin, const std::string& params,
                         const TensorMap& a, const TensorMap& b, const std::string& source) {
  auto one = make<Metric>(plugin, params);
  if (auto missing = missing_key(one->required_keys(), a, source); !missing.empty()) {
    findings.push_back("merge: " + missing);
    return;
  }
  rule(findings, "merge", [&]() -> std::string {
    auto half = make<Metric>(plugin, params), other = make<Metric>(plugin, params);
    one->reset(), half->reset(), other->reset();
    one->update(a), one->update(b);
    half->update(a), other->update(b);
    half->merge(*other);
    auto whole = one->compute(), merged = half->compute();
    for (const auto& [key, value] : whole) {
      auto found = merged.find(key);
      if (found == merged.end()) return "the merged metric lacks '" + key + "'";
      double tolerance = 1e-9 * std::max(1.0, std::abs(value));
      if (!(std::abs(found->second - value) <= tolerance) && !(std::isnan(value) && std::isnan(found->second)))
        return "'" + key + "' is " + std::to_string(value) + " in one pass but " +
               std::to_string(found->second) + " merged from two halves";
    }
    return "";
  });
  rule(findings, "deterministic", [&]() -> std::string {
    auto again = make<Metric>(plugin, params);
    again->reset(), again->update(a), again->update(b);
    auto x = one->compute(), y = again->compute();
    for (const auto& [key, value] : x)
      if (!y.count(key) || (y.at(key) != value && !(std::isnan(value) && std::isnan(y.at(key)))))
        return "'" + key + "' differs between two instances fed the same batches";
    return "";
  });
}

void check_metric(Findings& findings, const std::string& plugin, const CheckOptions& options) {
  auto data = make<Dataset>(options.data, options.data_params);
  auto model = make<Model>(options.model, options.model_params);
  model->set_training(false);
  auto inputs = [&](int64_t offset) {
    Batch batch = input_batch(*data, offset, options.batch_size);
    TensorMap all = batch.tensors;
    for (auto& [key, tensor] : model->predict(batch)) all[key] = tensor;
    return all;
  };
  check_metric_inputs(findings, plugin, options.params, inputs(0), inputs(options.batch_size),
                      "data '" + options.data + "' with model '" + options.model + "'");
}

void check_env(Findings& findings, const std::string& plugin, const CheckOptions& options) {
  auto first = make<Env>(plugin, options.params), second = make<Env>(plugin, options.params);
  EnvSpec spec = first->spec();
  auto action = at::full({spec.action_size}, 0.5 * (spec.action_low + spec.action_high) +
                                                 0.25 * (spec.action_high - spec.action_low),
                         at::kFloat);
  rule(findings, "deterministic", [&]() -> std::string {
    auto a = first->reset(123);
    first->reset(7);
    auto again = first->reset(123), b = second->reset(123);
    if (auto d = compare(a, again, "reset(123) twice"); !d.empty()) return d;
    if (auto d = compare(a, b, "reset(123) of two instances"); !d.empty()) return d;
    auto step_a = first->step(action), step_b = second->step(action);
    if (step_a.reward != step_b.reward) return "the same step after reset(123) gives different rewards";
    return compare(step_a.observation, step_b.observation, "the same step after reset(123)");
  });
  rule(findings, "bad action", [&]() -> std::string {
    first->reset(5), second->reset(5);
    bool refused = false;
    try {
      first->step(at::zeros({spec.action_size + 3}));
    } catch (const Error&) {
      refused = true;
    }
    if (!refused) return "step() with " + std::to_string(spec.action_size + 3) + " values instead of " +
                         std::to_string(spec.action_size) + " did not throw wm::Error";
    auto kept = first->step(action), fresh = second->step(action);
    return compare(kept.observation, fresh.observation, "the state after a refused action");
  });
}

Findings documentation(const LoadedPlugin& plugin) {
  Findings findings;
  if (!plugin.info->summary || !*plugin.info->summary) findings.push_back("documented: the plugin has no summary");
  for (const auto& spec : plugin.schema.params())
    if (spec.doc.empty()) findings.push_back("documented: parameter '" + spec.name + "' has no doc line");
  return findings;
}

}  // namespace

std::vector<std::string> conformance(const std::string& plugin, const CheckOptions& options) {
  const LoadedPlugin& found = host().plugin(plugin);
  const std::string& name = plugin;
  Findings findings = documentation(found);
  switch (found.kind()) {
    case Kind::Dataset: check_dataset(findings, name, options); break;
    case Kind::Model: check_model(findings, name, options); break;
    case Kind::Metric: check_metric(findings, name, options); break;
    case Kind::Env: check_env(findings, name, options); break;
  }
  return findings;
}

std::vector<std::string> metric_conformance(const std::string& plugin, const std::string& params,
                                            const TensorMap& first, const TensorMap& second) {
  const LoadedPlugin& found = host().plugin(plugin);
  if (found.kind() != Kind::Metric) throw Error(plugin + " is not a metric plugin");
  Findings findings = documentation(found);
  check_metric_inputs(findings, plugin, params, first, second, "the given inputs");
  return findings;
}

}  // namespace wm::testing
