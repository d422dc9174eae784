#include "wm/train/checkpoint.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize.h>

#include <map>

#include "wm/error.h"

namespace wm::train {

void save_tensors(const std::filesystem::path& file, const NamedTensors& tensors) {
  torch::serialize::OutputArchive archive;
  // entries are numbered: the archive nests names at each "."
  for (size_t i = 0; i < tensors.size(); ++i) {
    archive.write("name_" + std::to_string(i), at::tensor(std::vector<int64_t>(
                                                   tensors[i].first.begin(), tensors[i].first.end())));
    archive.write("value_" + std::to_string(i), tensors[i].second.detach().cpu());
  }
  archive.write("count", at::scalar_tensor(static_cast<int64_t>(tensors.size()), at::kLong));
  auto temporary = file;
  temporary += ".tmp";
  archive.save_to(temporary.string());
  std::filesystem::rename(temporary, file);
}

NamedTensors load_tensors(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) throw Error("no checkpoint at " + file.string());
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(file.string());
  } catch (const std::exception& e) {
    throw Error("cannot read checkpoint " + file.string() + ": " + e.what());
  }
  at::Tensor count;
  archive.read("count", count);
  NamedTensors tensors;
  for (int64_t i = 0; i < count.item<int64_t>(); ++i) {
    at::Tensor name_codes, value;
    archive.read("name_" + std::to_string(i), name_codes);
    archive.read("value_" + std::to_string(i), value);
    std::string name;
    for (int64_t c = 0; c < name_codes.numel(); ++c)
      name += static_cast<char>(name_codes[c].item<int64_t>());
    tensors.emplace_back(name, value);
  }
  return tensors;
}

NamedTensors with_prefix(const NamedTensors& tensors, const std::string& prefix) {
  NamedTensors found;
  for (const auto& [name, tensor] : tensors)
    if (name.rfind(prefix, 0) == 0) found.emplace_back(name.substr(prefix.size()), tensor);
  return found;
}

void copy_by_name(const NamedTensors& from, const NamedTensors& into, const std::string& what) {
  std::map<std::string, at::Tensor> by_name(from.begin(), from.end());
  at::NoGradGuard no_grad;
  for (const auto& [name, target] : into) {
    auto it = by_name.find(name);
    if (it == by_name.end()) throw Error(what + " lacks '" + name + "'");
    if (!it->second.sizes().equals(target.sizes()))
      throw Error(what + ": '" + name + "' has shape " + std::to_string(it->second.numel()) +
                  " elements, expected " + std::to_string(target.numel()));
    const_cast<at::Tensor&>(target).copy_(it->second);
  }
}

at::Tensor random_state() { return at::detail::getDefaultCPUGenerator().get_state(); }

void set_random_state(const at::Tensor& state) {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

void seed_everything(uint64_t seed) {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_current_seed(seed);
}

}  // namespace wm::train
