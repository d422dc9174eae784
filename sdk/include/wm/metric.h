// Metric: stateful. reset(), update() with each batch's model outputs, compute() named values.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "wm/component.h"
#include "wm/error.h"
#include "wm/sample.h"

namespace wm {

class Metric : public Component {
 public:
  static constexpr Kind kind = Kind::Metric;
  ~Metric() override;

  // output keys the metric reads, e.g. {"prediction", "target"}
  virtual std::vector<std::string> required_keys() const = 0;
  virtual void reset() = 0;
  virtual void update(const TensorMap& outputs) = 0;
  // named values, e.g. {"psnr": 27.3, "mse": 0.0019}
  virtual std::map<std::string, double> compute() const = 0;
  // adds the state of another instance of the same plugin (another loader worker or process),
  // as if this one had seen its updates too
  virtual void merge(const Metric& other) = 0;
};

// the other instance in merge() as the plugin's own type; a different metric throws
template <class Self>
const Self& merge_source(const Metric& other, const char* name) {
  auto* same = dynamic_cast<const Self*>(&other);
  if (!same) throw Error(std::string(name) + ": cannot merge the state of a different metric");
  return *same;
}

}  // namespace wm
