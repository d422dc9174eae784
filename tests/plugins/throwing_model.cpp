// A model whose constructor throws, as one with a missing weight file would.
#include "wm/sdk.h"

namespace {

class FragileModel : public wm::Model {
 public:
  static wm::Schema schema() {
    return wm::Schema{}.path("weights", "checkpoint to load").required();
  }
  explicit FragileModel(const wm::Params& params) {
    throw std::runtime_error("cannot open weights '" + params.get<std::string>("weights") + "'");
  }
  std::vector<std::string> required_keys() const override { return {"video"}; }
  wm::TensorMap predict(const wm::Batch&) override { return {}; }
};

}  // namespace

WM_PLUGIN(wm::Model, FragileModel, "fragile_model", "0.0.1", "test: its constructor throws")
