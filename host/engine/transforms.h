// Transforms of samples, named in YAML per data entry (`data.<name>.transforms: [{resize:
// {size: [64, 64]}}, ...]`) and applied by the loader, seeded by (seed, sample id, epoch).
// Spatial transforms move the whole clip at once (one crop, one flip, one jitter per clip);
// transforms that would leave actions or state inconsistent with the frames refuse to run
// unless told how to keep them consistent. Colour ops follow torchvision's functional ops.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "wm/error.h"
#include "wm/params.h"
#include "wm/sample.h"
#include "wm/schema.h"

namespace wm {

//---- functional ops on clips [T, C, H, W] ----
namespace vision {

at::Tensor to_float(const at::Tensor& video);  // uint8 -> float32 / 255; float unchanged
// bilinear (align_corners false), antialiased when shrinking if asked: like torch's interpolate
at::Tensor resize(const at::Tensor& video, int64_t height, int64_t width, bool antialias);
at::Tensor crop(const at::Tensor& video, int64_t top, int64_t left, int64_t height, int64_t width);
at::Tensor hflip(const at::Tensor& video);
// torchvision.transforms.functional semantics on float clips in [0, 1], per frame
at::Tensor adjust_brightness(const at::Tensor& video, double factor);
at::Tensor adjust_contrast(const at::Tensor& video, double factor);
at::Tensor adjust_saturation(const at::Tensor& video, double factor);
at::Tensor adjust_hue(const at::Tensor& video, double shift);  // shift in [-0.5, 0.5]
at::Tensor normalize(const at::Tensor& video, const std::vector<double>& mean,
                     const std::vector<double>& std);
// the top-left corner torchvision's center_crop picks
std::pair<int64_t, int64_t> center_crop_offset(int64_t height, int64_t width, int64_t crop_height,
                                               int64_t crop_width);

}  // namespace vision

//---- time ----

// how between-frame actions ([T-1, A]) follow a change of frames: summed over the intervals a
// new interval spans (displacements, pushes, mouse dx) or averaged (rates held over time)
enum class ActionResampling { Sum, Mean };

// keeps frames `frames` (ascending indices into T) of every time-indexed key of the data
// contract (video, state, pose, reward, success, per-frame actions); between-frame actions
// are resampled as `mode` says. Other keys pass through.
void resample_time(Sample& sample, const std::vector<int64_t>& frames, ActionResampling mode);

//---- transforms ----

// the random source of one sample's transforms; draws are defined here, not by <random>'s
// distributions (which differ between standard libraries)
class TransformRandom {
 public:
  explicit TransformRandom(uint64_t seed) : engine_(seed) {}
  double uniform(double low, double high);       // in [low, high)
  int64_t integer(int64_t low, int64_t high);    // in [low, high]
  bool coin(double probability);

 private:
  std::mt19937_64 engine_;
};

class Transform {
 public:
  virtual ~Transform();
  virtual void apply(Sample& sample, TransformRandom& random) const = 0;
  // refuses keys it would leave inconsistent (e.g. unmirrored actions under a flip);
  // returns the reason, or "" when the keys are fine
  virtual std::string check_keys(const std::vector<KeySpec>& keys) const;
};

// one kind of transform: its name in YAML, its parameters and a factory
struct TransformKind {
  const char* name;
  const char* summary;
  Schema (*schema)();
  std::unique_ptr<Transform> (*make)(const Params& params);
};

const std::vector<TransformKind>& transform_kinds();
const TransformKind* find_transform_kind(const std::string& name);

// the transforms of one data entry, in order
class TransformPipeline {
 public:
  // `key_path` and `loc` say where the step was written ("data.train.transforms.2.hflip")
  void add(std::unique_ptr<Transform> transform, std::string key_path, SourceLoc loc);
  void apply(Sample& sample, uint64_t seed) const;
  // throws ConfigError at the step that cannot handle the dataset's keys
  void check_keys(const std::vector<KeySpec>& keys) const;
  bool empty() const { return steps_.empty(); }

 private:
  struct Step {
    std::unique_ptr<Transform> transform;
    std::string key_path;
    SourceLoc loc;
  };
  std::vector<Step> steps_;
};

}  // namespace wm
