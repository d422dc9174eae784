#include "wm/nn/sample_random.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "wm/error.h"

namespace wm::nn {

at::Tensor sample_seeds(const std::map<std::string, at::Tensor>& batch) {
  auto it = batch.find("sample_seed");
  return it == batch.end() ? at::Tensor() : it->second;
}

at::Tensor uniform_per_sample(const at::Tensor& seeds, int64_t batch, int64_t count) {
  if (!seeds.defined()) return at::rand({batch, count}, at::kDouble);
  if (seeds.dim() != 1 || seeds.size(0) != batch)
    throw Error("sample_seed holds " + std::to_string(seeds.numel()) + " seeds for a batch of " +
                std::to_string(batch));
  auto values = seeds.to(at::kCPU, at::kLong).contiguous();
  const int64_t* seed = values.data_ptr<int64_t>();
  auto rows = at::empty({batch, count}, at::kDouble);
  for (int64_t i = 0; i < batch; ++i) {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed[i]));
    rows[i].uniform_(0.0, 1.0, generator);
  }
  return rows;
}

}  // namespace wm::nn
