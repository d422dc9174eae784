#include "wm/runtime.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <thread>

#include "wm/error.h"

namespace wm {

int set_compute_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  return threads;
}

void require_device(const std::string& device) {
  if (device == "cpu") return;
  if (device == "cuda") {
    if (at::hasCUDA()) return;
    throw Error("device 'cuda' requested, but this LibTorch build sees no CUDA device; "
                "use device: cpu or build wmhost against a CUDA LibTorch");
  }
  throw Error("unknown device '" + device + "' (use cpu or cuda)");
}

}  // namespace wm
