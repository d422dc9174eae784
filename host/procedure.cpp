#include "procedure.h"

namespace wm {

const std::vector<Procedure>& procedures() {
  static const std::vector<Procedure> all = {train_procedure, evaluate_procedure, rollout_procedure,
                                             fit_action_scaler_procedure};
  return all;
}

const Procedure* find_procedure(const std::string& name) {
  for (const auto& procedure : procedures())
    if (name == procedure.name) return &procedure;
  return nullptr;
}

}  // namespace wm
