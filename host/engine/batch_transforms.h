// Batch transforms (spec D5): MixUp and CutMix across the clips of a collated training batch,
// named in YAML per data entry (`data.<name>.batch_transforms: [{mixup: {alpha: 0.2, p: 0.5}},
// {cutmix: {alpha: 1.0, p: 0.5}}]`). Per batch: the first step whose coin (p) comes up mixes the
// batch, the others do not (a batch is mixed at most once). One lambda ~ Beta(alpha, alpha) per
// batch; clip i is mixed with clip perm(i). MixUp blends whole clips; CutMix pastes one box,
// the same in every frame, of area round((1 - lambda) H W), and lambda is recomputed from the
// box's exact area. Float `actions` are blended with lambda; `action_label` stays; `mix_lambda`
// [B] float32 and `mix_index` [B] int64 are added to every batch (1 and i when not mixed) so a
// model can build soft targets. Seeded by (seed, epoch, position): any worker count, and a
// resumed run, mixes the same.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/transforms.h"
#include "wm/sample.h"

namespace wm {

struct ConfigNode;

// Beta(a, b) from the transform random source (Marsaglia-Tsang gamma draws, Box-Muller normals)
double beta_draw(TransformRandom& random, double a, double b);

// the seed of one batch's mixing, fixed by (seed, epoch, index of its first sample in the epoch)
uint64_t batch_seed(uint64_t seed, int64_t epoch, int64_t begin);

class BatchTransforms {
 public:
  enum class Kind { MixUp, CutMix };
  // `key_path` says where the step was written ("data.train.batch_transforms.0.mixup")
  void add(Kind kind, double alpha, double p, std::string key_path);
  // mixes `batch` in place (its `video` [B, T, C, H, W] must be float, as collate makes it)
  void apply(Batch& batch, uint64_t seed) const;
  bool empty() const { return steps_.empty(); }

 private:
  struct Step {
    Kind kind;
    double alpha, p;
    std::string key_path;
  };
  std::vector<Step> steps_;
};

// `batch_transforms: [{mixup: {alpha, p}}, {cutmix: {alpha, p}}]` of a data entry (may be null)
std::shared_ptr<const BatchTransforms> bind_batch_transforms(const ConfigNode* list,
                                                             const std::string& key_path);

}  // namespace wm
