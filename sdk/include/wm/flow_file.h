// Optical-flow files: Middlebury .flo (Sintel, FlyingChairs) and KITTI 16-bit PNG. A flow field
// is [2, H, W] float32 (u right, v down, in pixels) with a [H, W] bool mask of known pixels.
#pragma once
#include <ATen/core/Tensor.h>

#include <filesystem>

namespace wm::io {

struct FlowField {
  at::Tensor flow;   // [2, H, W] float32
  at::Tensor valid;  // [H, W] bool
};

//---- by extension: .flo or .png ----

FlowField read_flow(const std::filesystem::path& file);
// `valid` may be undefined (every pixel known); .flo marks unknown pixels with 1e10
void write_flow(const std::filesystem::path& file, const at::Tensor& flow,
                const at::Tensor& valid = {});

//---- Middlebury .flo: "PIEH" (float 202021.25), int32 width, height, then (u, v) per pixel ----

FlowField read_flo(const std::filesystem::path& file);  // |u| or |v| > 1e9 is unknown
void write_flo(const std::filesystem::path& file, const at::Tensor& flow,
               const at::Tensor& valid = {});

//---- KITTI: 16-bit RGB PNG holding (u * 64 + 2^15, v * 64 + 2^15, valid) ----

FlowField read_kitti_png(const std::filesystem::path& file);
// flow is rounded to 1/64 px and clamped to the format's +-512 px
void write_kitti_png(const std::filesystem::path& file, const at::Tensor& flow,
                     const at::Tensor& valid = {});

}  // namespace wm::io
