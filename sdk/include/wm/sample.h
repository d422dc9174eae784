// The data contract: a sample is a dictionary of named tensors plus a little metadata; a batch is
// the same dictionary with a leading batch dimension. Conventional keys are listed in
// docs/data_contract.md (video, actions, action_label, state, reward, success, pose, tokens/*).
#pragma once
#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

namespace wm {

using TensorMap = std::map<std::string, at::Tensor>;

//---- samples and batches ----

struct Sample {
  TensorMap tensors;
  std::string id;      // stable across runs; splits hash it
  std::string source;  // the file it came from, if any
  std::string text;    // caption, label name or step description
};

struct Batch {
  TensorMap tensors;
  std::vector<std::string> ids;
  std::vector<std::string> sources;  // each sample's file, if any
  int64_t size() const { return static_cast<int64_t>(ids.size()); }
  // the tensor under key; a missing key throws and lists the keys that exist
  const at::Tensor& at(const std::string& key) const;
};

// stacks samples into a batch. Every sample must have the same keys and shapes. A uint8 `video`
// becomes float32 in [0, 1], which is what every model consumes.
Batch collate(const std::vector<Sample>& samples);

//---- declared keys ----

// what a dataset promises to deliver, so the host can check a model's needs before it runs
struct KeySpec {
  std::string name;   // "video"
  std::string dtype;  // "uint8", "float32", "int64", "bool"
  std::string shape;  // "[T, 3, H, W]"
  std::string doc;
};

// moves every tensor of the batch to "cpu" or "cuda"
void move_to(Batch& batch, const std::string& device);

// "[2, 8, 3, 64, 64] float32"
std::string describe_tensor(const at::Tensor& tensor);

}  // namespace wm
