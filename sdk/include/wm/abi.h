/* wmhost plugin handshake: a plain C struct every plugin exports as `wm_plugin_header_v1`.
 * The host reads it before running any plugin code; it is only ever appended to. */
#ifndef WM_ABI_H
#define WM_ABI_H
#include <stdint.h>

/* Bump WM_SDK_ABI_VERSION whenever a layout, vtable or signature of the contract (the headers in sdk/include/wm,
 * not the toolbox libraries, which carry their own versions) changes;
 * the test `sdk_abi_guard` fails until sdk/abi.sha256 is updated together with it. */
#define WM_SDK_ABI_VERSION 11
#define WM_SDK_VERSION "0.1.0"
#define WM_PLUGIN_MAGIC 0x4C504D57u /* "WMPL" */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wm_plugin_header {
  uint32_t magic;         /* WM_PLUGIN_MAGIC */
  uint32_t header_size;   /* sizeof(wm_plugin_header) when the plugin was built */
  uint32_t sdk_abi;       /* WM_SDK_ABI_VERSION */
  uint32_t cxx11_abi;     /* _GLIBCXX_USE_CXX11_ABI */
  uint32_t glibcxx_debug; /* 1 if built with _GLIBCXX_DEBUG (changes container layouts) */
  const char* sdk_version;
  const char* torch_version;
  const char* compiler;
  const char* kind; /* "dataset", "model", "env" or "metric" */
  const char* name;
  const char* version;
  const char* summary;
} wm_plugin_header;

#ifdef __cplusplus
}
#endif

/* the values a plugin or host compiled with these headers records about itself */
#ifdef WM_TEST_FORCE_SDK_ABI
#define WM_BUILD_SDK_ABI WM_TEST_FORCE_SDK_ABI
#else
#define WM_BUILD_SDK_ABI WM_SDK_ABI_VERSION
#endif
#ifdef _GLIBCXX_DEBUG
#define WM_BUILD_GLIBCXX_DEBUG 1u
#else
#define WM_BUILD_GLIBCXX_DEBUG 0u
#endif
#define WM_STRINGIFY_(x) #x
#define WM_STRINGIFY(x) WM_STRINGIFY_(x)
#define WM_BUILD_TORCH_VERSION \
  WM_STRINGIFY(TORCH_VERSION_MAJOR) "." WM_STRINGIFY(TORCH_VERSION_MINOR)
#if defined(__clang__)
#define WM_BUILD_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define WM_BUILD_COMPILER "gcc " __VERSION__
#else
#define WM_BUILD_COMPILER "unknown"
#endif

#endif
