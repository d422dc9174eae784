#include "wm/component.h"

#include "wm/dataset.h"
#include "wm/error.h"
#include "wm/env.h"
#include "wm/metric.h"
#include "wm/model.h"

namespace wm {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::Dataset: return "dataset";
    case Kind::Model: return "model";
    case Kind::Env: return "env";
    case Kind::Metric: return "metric";
  }
  return "?";
}

const char* kind_plural(Kind kind) {
  switch (kind) {
    case Kind::Dataset: return "datasets";
    case Kind::Model: return "models";
    case Kind::Env: return "envs";
    case Kind::Metric: return "metrics";
  }
  return "?";
}

// out-of-line destructors: the interfaces' vtables live here, once
Component::~Component() = default;
Dataset::~Dataset() = default;
Model::~Model() = default;
Env::~Env() = default;
Metric::~Metric() = default;

std::string Dataset::id(int64_t index) const { return get(index).id; }

// capabilities a model may lack: the error says which model and what to use instead
LossOutput Model::loss(const Batch&) {
  throw Error("this model has no training objective (a fixed baseline); train a learning model");
}
TensorMap Model::encode(const Batch&) {
  throw Error("this model exposes no encoder to probe");
}

}  // namespace wm
