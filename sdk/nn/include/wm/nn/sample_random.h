// Randomness a model draws for each sample during loss() (frame pairs, masks), taken from the
// seed the host's loader puts in every batch (`sample_seed`, int64 [B], fixed by the run's seed,
// the sample's id and the epoch). A sample then gets the same draws in any batch, in any batch
// size and on any rank of a data-parallel run; a batch without the key (made by hand in a test)
// draws from LibTorch's generator.
#pragma once
#include <ATen/core/Tensor.h>

#include <map>
#include <string>

namespace wm::nn {

// the batch's `sample_seed` tensor, or an undefined tensor when it has none
at::Tensor sample_seeds(const std::map<std::string, at::Tensor>& batch);

// [batch, count] float64 uniform in [0, 1) on the CPU; row i from a generator seeded by seeds[i]
// (or, for undefined seeds, every row from LibTorch's generator)
at::Tensor uniform_per_sample(const at::Tensor& seeds, int64_t batch, int64_t count);

}  // namespace wm::nn
