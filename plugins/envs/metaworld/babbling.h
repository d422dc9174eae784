// Babbling for interaction data (the NSCA plan): short affordance primitives around the object,
// chosen uniformly or by a PrimitiveChooser, each a few dozen steps long.
#pragma once
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "simulation.h"

namespace wm::metaworld {

class Babbler {
 public:
  static const std::vector<std::string>& primitives();  // reach, grasp, lift, shake, drop, strike, push

  // `free_object`: the object can be lifted; otherwise it is a handle on a hinge or slide
  void reset(uint64_t seed, bool free_object);
  // the next action; `choose` picks a primitive index when one is needed, `outcome` hears how the
  // finished one went (its share of steps with hand-object contact)
  Action act(const Observation& obs, bool contact, const std::function<size_t()>& choose,
             const std::function<void(size_t, double)>& outcome);
  const std::string& current() const { return primitives()[primitive_]; }

 private:
  void start(size_t primitive, const Observation& obs);

  std::mt19937_64 rng_;
  size_t primitive_ = 0;
  int step_ = 0, length_ = 0, contacts_ = 0;
  bool active_ = false;
  int grasped_at_ = -1;    // lift, shake, drop: the step the hand first took the object
  bool released_ = false;  // drop: the hand has let go
  bool free_object_ = true;
  Vec3 anchor_{}, direction_{};
};

}  // namespace wm::metaworld
