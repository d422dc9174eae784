// Process-wide compute settings, kept behind a narrow header so the host needs no LibTorch ones.
#pragma once
#include <string>

namespace wm {

// sets LibTorch's intra-op threads; 0 means every core (LibTorch defaults to 1 on Debian)
int set_compute_threads(int threads);
// Keeps memory the process frees for its next allocations (glibc malloc). Tensor code frees and
// allocates buffers of megabytes per sample; by default glibc hands them back to the kernel and
// takes them again as fresh zeroed pages, which made the data loader 3x slower than PyTorch's
// (bench/loader). Call once at start-up (safe with threads running); false where the C library
// has no such setting.
bool reuse_freed_memory();
// "cpu" always; "cuda" when this LibTorch build sees a GPU. Otherwise throws with what to do.
void require_device(const std::string& device);

}  // namespace wm
