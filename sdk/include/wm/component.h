// The base of every object a plugin creates, and the four kinds of plugin.
#pragma once

namespace wm {

enum class Kind { Dataset, Model, Env, Metric };

const char* kind_name(Kind kind);    // "dataset"
const char* kind_plural(Kind kind);  // "datasets" (as in `wmhost list datasets`)

// Its destructor is defined in libwmsdk, so vtables and type_info of the interfaces have one
// home and dynamic_cast works across plugin libraries.
class Component {
 public:
  virtual ~Component();
  Component() = default;
  Component(const Component&) = delete;
  Component& operator=(const Component&) = delete;
};

}  // namespace wm
