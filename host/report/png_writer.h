// PNG images (8-bit RGB, zlib-compressed) for TensorBoard's image plugin and anything else that
// wants a still picture; any image viewer and PIL read them.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>

namespace wm {

// image: uint8 [3, H, W] or float [3, H, W] in [0, 1]; returns the bytes of a .png file
std::string encode_png(const at::Tensor& image);

}  // namespace wm
