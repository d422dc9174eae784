// A GL context for MuJoCo's off-screen renderer: EGL on a GPU (headless, no X server) or OSMesa on
// the CPU. Both libraries are opened at run time, so the plugin loads, and state-only observations
// work, on a machine that has neither.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace wm::metaworld {

// auto: EGL when a GPU offers an EGL device, else OSMesa. egl: EGL even on Mesa's software device
// (llvmpipe), which is how a CPU-only machine tests the EGL path.
const std::vector<std::string>& gl_backends();  // auto, egl, osmesa

class GlContext {
 public:
  // `egl_device` is an index into the EGL devices; -1 takes the first GPU (egl: else the
  // software device). MuJoCo looks its GL functions up once per process, so a process renders
  // with one backend: asking for the other one later throws.
  static std::unique_ptr<GlContext> create(const std::string& backend, int egl_device, int width, int height);
  virtual ~GlContext() = default;

  // bind the context to the calling thread, and let it go again: envs stepped by a thread pool
  // draw on whichever thread is free, and EGL refuses a context still bound to another thread
  virtual void make_current() = 0;
  virtual void release() = 0;
  // for the log: "OSMesa (CPU)" or "EGL device 0 (NVIDIA Corporation)"
  virtual std::string describe() const = 0;
};

}  // namespace wm::metaworld
