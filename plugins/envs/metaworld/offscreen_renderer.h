// Off-screen rendering of a MuJoCo scene with MuJoCo's mjr_* renderer in an EGL (GPU) or OSMesa
// (CPU) context: one GL context per renderer, bound on whatever thread renders, so environments
// stepped by a thread pool each render into their own buffer.
#pragma once
#include <mujoco/mujoco.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gl_context.h"

namespace wm::metaworld {

class OffscreenRenderer {
 public:
  // throws if `camera` is not in the model, the size exceeds the model's offscreen buffer or the
  // GL backend (gl_context.h) is missing
  OffscreenRenderer(const mjModel* model, const std::string& camera, int width, int height,
                    const std::string& gl = "auto", int egl_device = -1);
  ~OffscreenRenderer();
  OffscreenRenderer(const OffscreenRenderer&) = delete;
  OffscreenRenderer& operator=(const OffscreenRenderer&) = delete;

  // RGB, channels first: [3, height, width], row 0 at the top
  void render(const mjData* data, uint8_t* out);
  int width() const { return width_; }
  int height() const { return height_; }

  static std::vector<std::string> camera_names(const mjModel* model);

 private:
  struct Context;
  const mjModel* model_;
  int camera_, width_, height_;
  std::unique_ptr<Context> context_;
  std::vector<uint8_t> rgb_;
};

}  // namespace wm::metaworld
