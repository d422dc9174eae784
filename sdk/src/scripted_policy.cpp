#include "wm/scripted_policy.h"

namespace wm {

// out of line, so both interfaces have one type_info home and dynamic_cast works across plugins
PrimitiveChooser::~PrimitiveChooser() = default;
ScriptedPolicy::~ScriptedPolicy() = default;

}  // namespace wm
