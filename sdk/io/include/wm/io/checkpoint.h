// Checkpoints: named tensors in one file, written atomically (temporary file + rename), so a
// kill at any moment leaves either the previous checkpoint or the new one, never half of one.
#pragma once
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace wm::io {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

void save_tensors(const std::filesystem::path& file, const NamedTensors& tensors);
NamedTensors load_tensors(const std::filesystem::path& file);

// the entries whose names start with `prefix`, with the prefix removed
NamedTensors with_prefix(const NamedTensors& tensors, const std::string& prefix);
// copies values into `into` by name; every name of `into` must be present with the same shape
void copy_by_name(const NamedTensors& from, const NamedTensors& into, const std::string& what);

// a PyTorch state dict saved by Python's torch.save (zip format), e.g. an official pretrained
// checkpoint; a top-level "model", "module" or "state_dict" entry is unwrapped
NamedTensors load_state_dict(const std::filesystem::path& file);
// copies `from` into `into` by name; lists what is missing and unexpected in one error
void load_matching(const NamedTensors& from, const NamedTensors& into, const std::string& what);

}  // namespace wm::io
