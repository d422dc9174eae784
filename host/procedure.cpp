#include "procedure.h"

namespace wm {

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

}  // namespace wm
