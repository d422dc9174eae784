// Process-wide compute settings, kept behind a narrow header so the host needs no LibTorch ones.
#pragma once
#include <string>

namespace wm {

// sets LibTorch's intra-op threads; 0 means every core (LibTorch defaults to 1 on Debian)
int set_compute_threads(int threads);
// "cpu" always; "cuda" when this LibTorch build sees a GPU. Otherwise throws with what to do.
void require_device(const std::string& device);

}  // namespace wm
