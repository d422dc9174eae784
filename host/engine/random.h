// The process-wide random generators: seeding, and their states for a checkpoint.
#pragma once
#include <cstdint>

#include "wm/io/checkpoint.h"

namespace wm::train {

using io::NamedTensors;

// The default random generators' states by device ("cpu", "cuda:0", ...), to save and restore
// with a checkpoint. Restoring sets the devices this process has; others are left out, so a run
// moves between machines.
NamedTensors random_states();
void set_random_states(const NamedTensors& states);
// seeds the CPU's generator and every GPU's
void seed_everything(uint64_t seed);

}  // namespace wm::train
