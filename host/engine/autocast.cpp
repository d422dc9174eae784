#include "engine/autocast.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace wm::train {

namespace {

// LibTorch 2.4 names the device in every call; 1.13 has one function per device
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
at::DeviceType type_of(bool cuda) { return cuda ? at::kCUDA : at::kCPU; }
bool enabled(bool cuda) { return at::autocast::is_autocast_enabled(type_of(cuda)); }
void enable(bool cuda, bool on) { at::autocast::set_autocast_enabled(type_of(cuda), on); }
at::ScalarType autocast_type(bool cuda) { return at::autocast::get_autocast_dtype(type_of(cuda)); }
void set_autocast_type(bool cuda, at::ScalarType type) {
  at::autocast::set_autocast_dtype(type_of(cuda), type);
}
#else
bool enabled(bool cuda) {
  return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void enable(bool cuda, bool on) {
  cuda ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on);
}
at::ScalarType autocast_type(bool cuda) {
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast_type(bool cuda, at::ScalarType type) {
  cuda ? at::autocast::set_autocast_gpu_dtype(type) : at::autocast::set_autocast_cpu_dtype(type);
}
#endif

}  // namespace

Autocast::Autocast(const std::string& device, const std::string& precision) {
  if (precision != "bf16") return;
  on_ = true;
  cuda_ = device.rfind("cuda", 0) == 0;
  was_enabled_ = enabled(cuda_);
  previous_type_ = static_cast<int>(autocast_type(cuda_));
  enable(cuda_, true);
  set_autocast_type(cuda_, at::kBFloat16);
  at::autocast::increment_nesting();
}

Autocast::~Autocast() {
  if (!on_) return;
  // the weights cast for this forward pass are dropped when the outermost scope ends
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  enable(cuda_, was_enabled_);
  set_autocast_type(cuda_, static_cast<at::ScalarType>(previous_type_));
}

}  // namespace wm::train
