// An environment that can act in itself: scripted experts, babbling. Procedures (collect) find
// it with dynamic_cast<wm::ScriptedPolicy*>(&env); an env without policies does not derive it.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "wm/sample.h"

namespace wm {

//---- choosing babbling primitives ----

// Picks the next short controller (e.g. "grasp", "push") for babbling. The default is uniform;
// a competence-driven chooser learns from outcome().
class PrimitiveChooser {
 public:
  virtual ~PrimitiveChooser();
  virtual size_t choose(const std::vector<std::string>& primitives, const TensorMap& observation) = 0;
  // a primitive ended; competence in [0, 1] (e.g. the share of its steps with contact)
  virtual void outcome(size_t primitive, double competence) {}
};

//---- policies the environment knows ----

class ScriptedPolicy {
 public:
  virtual ~ScriptedPolicy();
  virtual std::vector<std::string> policies() const = 0;  // e.g. {"expert", "babble"}
  // the action `policy` takes in the current state (after reset() or step())
  virtual at::Tensor act(const std::string& policy) = 0;
  // used by babbling from the next primitive on; nullptr restores uniform choice
  virtual void set_chooser(std::shared_ptr<PrimitiveChooser> chooser) = 0;
};

}  // namespace wm
