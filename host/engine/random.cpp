#include "engine/random.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

namespace wm::train {

namespace {
// the default generators by device name: the CPU's, then each GPU's
std::vector<std::pair<std::string, at::Generator>> default_generators() {
  std::vector<std::pair<std::string, at::Generator>> generators{{"cpu", at::detail::getDefaultCPUGenerator()}};
  if (at::hasCUDA())
    for (int64_t i = 0; i < at::detail::getCUDAHooks().getNumGPUs(); ++i) {
      at::Device device(at::kCUDA, static_cast<at::DeviceIndex>(i));
      generators.emplace_back(device.str(), at::globalContext().defaultGenerator(device));
    }
  return generators;
}
}  // namespace

NamedTensors random_states() {
  NamedTensors states;
  for (auto& [name, generator] : default_generators()) {
    std::lock_guard<std::mutex> lock(generator.mutex());
    states.emplace_back(name, generator.get_state());
  }
  return states;
}

void set_random_states(const NamedTensors& states) {
  for (auto& [name, generator] : default_generators())
    for (const auto& [saved_name, state] : states)
      if (saved_name == name) {
        std::lock_guard<std::mutex> lock(generator.mutex());
        generator.set_state(state);
      }
}

void seed_everything(uint64_t seed) {
  for (auto& [name, generator] : default_generators()) {
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_current_seed(seed);
  }
}

}  // namespace wm::train
