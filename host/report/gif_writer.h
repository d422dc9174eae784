// Animated GIF previews (e.g. prediction | ground truth side by side) that any browser plays.
// Needs no codec library: a fixed 6x6x6 colour cube plus 40 greys, LZW-compressed (GIF89a).
#pragma once
#include <ATen/core/Tensor.h>

#include <filesystem>

namespace wm {

// frames: uint8 [T, 3, H, W] or float [T, 3, H, W] in [0, 1]; written atomically
void write_gif(const std::filesystem::path& file, const at::Tensor& frames, int frame_delay_ms = 200,
               int scale = 1);

}  // namespace wm
