// Weights from another run: `train.init_from` and the `load` procedure. A checkpoint file, or a
// run folder (its last train step's checkpoint folder: best.pt, else the newest step-*.pt).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "wm/io/checkpoint.h"

namespace wm {

// the checkpoint file `path` stands for; throws wm::Error naming what it looked for
std::filesystem::path checkpoint_file(const std::filesystem::path& path);

struct InitResult {
  std::filesystem::path file;
  int64_t loaded = 0;                // tensors copied
  std::vector<std::string> skipped;  // "name: why", strict: false only
};

// copies the checkpoint's tensors under `prefix` into `into` (a model's state) by name.
// strict: every name of both sides must match in name and shape; the first mismatch (in the
// model's order, then the checkpoint's extra names) throws naming the tensor and both shapes.
// Not strict: matching names and shapes are copied, the rest listed in `skipped`.
InitResult init_weights(const std::filesystem::path& path, const std::string& prefix, bool strict,
                        const io::NamedTensors& into);

// "[3, 64, 4, 4]"
std::string shape_text(const at::Tensor& tensor);

}  // namespace wm
