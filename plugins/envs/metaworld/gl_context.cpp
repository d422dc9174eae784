#include "gl_context.h"

#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <mutex>

#include "wm/error.h"
#include "wm/log.h"

namespace wm::metaworld {

const std::vector<std::string>& gl_backends() {
  static const std::vector<std::string> names = {"auto", "egl", "osmesa"};
  return names;
}

namespace {

// Mesa's CPU renderers crash now and then when two threads draw at once, even into separate
// contexts (seen with OSMesa 22.3 under wm::VectorEnv: both threads inside libOSMesa, one of
// them segfaulting). Their contexts are made, bound, drawn with and destroyed one at a time;
// each draw still uses llvmpipe's own threads. GPU contexts draw concurrently.
class SoftwareDrawing {
 public:
  static std::mutex& turns() {
    static std::mutex one;
    return one;
  }
  void begin() { turn_ = std::unique_lock<std::mutex>(turns()); }  // not re-entrant
  void end() {
    if (turn_.owns_lock()) turn_.unlock();
  }

 private:
  std::unique_lock<std::mutex> turn_;
};

//---- OSMesa: declarations as in GL/osmesa.h ----

constexpr unsigned kOsmesaRgba = 0x1908, kGlUnsignedByte = 0x1401;

struct OsMesaApi {
  void* (*create)(unsigned format, int depth, int stencil, int accum, void* share);
  unsigned char (*make_current)(void* context, void* buffer, unsigned type, int width, int height);
  void (*destroy)(void* context);
};

const OsMesaApi& osmesa() {
  static const OsMesaApi api = [] {
    // global, so MuJoCo's GL loader finds OSMesaGetProcAddress
    void* library = dlopen("libOSMesa.so.8", RTLD_NOW | RTLD_GLOBAL);
    if (!library) library = dlopen("libOSMesa.so", RTLD_NOW | RTLD_GLOBAL);
    if (!library)
      throw Error("metaworld: pixels need OSMesa, which is not installed (Debian/Ubuntu: apt install "
                  "libosmesa6), or `gl: egl` with libEGL; state-only observations (camera: none) work "
                  "without either");
    OsMesaApi api{};
    api.create = reinterpret_cast<decltype(api.create)>(dlsym(library, "OSMesaCreateContextExt"));
    api.make_current = reinterpret_cast<decltype(api.make_current)>(dlsym(library, "OSMesaMakeCurrent"));
    api.destroy = reinterpret_cast<decltype(api.destroy)>(dlsym(library, "OSMesaDestroyContext"));
    if (!api.create || !api.make_current || !api.destroy)
      throw Error("metaworld: libOSMesa lacks OSMesaCreateContextExt; reinstall libosmesa6");
    return api;
  }();
  return api;
}

class OsMesaContext : public GlContext {
 public:
  OsMesaContext(int width, int height) : width_(width), height_(height) {
    std::lock_guard<std::mutex> turn(SoftwareDrawing::turns());
    context_ = osmesa().create(kOsmesaRgba, 24, 8, 0, nullptr);
    if (!context_)
      throw Error("metaworld: cannot create an OSMesa GL context for pixels (apt install libosmesa6); "
                  "state-only observations work without it");
    framebuffer_.resize(static_cast<size_t>(width) * height * 4);
  }
  ~OsMesaContext() override {
    std::lock_guard<std::mutex> turn(SoftwareDrawing::turns());
    osmesa().destroy(context_);
  }

  void make_current() override {
    drawing_.begin();
    if (!osmesa().make_current(context_, framebuffer_.data(), kGlUnsignedByte, width_, height_)) {
      drawing_.end();
      throw Error("metaworld: OSMesaMakeCurrent failed; check the libosmesa6 installation");
    }
  }
  void release() override {
    osmesa().make_current(nullptr, nullptr, 0, 0, 0);  // unbinds this thread's context
    drawing_.end();
  }
  std::string describe() const override { return "OSMesa (CPU)"; }

 private:
  void* context_ = nullptr;
  std::vector<uint8_t> framebuffer_;  // OSMesa's window buffer; MuJoCo draws into its own FBO
  int width_, height_;
  SoftwareDrawing drawing_;
};

//---- EGL: declarations as in EGL/egl.h and EGL/eglext.h ----

using EGLint = int32_t;
using EGLBoolean = unsigned;
using EGLDisplay = void*;
using EGLConfig = void*;
using EGLContext = void*;
using EGLDeviceEXT = void*;
constexpr EGLint kEglNone = 0x3038, kEglExtensions = 0x3055, kEglVendor = 0x3053,
                 kEglSurfaceType = 0x3033, kEglPbufferBit = 0x0001, kEglRenderableType = 0x3040,
                 kEglOpenglBit = 0x0008, kEglRedSize = 0x3024, kEglGreenSize = 0x3023,
                 kEglBlueSize = 0x3022, kEglDepthSize = 0x3025, kEglDrmDeviceFile = 0x3233;
constexpr unsigned kEglOpenglApi = 0x30A2, kEglPlatformDevice = 0x313F;

struct EglApi {
  void* (*get_proc_address)(const char* name);
  const char* (*query_string)(EGLDisplay, EGLint name);
  EGLBoolean (*initialize)(EGLDisplay, EGLint* major, EGLint* minor);
  EGLBoolean (*choose_config)(EGLDisplay, const EGLint* attributes, EGLConfig*, EGLint size, EGLint* count);
  EGLBoolean (*bind_api)(unsigned api);
  EGLContext (*create_context)(EGLDisplay, EGLConfig, EGLContext share, const EGLint* attributes);
  EGLBoolean (*make_current)(EGLDisplay, void* draw, void* read, EGLContext);
  EGLBoolean (*destroy_context)(EGLDisplay, EGLContext);
  EGLint (*get_error)();
  // EGL_EXT_device_enumeration, EGL_EXT_device_query, EGL_EXT_platform_device: headless rendering
  EGLBoolean (*query_devices)(EGLint size, EGLDeviceEXT* devices, EGLint* count);
  const char* (*query_device_string)(EGLDeviceEXT, EGLint name);
  EGLDisplay (*get_platform_display)(unsigned platform, void* native, const EGLint* attributes);
};

// nullptr when libEGL or its device extensions are missing. Opened privately at first: MuJoCo's GL
// loader prefers eglGetProcAddress whenever it can see it, which breaks OSMesa contexts, so libEGL
// becomes global (`make_global`) only once EGL is the backend.
const EglApi* egl(bool make_global) {
  static void* library = dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL);
  static const EglApi* api = [] () -> const EglApi* {
    if (!library) return nullptr;
    static EglApi loaded{};
    auto symbol = [](const char* name) { return dlsym(library, name); };
    loaded.get_proc_address = reinterpret_cast<decltype(loaded.get_proc_address)>(symbol("eglGetProcAddress"));
    if (!loaded.get_proc_address) return nullptr;
    auto extension = [&](const char* name) { return loaded.get_proc_address(name); };
    loaded.query_string = reinterpret_cast<decltype(loaded.query_string)>(symbol("eglQueryString"));
    loaded.initialize = reinterpret_cast<decltype(loaded.initialize)>(symbol("eglInitialize"));
    loaded.choose_config = reinterpret_cast<decltype(loaded.choose_config)>(symbol("eglChooseConfig"));
    loaded.bind_api = reinterpret_cast<decltype(loaded.bind_api)>(symbol("eglBindAPI"));
    loaded.create_context = reinterpret_cast<decltype(loaded.create_context)>(symbol("eglCreateContext"));
    loaded.make_current = reinterpret_cast<decltype(loaded.make_current)>(symbol("eglMakeCurrent"));
    loaded.destroy_context = reinterpret_cast<decltype(loaded.destroy_context)>(symbol("eglDestroyContext"));
    loaded.get_error = reinterpret_cast<decltype(loaded.get_error)>(symbol("eglGetError"));
    loaded.query_devices = reinterpret_cast<decltype(loaded.query_devices)>(extension("eglQueryDevicesEXT"));
    loaded.query_device_string =
        reinterpret_cast<decltype(loaded.query_device_string)>(extension("eglQueryDeviceStringEXT"));
    loaded.get_platform_display =
        reinterpret_cast<decltype(loaded.get_platform_display)>(extension("eglGetPlatformDisplayEXT"));
    bool complete = loaded.query_string && loaded.initialize && loaded.choose_config && loaded.bind_api &&
                    loaded.create_context && loaded.make_current && loaded.destroy_context &&
                    loaded.get_error && loaded.query_devices && loaded.query_device_string &&
                    loaded.get_platform_display;
    return complete ? &loaded : nullptr;
  }();
  if (api && make_global) dlopen("libEGL.so.1", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
  return api;
}

struct EglDevice {
  EGLDeviceEXT handle;
  bool software;     // Mesa's llvmpipe device: EGL on the CPU
  std::string node;  // e.g. /dev/dri/renderD128, when the driver says
};

std::vector<EglDevice> egl_devices(const EglApi& api) {
  EGLint count = 0;
  if (!api.query_devices(0, nullptr, &count) || count < 1) return {};
  std::vector<EGLDeviceEXT> handles(static_cast<size_t>(count));
  api.query_devices(count, handles.data(), &count);
  std::vector<EglDevice> devices;
  for (EGLint i = 0; i < count; ++i) {
    const char* extensions = api.query_device_string(handles[i], kEglExtensions);
    std::string names = extensions ? extensions : "";
    const char* node = names.find("EGL_EXT_device_drm") != std::string::npos
                           ? api.query_device_string(handles[i], kEglDrmDeviceFile)
                           : nullptr;
    devices.push_back({handles[i], names.find("EGL_MESA_device_software") != std::string::npos,
                       node ? node : ""});
  }
  return devices;
}

std::string hex(EGLint code) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%04x", static_cast<unsigned>(code));
  return text;
}

class EglContext : public GlContext {
 public:
  EglContext(const EglApi& api, const EglDevice& device, int index)
      : api_(api), index_(index), software_(device.software) {
    std::unique_lock<std::mutex> turn(SoftwareDrawing::turns(), std::defer_lock);
    if (software_) turn.lock();
    display_ = api.get_platform_display(kEglPlatformDevice, device.handle, nullptr);
    if (!display_ || !api.initialize(display_, nullptr, nullptr))
      throw Error("metaworld: EGL device " + std::to_string(index) + " does not initialise (EGL error " +
                  hex(api.get_error()) + "); use `gl: osmesa` to render on the CPU");
    const char* listed = api.query_string(display_, kEglExtensions);
    std::string extensions = listed ? listed : "";
    // MuJoCo draws into its own framebuffer object, so the context is bound without a surface
    if (extensions.find("EGL_KHR_surfaceless_context") == std::string::npos)
      throw Error("metaworld: EGL device " + std::to_string(index) +
                  " lacks EGL_KHR_surfaceless_context; use `gl: osmesa`");
    const EGLint attributes[] = {kEglSurfaceType, kEglPbufferBit, kEglRenderableType, kEglOpenglBit,
                                 kEglRedSize,     8,              kEglGreenSize,      8,
                                 kEglBlueSize,    8,              kEglDepthSize,      24,
                                 kEglNone};
    EGLConfig config = nullptr;  // EGL_NO_CONFIG_KHR: Mesa's software device offers no configs
    EGLint found = 0;
    if (!api.choose_config(display_, attributes, &config, 1, &found) || found < 1) config = nullptr;
    api.bind_api(kEglOpenglApi);
    context_ = api.create_context(display_, config, nullptr, nullptr);
    if (!context_)
      throw Error("metaworld: cannot create an OpenGL context on EGL device " + std::to_string(index) +
                  " (EGL error " + hex(api.get_error()) + "); use `gl: osmesa`");
    const char* vendor = api.query_string(display_, kEglVendor);
    description_ = "EGL device " + std::to_string(index) + " (" + (vendor ? vendor : "unknown vendor") +
                   (device.software ? ", software" : "") + (device.node.empty() ? "" : ", " + device.node) + ")";
  }
  // the display stays initialised: other envs' contexts may live on it
  ~EglContext() override {
    std::unique_lock<std::mutex> turn(SoftwareDrawing::turns(), std::defer_lock);
    if (software_) turn.lock();
    api_.destroy_context(display_, context_);
  }

  // the client API is a per-thread EGL setting: a pool thread starts with OpenGL ES, and EGL
  // binds and releases the context of the thread's current API
  void make_current() override {
    if (software_) drawing_.begin();
    api_.bind_api(kEglOpenglApi);
    if (!api_.make_current(display_, nullptr, nullptr, context_)) {
      drawing_.end();
      throw Error("metaworld: eglMakeCurrent failed on EGL device " + std::to_string(index_) +
                  " (EGL error " + hex(api_.get_error()) + ")");
    }
  }
  void release() override {
    api_.bind_api(kEglOpenglApi);
    if (!api_.make_current(display_, nullptr, nullptr, nullptr))
      log().warn("metaworld: EGL device {} did not release its context (EGL error {})", index_,
                 hex(api_.get_error()));
    drawing_.end();
  }
  std::string describe() const override { return description_; }

 private:
  const EglApi& api_;
  int index_;
  bool software_;
  SoftwareDrawing drawing_;
  EGLDisplay display_ = nullptr;
  EGLContext context_ = nullptr;
  std::string description_;
};

std::string list_devices(const std::vector<EglDevice>& devices) {
  std::string list;
  for (size_t i = 0; i < devices.size(); ++i)
    list += (list.empty() ? "" : ", ") + std::to_string(i) + (devices[i].software ? " (software)" : " (GPU)");
  return list.empty() ? "none" : list;
}

// -1 when the request has no EGL device: auto wants a GPU, egl takes the software device too
int choose_egl_device(const std::vector<EglDevice>& devices, int requested, bool software_allowed) {
  if (requested >= 0) {
    if (requested >= static_cast<int>(devices.size()))
      throw Error("metaworld: egl_device " + std::to_string(requested) + " does not exist; the EGL devices are: " +
                  list_devices(devices));
    return requested;
  }
  for (size_t i = 0; i < devices.size(); ++i)
    if (!devices[i].software) return static_cast<int>(i);
  return software_allowed && !devices.empty() ? 0 : -1;
}

}  // namespace

std::unique_ptr<GlContext> GlContext::create(const std::string& backend, int egl_device, int width, int height) {
  static std::mutex mutex;
  static std::string backend_in_use;  // the first context decides for the process
  std::lock_guard<std::mutex> lock(mutex);

  int device = -1;
  std::vector<EglDevice> devices;
  if (backend != "osmesa") {
    const EglApi* api = egl(false);
    if (api) devices = egl_devices(*api);
    device = choose_egl_device(devices, egl_device, backend == "egl");
    if (backend == "egl" && device < 0)
      throw Error(std::string("metaworld: gl: egl found ") +
                  (api ? "no EGL device" : "no libEGL with device enumeration") +
                  " (Debian/Ubuntu: apt install libegl1 libegl-mesa0; on NVIDIA the driver's EGL); use "
                  "`gl: osmesa` to render on the CPU");
  }
  const std::string chosen = device >= 0 ? "egl" : "osmesa";
  if (!backend_in_use.empty() && backend_in_use != chosen)
    throw Error("metaworld: this process already renders with " + backend_in_use + ", and MuJoCo looks its GL "
                "functions up once per process; give every env of the run the same `gl` (this one "
                "resolved to " + chosen + ")");

  std::unique_ptr<GlContext> context;
  if (chosen == "egl")
    context = std::make_unique<EglContext>(*egl(true), devices[static_cast<size_t>(device)], device);
  else
    context = std::make_unique<OsMesaContext>(width, height);
  if (backend_in_use.empty()) log().info("metaworld: rendering with {}", context->describe());
  backend_in_use = chosen;
  return context;
}

}  // namespace wm::metaworld
