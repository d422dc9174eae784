#include "offscreen_renderer.h"

#include <dlfcn.h>


#include "wm/error.h"

namespace wm::metaworld {

namespace {

// OSMesa is opened at run time, so the plugin loads (and state-only observations work) on a
// machine without it; only asking for pixels needs it. Declarations as in GL/osmesa.h.
using OSMesaContext = void*;
constexpr unsigned kOsmesaRgba = 0x1908, kGlUnsignedByte = 0x1401;

struct OsMesa {
  OSMesaContext (*create)(unsigned format, int depth, int stencil, int accum, OSMesaContext share);
  unsigned char (*make_current)(OSMesaContext, void* buffer, unsigned type, int width, int height);
  void (*destroy)(OSMesaContext);
};

const OsMesa& osmesa() {
  static const OsMesa api = [] {
    // global, so MuJoCo's GL loader finds OSMesaGetProcAddress
    void* library = dlopen("libOSMesa.so.8", RTLD_NOW | RTLD_GLOBAL);
    if (!library) library = dlopen("libOSMesa.so", RTLD_NOW | RTLD_GLOBAL);
    if (!library)
      throw Error("metaworld: pixels need OSMesa, which is not installed (Debian/Ubuntu: apt install "
                  "libosmesa6); state-only observations (camera: none) work without it");
    OsMesa api{};
    api.create = reinterpret_cast<decltype(api.create)>(dlsym(library, "OSMesaCreateContextExt"));
    api.make_current = reinterpret_cast<decltype(api.make_current)>(dlsym(library, "OSMesaMakeCurrent"));
    api.destroy = reinterpret_cast<decltype(api.destroy)>(dlsym(library, "OSMesaDestroyContext"));
    if (!api.create || !api.make_current || !api.destroy)
      throw Error("metaworld: libOSMesa lacks OSMesaCreateContextExt; reinstall libosmesa6");
    return api;
  }();
  return api;
}

}  // namespace

struct OffscreenRenderer::Context {
  OSMesaContext gl = nullptr;
  std::vector<uint8_t> framebuffer;  // OSMesa's window buffer; MuJoCo draws into its own FBO
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
                                     int height)
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
  c.gl = osmesa().create(kOsmesaRgba, 24, 8, 0, nullptr);
  if (!c.gl)
    throw Error("metaworld: cannot create an OSMesa GL context for pixels (install libosmesa6: "
                "apt install libosmesa6); state-only observations work without it");
  c.framebuffer.resize(static_cast<size_t>(width) * height * 4);
  if (!osmesa().make_current(c.gl, c.framebuffer.data(), kGlUnsignedByte, width, height)) {
    osmesa().destroy(c.gl);
    throw Error("metaworld: OSMesaMakeCurrent failed; check the libosmesa6 installation");
  }
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
  osmesa().make_current(c.gl, c.framebuffer.data(), kGlUnsignedByte, width_, height_);
  mjr_freeContext(&c.render);
  mjv_freeScene(&c.scene);
  osmesa().destroy(c.gl);
}

void OffscreenRenderer::render(const mjData* data, uint8_t* out) {
  Context& c = *context_;
  if (!osmesa().make_current(c.gl, c.framebuffer.data(), kGlUnsignedByte, width_, height_))
    throw Error("metaworld: OSMesaMakeCurrent failed while rendering");
  mjrRect viewport{0, 0, width_, height_};
  mjv_updateScene(model_, const_cast<mjData*>(data), &c.option, nullptr, &c.camera, mjCAT_ALL, &c.scene);
  mjr_render(viewport, &c.scene, &c.render);
  mjr_readPixels(rgb_.data(), nullptr, viewport, &c.render);
  // OpenGL rows run bottom-up; interleaved RGB becomes channels-first
  const size_t plane = static_cast<size_t>(width_) * height_;
  for (int row = 0; row < height_; ++row) {
    const uint8_t* src = rgb_.data() + static_cast<size_t>(height_ - 1 - row) * width_ * 3;
    for (int col = 0; col < width_; ++col)
      for (int ch = 0; ch < 3; ++ch) out[ch * plane + static_cast<size_t>(row) * width_ + col] = src[col * 3 + ch];
  }
}

}  // namespace wm::metaworld
