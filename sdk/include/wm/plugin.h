// Registering a plugin: one macro per shared library.
//
//   class Psnr : public wm::Metric {
//    public:
//     static wm::Schema schema();
//     explicit Psnr(const wm::Params& params);
//     ...
//   };
//   WM_PLUGIN(wm::Metric, Psnr, "psnr", "1.0.0", "Peak signal-to-noise ratio of predicted frames")
//
// The macro exports two symbols through Boost.DLL: the C header `wm_plugin_header_v1` (checked by
// the host before any plugin code runs) and `wm_plugin_info` (schema and factory).
#pragma once
#include <torch/version.h>

#include <boost/dll/alias.hpp>
#include <type_traits>

#include "wm/abi.h"
#include "wm/component.h"
#include "wm/params.h"
#include "wm/schema.h"

namespace wm {

struct PluginInfo {
  Kind kind;
  const char* name;
  const char* version;
  const char* summary;
  Schema (*schema)();
  // returns a new object owned by the caller; the host ties its lifetime to the library
  Component* (*create)(const Params& params);
};

template <class Interface>
constexpr const char* plugin_kind_name() {
  switch (Interface::kind) {
    case Kind::Dataset: return "dataset";
    case Kind::Model: return "model";
    case Kind::Env: return "env";
    case Kind::Metric: return "metric";
  }
  return "?";
}

}  // namespace wm

#define WM_PLUGIN(Interface, Class, NAME, VERSION, SUMMARY)                                   \
  namespace wm_plugin_entry {                                                                 \
  static_assert(std::is_base_of_v<Interface, Class>, #Class " must derive from " #Interface); \
  static ::wm::Schema schema() { return Class::schema(); }                                    \
  static ::wm::Component* create(const ::wm::Params& params) {                                \
    return static_cast<Interface*>(new Class(params));                                        \
  }                                                                                           \
  const ::wm_plugin_header header = {WM_PLUGIN_MAGIC,                                         \
                                     sizeof(::wm_plugin_header),                              \
                                     WM_BUILD_SDK_ABI,                                        \
                                     _GLIBCXX_USE_CXX11_ABI,                                  \
                                     WM_BUILD_GLIBCXX_DEBUG,                                  \
                                     WM_SDK_VERSION,                                          \
                                     WM_BUILD_TORCH_VERSION,                                  \
                                     WM_BUILD_COMPILER,                                       \
                                     ::wm::plugin_kind_name<Interface>(),                     \
                                     NAME,                                                    \
                                     VERSION,                                                 \
                                     SUMMARY};                                                \
  const ::wm::PluginInfo& info() {                                                            \
    static const ::wm::PluginInfo value{Interface::kind, NAME, VERSION, SUMMARY, &schema,     \
                                        &create};                                             \
    return value;                                                                             \
  }                                                                                           \
  }                                                                                           \
  BOOST_DLL_ALIAS(wm_plugin_entry::header, wm_plugin_header_v1)                               \
  BOOST_DLL_ALIAS(wm_plugin_entry::info, wm_plugin_info)
