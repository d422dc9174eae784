// Model: turns a batch into named outputs. For evaluation a model returns `prediction` and the
// `target` it should be judged against (e.g. frame t+k), so any metric can score any model.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "wm/component.h"
#include "wm/sample.h"

namespace wm {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

class Model : public Component {
 public:
  static constexpr Kind kind = Kind::Model;
  ~Model() override;

  // batch keys the model reads, e.g. {"video", "actions"}
  virtual std::vector<std::string> required_keys() const = 0;
  // inference outputs, at least `prediction` and `target`
  virtual TensorMap predict(const Batch& batch) = 0;
  // trainable parameters under their checkpoint names (empty for a fixed baseline)
  virtual NamedTensors parameters() const { return {}; }
};

}  // namespace wm
