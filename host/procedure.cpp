#include "procedure.h"

namespace wm {

const std::vector<Procedure>& procedures() {
  static const std::vector<Procedure> all = {train_procedure, evaluate_procedure, rollout_procedure,
                                             fit_action_scaler_procedure, tiers_procedure,
                                             probe_procedure, collect_procedure};
  return all;
}

LoaderOptions loader_options(const RunContext& context, const std::string& data,
                             int64_t batch_size, bool training) {
  const DataSpec& spec = context.experiment.data.at(data);
  LoaderOptions options;
  options.batch_size = batch_size;
  options.training = training;
  options.seed = static_cast<uint64_t>(context.experiment.seed);
  options.workers = spec.workers;
  options.prefetch = spec.prefetch;
  options.transforms = spec.transforms;
  options.name = "data." + data;
  return options;
}

std::unique_ptr<Loader> open_loader(const RunContext& context, const std::string& data,
                                    int64_t batch_size, bool training, LoaderPosition start) {
  return std::make_unique<Loader>(*context.data.at(data),
                                  loader_options(context, data, batch_size, training), start);
}

const Procedure* find_procedure(const std::string& name) {
  for (const auto& procedure : procedures())
    if (name == procedure.name) return &procedure;
  return nullptr;
}

}  // namespace wm
