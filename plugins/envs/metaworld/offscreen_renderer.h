// Off-screen rendering of a MuJoCo scene on the CPU (OSMesa + MuJoCo's mjr_* renderer): one GL
// context per renderer, made current on whatever thread renders, so environments stepped by a
// thread pool each render into their own buffer.
#pragma once
#include <mujoco/mujoco.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace wm::metaworld {

class OffscreenRenderer {
 public:
  // throws if `camera` is not in the model or the size exceeds the model's offscreen buffer
  OffscreenRenderer(const mjModel* model, const std::string& camera, int width, int height);
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
