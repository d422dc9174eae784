#include "wm/sample.h"

#include <ATen/ATen.h>

#include "wm/error.h"

namespace wm {

const at::Tensor& Batch::at(const std::string& key) const {
  auto it = tensors.find(key);
  if (it != tensors.end()) return it->second;
  std::string known;
  for (const auto& [name, _] : tensors) known += (known.empty() ? "" : ", ") + name;
  throw Error("batch has no key '" + key + "' (it has: " + known + ")");
}

std::string describe_tensor(const at::Tensor& tensor) {
  std::string text = "[";
  for (int64_t d = 0; d < tensor.dim(); ++d)
    text += (d ? ", " : "") + std::to_string(tensor.size(d));
  return text + "] " + std::string(c10::toString(tensor.scalar_type()));
}

void move_to(Batch& batch, const std::string& device) {
  if (device == "cpu") return;  // collate builds on the CPU
  for (auto& [key, tensor] : batch.tensors) tensor = tensor.to(c10::Device(device), /*non_blocking=*/true);
}

Batch collate(const std::vector<Sample>& samples) {
  WM_CHECK(!samples.empty()) << "collate needs at least one sample";
  Batch batch;
  const Sample& first = samples.front();
  for (const auto& [key, tensor] : first.tensors) {
    std::vector<at::Tensor> parts;
    parts.reserve(samples.size());
    for (const auto& sample : samples) {
      auto it = sample.tensors.find(key);
      if (it == sample.tensors.end())
        throw Error("cannot batch sample '" + sample.id + "': it lacks key '" + key +
                    "' that sample '" + first.id + "' has");
      if (!it->second.sizes().equals(tensor.sizes()))
        throw Error("cannot batch key '" + key + "': sample '" + sample.id + "' is " +
                    describe_tensor(it->second) + " but sample '" + first.id + "' is " +
                    describe_tensor(tensor));
      parts.push_back(it->second);
    }
    at::Tensor stacked = at::stack(parts);
    if (key == "video" && stacked.scalar_type() == at::kByte)
      stacked = stacked.to(at::kFloat).div_(255.0);
    batch.tensors.emplace(key, std::move(stacked));
  }
  for (const auto& sample : samples) batch.ids.push_back(sample.id), batch.sources.push_back(sample.source);
  return batch;
}

}  // namespace wm
