// Pretrained weight files: where plugins look for them when the YAML names none, and a loader
// for the one checkpoint format LibTorch reads without Python (a zip-format torch.save of a
// plain dict of tensors; scripts/convert_torch_weights.py rewrites anything else into it).
#pragma once
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace wm::io {

//---- finding files ----

// $WMHOST_WEIGHTS if set, else ~/.cache/wmhost/weights
std::filesystem::path weights_dir();

// `configured` when not empty (it must exist); else the first of weights_dir()/folder/<name>
// that exists; else an empty path, so the caller can say which file to get
std::filesystem::path find_weight_file(const std::string& configured, const std::string& folder,
                                       const std::vector<std::string>& names);

//---- reading files ----

using StateDict = std::map<std::string, at::Tensor>;

// the tensors of a zip-format torch.save({name: tensor}) file. A legacy (non-zip) pickle, an
// OrderedDict state_dict or a wrapped checkpoint throws with the converter command to run.
StateDict load_weight_file(const std::filesystem::path& file);

// the converter command for `file`, as the error messages print it
std::string convert_weights_command(const std::filesystem::path& file);

}  // namespace wm::io
