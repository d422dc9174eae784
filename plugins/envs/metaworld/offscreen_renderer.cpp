#include "offscreen_renderer.h"

#include "wm/error.h"
#include "wm/log.h"

namespace wm::metaworld {

namespace {

// a context bound for one scope; released at its end so another thread can draw with it next
class Bound {
 public:
  explicit Bound(GlContext& gl) : gl_(gl) { gl_.make_current(); }
  ~Bound() { gl_.release(); }
  Bound(const Bound&) = delete;
  Bound& operator=(const Bound&) = delete;

 private:
  GlContext& gl_;
};

}  // namespace

struct OffscreenRenderer::Context {
  std::unique_ptr<GlContext> gl;
  mjvScene scene;
  mjvCamera camera;
  mjvOption option;
  mjrContext render;
};

std::vector<std::string> OffscreenRenderer::camera_names(const mjModel* model) {
  std::vector<std::string> names;
  for (int i = 0; i < model->ncam; ++i) names.push_back(mj_id2name(model, mjOBJ_CAMERA, i));
  return names;
}

OffscreenRenderer::OffscreenRenderer(const mjModel* model, const std::string& camera, int width,
                                     int height, const std::string& gl, int egl_device)
    : model_(model), width_(width), height_(height), context_(std::make_unique<Context>()) {
  camera_ = mj_name2id(model, mjOBJ_CAMERA, camera.c_str());
  if (camera_ < 0) {
    std::string list;
    for (const auto& name : camera_names(model)) list += (list.empty() ? "" : ", ") + name;
    throw Error("metaworld: unknown camera '" + camera + "'; the cameras are: " + list);
  }
  if (width < 1 || height < 1 || width > model->vis.global.offwidth || height > model->vis.global.offheight)
    throw Error("metaworld: image size " + std::to_string(width) + "x" + std::to_string(height) +
                " is outside 1.." + std::to_string(model->vis.global.offwidth) + "x" +
                std::to_string(model->vis.global.offheight));
  Context& c = *context_;
  c.gl = GlContext::create(gl, egl_device, width, height);
  Bound bound(*c.gl);
  mjv_defaultScene(&c.scene);
  mjv_defaultCamera(&c.camera);
  mjv_defaultOption(&c.option);
  mjr_defaultContext(&c.render);
  mjv_makeScene(model, &c.scene, 2000);
  mjr_makeContext(model, &c.render, mjFONTSCALE_100);
  mjr_setBuffer(mjFB_OFFSCREEN, &c.render);
  c.camera.type = mjCAMERA_FIXED;
  c.camera.fixedcamid = camera_;
  rgb_.resize(static_cast<size_t>(width) * height * 3);
}

OffscreenRenderer::~OffscreenRenderer() {
  Context& c = *context_;
  try {
    Bound bound(*c.gl);
    mjr_freeContext(&c.render);
  } catch (const std::exception& e) {
    // a destructor must not throw; destroying the context frees its GL objects anyway
    log().warn("metaworld: could not free the renderer's GL objects: {}", e.what());
  }
  mjv_freeScene(&c.scene);
}

void OffscreenRenderer::render(const mjData* data, uint8_t* out) {
  Context& c = *context_;
  mjrRect viewport{0, 0, width_, height_};
  mjv_updateScene(model_, const_cast<mjData*>(data), &c.option, nullptr, &c.camera, mjCAT_ALL, &c.scene);
  {
    Bound bound(*c.gl);
    mjr_render(viewport, &c.scene, &c.render);
    mjr_readPixels(rgb_.data(), nullptr, viewport, &c.render);
  }
  // OpenGL rows run bottom-up; interleaved RGB becomes channels-first
  const size_t plane = static_cast<size_t>(width_) * height_;
  for (int row = 0; row < height_; ++row) {
    const uint8_t* src = rgb_.data() + static_cast<size_t>(height_ - 1 - row) * width_ * 3;
    for (int col = 0; col < width_; ++col)
      for (int ch = 0; ch < 3; ++ch) out[ch * plane + static_cast<size_t>(row) * width_ + col] = src[col * 3 + ch];
  }
}

}  // namespace wm::metaworld
