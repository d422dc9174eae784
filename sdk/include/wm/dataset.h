// Dataset: a sized, random-access collection of samples. Splits, subsets, shuffling and
// prefetching wrap a dataset; they are not flags inside every plugin.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "wm/component.h"
#include "wm/sample.h"

namespace wm {

class Dataset : public Component {
 public:
  static constexpr Kind kind = Kind::Dataset;
  ~Dataset() override;

  virtual int64_t size() const = 0;
  // Called by several loader threads at once: keep it free of shared mutable state (open a
  // decoder per call, or guard shared handles). A sample that cannot be read throws
  // wm::DataError(source, what); the loader skips it.
  virtual Sample get(int64_t index) const = 0;
  // the keys every sample carries, checked against a model's needs before a run starts
  virtual std::vector<KeySpec> keys() const = 0;
  // a stable id without loading the sample; override when get() is expensive
  virtual std::string id(int64_t index) const;
  // the unit a split keeps together (a video, an episode, a listed file): samples of one group
  // never land in two splits. The default is the id up to its first '@' (the whole id without one);
  // override when segments or clips of one source carry other ids
  virtual std::string group(int64_t index) const;
};

}  // namespace wm
