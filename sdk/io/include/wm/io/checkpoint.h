// Checkpoints in PyTorch's own torch.save format: a zip holding one pickled dict, readable in
// Python with `torch.load(path, weights_only=True)`. Entries are named with "/" as the nesting
// separator ("model/encoder.norm.weight" is checkpoint["model"]["encoder.norm.weight"]); values are
// tensors, integers or texts, the types torch.load's weights_only mode accepts (PyTorch 1.13 reads
// no Python floats there: store reals as 0-d double tensors). The file is serialised in memory
// and written atomically (temporary file, fsync, rename, fsync of the folder), so a kill or a full
// disk leaves the previous checkpoint or the new one, never half of one, and a failed write is a
// wm::Error. Checkpoints of wmhost before this format (TorchScript archives of name_i/value_i
// pairs) are still read.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace wm::io {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// one value of a checkpoint: a tensor, an integer or a text
using CheckpointValue = std::variant<at::Tensor, int64_t, std::string>;
using CheckpointEntries = std::vector<std::pair<std::string, CheckpointValue>>;

// the torch.save bytes of `entries` nested at "/" (tensors copied to the CPU, views compacted)
std::string checkpoint_bytes(const CheckpointEntries& entries);
void save_checkpoint(const std::filesystem::path& file, const CheckpointEntries& entries);
// every leaf of a torch.save dict (nested dicts flattened with "/"; floats and bools become
// 0-d tensors and integers, lists and other values are left out), or of an older wmhost checkpoint
CheckpointEntries load_checkpoint(const std::filesystem::path& file);

// the tensors alone, saved and loaded through the same format
void save_tensors(const std::filesystem::path& file, const NamedTensors& tensors);
NamedTensors load_tensors(const std::filesystem::path& file);

// the tensor entries alone
NamedTensors tensors_of(const CheckpointEntries& entries);
// the value named `name` as an integer (an integer entry or a one-element tensor); none if absent
std::optional<int64_t> checkpoint_integer(const CheckpointEntries& entries,
                                          const std::string& name);

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
