// load: the model's weights from a checkpoint or another run, with no training (evaluation-only
// runs: `procedure: [{load: {from: runs/a/...}}, {evaluate: {...}}]`). train.init_from does the
// same before training; both go through engine/init_weights.h.
#include "../procedure.h"
#include "engine/init_weights.h"
#include "wm/error.h"
#include "wm/log.h"

namespace wm {

//---- shared with train.init_from ----

// a checkpoint path given at validation: it must exist unless an earlier step writes it
void check_checkpoint_path(const Experiment& experiment, const Params& params, const std::string& key) {
  std::string path = params.get<std::string>(key);
  if (path.empty() || written_by_run(experiment, path)) return;
  try {
    checkpoint_file(path);
  } catch (const Error& e) {
    throw params.error(key, e.what());
  }
}

// copies the weights into the model and says what it did
void load_weights(RunContext& context, const std::string& path, const std::string& prefix,
                  bool strict, const std::string& step) {
  InitResult result = init_weights(path, prefix, strict, context.model().state());
  log().info("{}: {} tensors of the model from {}{}", step, result.loaded, result.file.string(),
             result.skipped.empty() ? "" : fmt::format(", {} skipped:", result.skipped.size()));
  for (const auto& skipped : result.skipped) log().info("{}:   skipped {}", step, skipped);
  context.metrics_log.append({{"procedure", step}, {"event", "weights loaded"}},
                             {{"tensors_loaded", static_cast<double>(result.loaded)},
                              {"tensors_skipped", static_cast<double>(result.skipped.size())}});
}

namespace {

Schema load_schema() {
  return Schema{}
      .path("from", "a checkpoint file, or a run folder (its last train step's best.pt, else its "
                    "newest step-*.pt)").required()
      .text("prefix", "model/", "the part of the checkpoint holding the model's tensors")
      .boolean("strict", true, "every tensor must match in name and shape; false: load the "
                               "matching ones and list the rest");
}

void load_check(const Experiment& experiment, const ProcedureSpec& step) {
  check_checkpoint_path(experiment, step.params, "from");
}

void load_run(RunContext& context, const Params& params) {
  load_weights(context, params.get<std::string>("from"), params.get<std::string>("prefix"),
               params.get<bool>("strict"), "load");
}

}  // namespace

const Procedure load_procedure = {"load", "load the model's weights from a checkpoint or a run",
                                  &load_schema, {/*model=*/true}, &load_check, &load_run};

}  // namespace wm
