#include "wm/io/action_scaler.h"

#include <ATen/ATen.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "wm/io/atomic_file.h"
#include "wm/error.h"
#include "wm/io/json.h"

namespace wm::io {

namespace {

bool has_extension(const std::filesystem::path& path, std::initializer_list<const char*> options) {
  std::string extension = path.extension().string();
  for (const char* option : options)
    if (extension == option) return true;
  return false;
}

void check_format(const std::filesystem::path& path) {
  if (!has_extension(path, {".yaml", ".yml", ".json"}))
    throw Error("action scaler file " + path.string() +
                ": name it .yaml, .yml or .json (the extension picks the format)");
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

template <class T, class Format>
std::string list_text(const std::vector<T>& values, Format format) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + format(values[i]);
  return text + "]";
}

ActionScaler from_json(const std::string& text, const std::filesystem::path& path) {
  json::Value root = json::parse(text, path.string());
  auto field = [&](const char* name) -> const json::Value& {
    const json::Value* value = root.find(name);
    if (!value) throw Error("action scaler file " + path.string() + ": missing field '" + name + "'");
    return *value;
  };
  ActionScaler scaler;
  try {
    for (const auto& item : field("names").items()) scaler.names.push_back(item.as_string());
    for (const auto& item : field("mean").items()) scaler.mean.push_back(item.as_number());
    for (const auto& item : field("std").items()) scaler.std.push_back(item.as_number());
    if (root.find("count")) scaler.count = static_cast<int64_t>(field("count").as_number());
    if (root.find("converged")) scaler.converged = field("converged").as_bool();
  } catch (const DataError&) {
    throw;
  } catch (const Error& e) {
    throw Error("action scaler file " + path.string() + ": " + e.what());
  }
  return scaler;
}

ActionScaler from_yaml(const std::string& text, const std::filesystem::path& path) {
  ActionScaler scaler;
  try {
    YAML::Node root = YAML::Load(text);
    for (const char* name : {"names", "mean", "std"})
      if (!root[name] || !root[name].IsSequence())
        throw Error(std::string("missing list '") + name + "'");
    for (const auto& item : root["names"]) scaler.names.push_back(item.as<std::string>());
    for (const auto& item : root["mean"]) scaler.mean.push_back(item.as<double>());
    for (const auto& item : root["std"]) scaler.std.push_back(item.as<double>());
    if (root["count"]) scaler.count = root["count"].as<int64_t>();
    if (root["converged"]) scaler.converged = root["converged"].as<bool>();
  } catch (const YAML::Exception& e) {
    throw Error("action scaler file " + path.string() + ": " + e.what());
  } catch (const Error& e) {
    throw Error("action scaler file " + path.string() + ": " + e.what());
  }
  return scaler;
}

}  // namespace

//---- the scaler ----

ActionScaler ActionScaler::load(const std::filesystem::path& path) {
  check_format(path);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("cannot read action scaler file " + path.string() +
                " (fit one with the fit_action_scaler procedure)");
  std::stringstream text;
  text << in.rdbuf();
  ActionScaler scaler = path.extension() == ".json" ? from_json(text.str(), path)
                                                    : from_yaml(text.str(), path);
  if (scaler.mean.empty() || scaler.mean.size() != scaler.std.size() ||
      scaler.names.size() != scaler.mean.size())
    throw Error("action scaler file " + path.string() + ": names, mean and std must have the same " +
                "non-zero length (have " + std::to_string(scaler.names.size()) + ", " +
                std::to_string(scaler.mean.size()) + ", " + std::to_string(scaler.std.size()) + ")");
  for (double s : scaler.std)
    if (!(s >= 0) || !std::isfinite(s))
      throw Error("action scaler file " + path.string() + ": std values must be finite and >= 0");
  return scaler;
}

std::string ActionScaler::to_yaml() const {
  auto quoted = [](const std::string& name) { return json::quote(name); };
  return "# action scaler: actions are standardised as (a - mean) / std per dimension\n"
         "names: " + list_text(names, quoted) + "\n" +
         "mean: " + list_text(mean, number_text) + "\n" +
         "std: " + list_text(std, number_text) + "\n" +
         "count: " + std::to_string(count) + "\n" +
         "converged: " + (converged ? "true" : "false") + "\n";
}

std::string ActionScaler::to_json() const {
  auto quoted = [](const std::string& name) { return json::quote(name); };
  return "{\"names\": " + list_text(names, quoted) + ", \"mean\": " + list_text(mean, number_text) +
         ", \"std\": " + list_text(std, number_text) + ", \"count\": " + std::to_string(count) +
         ", \"converged\": " + (converged ? "true" : "false") + "}\n";
}

void ActionScaler::save(const std::filesystem::path& path) const {
  check_format(path);
  write_file_atomic(path, path.extension() == ".json" ? to_json() : to_yaml());
}

namespace {
// mean and the divisor as tensors shaped for the last dimension; a zero std divides by 1
std::pair<at::Tensor, at::Tensor> shift_and_scale(const ActionScaler& scaler,
                                                  const at::Tensor& actions) {
  if (actions.dim() == 0 || actions.size(-1) != scaler.size())
    throw Error("action scaler has " + std::to_string(scaler.size()) +
                " dimensions, the actions have " +
                (actions.dim() == 0 ? std::string("none") : std::to_string(actions.size(-1))) +
                " (shape " + describe_tensor(actions) + ")");
  std::vector<double> divisor(scaler.std);
  for (double& d : divisor)
    if (d == 0) d = 1;
  auto options = at::TensorOptions().dtype(at::kDouble);
  auto mean = at::tensor(at::ArrayRef<double>(scaler.mean), options);
  auto scale = at::tensor(at::ArrayRef<double>(divisor), options);
  return {mean, scale};
}
}  // namespace

at::Tensor ActionScaler::apply(const at::Tensor& actions) const {
  auto [mean, scale] = shift_and_scale(*this, actions);
  return ((actions.to(at::kDouble) - mean) / scale).to(actions.scalar_type());
}

at::Tensor ActionScaler::invert(const at::Tensor& actions) const {
  auto [mean, scale] = shift_and_scale(*this, actions);
  return (actions.to(at::kDouble) * scale + mean).to(actions.scalar_type());
}

//---- fitting ----

void RunningMoments::add(const double* values, size_t rows) {
  if (rows == 0) return;
  size_t dims = mean_.size();
  // the batch's own mean and M2 (two passes over a small block), then Chan's merge
  RunningMoments batch(dims);
  batch.count_ = static_cast<int64_t>(rows);
  for (size_t r = 0; r < rows; ++r)
    for (size_t d = 0; d < dims; ++d) batch.mean_[d] += values[r * dims + d];
  for (size_t d = 0; d < dims; ++d) batch.mean_[d] /= static_cast<double>(rows);
  for (size_t r = 0; r < rows; ++r)
    for (size_t d = 0; d < dims; ++d) {
      double deviation = values[r * dims + d] - batch.mean_[d];
      batch.m2_[d] += deviation * deviation;
    }
  merge(batch);
}

void RunningMoments::merge(const RunningMoments& other) {
  if (other.count_ == 0) return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  WM_CHECK(other.dims() == dims()) << "merging moments of " << other.dims() << " and " << dims()
                                   << " dimensions";
  double n_a = static_cast<double>(count_), n_b = static_cast<double>(other.count_);
  double n = n_a + n_b;
  for (size_t d = 0; d < dims(); ++d) {
    double delta = other.mean_[d] - mean_[d];
    mean_[d] += delta * n_b / n;
    m2_[d] += other.m2_[d] + delta * delta * n_a * n_b / n;
  }
  count_ += other.count_;
}

std::vector<double> RunningMoments::stddev() const {
  std::vector<double> out(m2_.size(), 0.0);
  if (count_ == 0) return out;
  for (size_t d = 0; d < out.size(); ++d)
    out[d] = std::sqrt(std::max(0.0, m2_[d] / static_cast<double>(count_)));
  return out;
}

//---- applying it to a dataset ----

namespace {
// the action width a dataset declares in keys(), e.g. "[T-1, 4]" -> 4; -1 when symbolic
int64_t declared_action_width(const Dataset& dataset) {
  for (const auto& key : dataset.keys()) {
    if (key.name != "actions") continue;
    size_t comma = key.shape.rfind(',');
    size_t close = key.shape.rfind(']');
    if (comma == std::string::npos || close == std::string::npos || close < comma) return -1;
    std::string last = key.shape.substr(comma + 1, close - comma - 1);
    last.erase(0, last.find_first_not_of(' '));
    last.erase(last.find_last_not_of(' ') + 1);
    if (last.empty() || last.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoll(last);
  }
  return -2;  // no actions at all
}
}  // namespace

ScaledActionsDataset::ScaledActionsDataset(std::shared_ptr<Dataset> base, ActionScaler scaler,
                                           std::string scaler_file)
    : base_(std::move(base)), scaler_(std::move(scaler)), scaler_file_(std::move(scaler_file)) {
  int64_t width = declared_action_width(*base_);
  if (width == -2)
    throw Error("action_scaler " + scaler_file_ + " given, but the dataset has no 'actions' key");
  if (width >= 0 && width != scaler_.size())
    throw Error("action_scaler " + scaler_file_ + " has " + std::to_string(scaler_.size()) +
                " dimensions, the dataset's actions have " + std::to_string(width) +
                "; fit the scaler on the same action fields");
}

Sample ScaledActionsDataset::get(int64_t index) const {
  Sample sample = base_->get(index);
  auto it = sample.tensors.find("actions");
  if (it == sample.tensors.end())
    throw Error("action_scaler " + scaler_file_ + ": sample '" + sample.id + "' has no 'actions'");
  try {
    it->second = scaler_.apply(it->second);
  } catch (const Error& e) {
    throw Error("action_scaler " + scaler_file_ + ": " + e.what());
  }
  return sample;
}

std::vector<KeySpec> ScaledActionsDataset::keys() const {
  auto keys = base_->keys();
  for (auto& key : keys)
    if (key.name == "actions") key.doc += " (standardised by " + scaler_file_ + ")";
  return keys;
}

}  // namespace wm::io
