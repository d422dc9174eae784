#include "runtime.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <thread>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "wm/error.h"

namespace wm {

int set_compute_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  return threads;
}

bool reuse_freed_memory() {
#ifdef __GLIBC__
  // blocks up to 32 MiB (glibc's ceiling for this setting) come from the heap, not fresh
  // mappings, and up to 256 MiB of free heap stays mapped instead of being trimmed after frees
  return mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1;
#else
  return false;
#endif
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
