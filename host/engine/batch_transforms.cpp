#include "engine/batch_transforms.h"

#include <ATen/ATen.h>

#include <cmath>
#include <numeric>

#include "config_node.h"
#include "param_binding.h"
#include "wm/error.h"

namespace wm {

//---- draws ----

namespace {
double normal_draw(TransformRandom& random) {
  double u = random.uniform(0.0, 1.0), v = random.uniform(0.0, 1.0);
  return std::sqrt(-2.0 * std::log1p(-u)) * std::cos(2.0 * M_PI * v);
}

// Gamma(shape, 1): Marsaglia and Tsang (2000); shape < 1 through Gamma(shape + 1) U^(1/shape)
double gamma_draw(TransformRandom& random, double shape) {
  if (shape < 1.0) {
    double u = random.uniform(0.0, 1.0);
    return gamma_draw(random, shape + 1.0) * std::pow(1.0 - u, 1.0 / shape);
  }
  double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = normal_draw(random), v = 1.0 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = 1.0 - random.uniform(0.0, 1.0);  // (0, 1]
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}
}  // namespace

double beta_draw(TransformRandom& random, double a, double b) {
  double x = gamma_draw(random, a), y = gamma_draw(random, b);
  return x + y > 0 ? x / (x + y) : 0.5;
}

uint64_t batch_seed(uint64_t seed, int64_t epoch, int64_t begin) {
  // splitmix64 over the three numbers
  uint64_t z = seed * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(epoch) << 32) ^ static_cast<uint64_t>(begin);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

//---- mixing ----

void BatchTransforms::add(Kind kind, double alpha, double p, std::string key_path) {
  steps_.push_back({kind, alpha, p, std::move(key_path)});
}

void BatchTransforms::apply(Batch& batch, uint64_t seed) const {
  const int64_t size = batch.size();
  auto lambda = at::ones({size}, at::kFloat);
  auto index = at::arange(size, at::kLong);
  TransformRandom random(seed);
  for (const Step& step : steps_) {
    if (!random.coin(step.p)) continue;
    auto& video = batch.tensors.at("video");
    if (!video.is_floating_point() || video.dim() < 3)
      throw Error(step.key_path + ": needs a float `video` [B, ..., H, W], got " + describe_tensor(video));
    // the partner of each clip: a seeded permutation (Fisher-Yates)
    std::vector<int64_t> order(static_cast<size_t>(size));
    std::iota(order.begin(), order.end(), 0);
    for (int64_t i = size - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(random.integer(0, i))]);
    index = at::tensor(order, at::kLong);
    double mix = beta_draw(random, step.alpha, step.alpha);
    auto partner = video.index_select(0, index);
    if (step.kind == Kind::MixUp) {
      video = video * mix + partner * (1.0 - mix);
    } else {  // one box in every frame, inside the frame; lambda from its exact area
      int64_t height = video.size(-2), width = video.size(-1);
      double side = std::sqrt(1.0 - mix);
      int64_t box_h = std::lround(height * side), box_w = std::lround(width * side);
      int64_t top = random.integer(0, height - box_h), left = random.integer(0, width - box_w);
      video = video.clone();
      using at::indexing::Slice;
      video.index_put_({"...", Slice(top, top + box_h), Slice(left, left + box_w)},
                       partner.index({"...", Slice(top, top + box_h), Slice(left, left + box_w)}));
      mix = 1.0 - static_cast<double>(box_h * box_w) / static_cast<double>(height * width);
    }
    auto actions = batch.tensors.find("actions");
    if (actions != batch.tensors.end() && actions->second.is_floating_point())
      actions->second = actions->second * mix + actions->second.index_select(0, index) * (1.0 - mix);
    lambda.fill_(mix);
    break;
  }
  batch.tensors["mix_lambda"] = lambda;
  batch.tensors["mix_index"] = index;
}

//---- binding ----

std::shared_ptr<const BatchTransforms> bind_batch_transforms(const ConfigNode* list,
                                                             const std::string& key_path) {
  auto steps = std::make_shared<BatchTransforms>();
  if (!list || list->is_null()) return steps;
  const char* example = "e.g. [{mixup: {alpha: 0.2, p: 0.5}}, {cutmix: {alpha: 1.0, p: 0.5}}]";
  if (!list->is_sequence()) throw ConfigError(list->loc, key_path, std::string("expected a list of steps, ") + example);
  for (size_t i = 0; i < list->items.size(); ++i) {
    const ConfigNode& item = list->items[i];
    std::string at = key_path + "." + std::to_string(i);
    if (!item.is_map() || item.entries.size() != 1)
      throw ConfigError(item.loc, at, std::string("each step is one `mixup:` or `cutmix:` map, ") + example);
    const auto& [name, params] = item.entries.front();
    if (name != "mixup" && name != "cutmix")
      throw ConfigError(item.loc, at, "unknown batch transform '" + name + "'; batch transforms: mixup, cutmix");
    at += "." + name;
    Schema schema;
    schema.real("alpha", name == "mixup" ? 0.2 : 1.0, "lambda ~ Beta(alpha, alpha)").range(1e-3, 1e3)
        .real("p", 1.0, "share of batches this step mixes").range(0, 1);
    Params bound = bind_params(schema, &params, at, "batch transform '" + name + "'", item.loc);
    steps->add(name == "mixup" ? BatchTransforms::Kind::MixUp : BatchTransforms::Kind::CutMix,
               bound.get<double>("alpha"), bound.get<double>("p"), at);
  }
  return steps;
}

}  // namespace wm
