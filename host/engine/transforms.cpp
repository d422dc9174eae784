// The transforms one names in YAML. Each reads its validated parameters once; cross-parameter
// checks throw params.error(...) so the message points at the YAML line.
#include "engine/transforms.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace wm {

//---- random draws ----

double TransformRandom::uniform(double low, double high) {
  double unit = static_cast<double>(engine_() >> 11) * 0x1.0p-53;
  return low + (high - low) * unit;
}

int64_t TransformRandom::integer(int64_t low, int64_t high) {
  auto span = static_cast<uint64_t>(high - low) + 1;
  return low + static_cast<int64_t>(engine_() % span);  // bias < span / 2^64: negligible
}

bool TransformRandom::coin(double probability) { return uniform(0.0, 1.0) < probability; }

Transform::~Transform() = default;
std::string Transform::check_keys(const std::vector<KeySpec>&) const { return ""; }

//---- time ----

namespace {

bool has_key(const std::vector<KeySpec>& keys, const std::string& name) {
  return std::any_of(keys.begin(), keys.end(), [&](const KeySpec& k) { return k.name == name; });
}

at::Tensor& video_of(Sample& sample, const char* op) {
  auto it = sample.tensors.find("video");
  if (it == sample.tensors.end()) throw Error(std::string(op) + ": sample '" + sample.id + "' has no `video`");
  return it->second;
}

}  // namespace

void resample_time(Sample& sample, const std::vector<int64_t>& frames, ActionResampling mode) {
  int64_t length = video_of(sample, "time resampling").size(0);
  auto kept = at::tensor(frames, at::kLong);
  for (auto& [key, tensor] : sample.tensors) {
    static const std::vector<std::string> timed = {"video", "state", "pose", "reward", "success", "actions"};
    if (std::find(timed.begin(), timed.end(), key) == timed.end()) continue;
    if (tensor.dim() > 0 && tensor.size(0) == length) {
      tensor = tensor.index_select(0, kept);
    } else if (key == "actions" && tensor.dim() > 0 && tensor.size(0) == length - 1) {
      // new interval i spans old intervals [frames[i], frames[i+1])
      std::vector<at::Tensor> rows;
      for (size_t i = 0; i + 1 < frames.size(); ++i) {
        int64_t from = frames[i], to = frames[i + 1];
        if (to > from)
          rows.push_back(mode == ActionResampling::Sum ? tensor.slice(0, from, to).sum(0)
                                                       : tensor.slice(0, from, to).mean(0));
        else  // a repeated frame: nothing moved (sum) or the command was still held (mean)
          rows.push_back(mode == ActionResampling::Sum ? at::zeros_like(tensor[0])
                                                       : tensor[std::min(from, length - 2)]);
      }
      tensor = at::stack(rows);
    } else {
      throw Error("time resampling: key '" + key + "' of sample '" + sample.id + "' is " +
                  describe_tensor(tensor) + ", not indexed by the clip's " +
                  std::to_string(length) + " frames");
    }
  }
}

//---- the transforms ----

namespace {

ActionResampling resampling(const Params& p) {
  return p.get<std::string>("actions") == "mean" ? ActionResampling::Mean : ActionResampling::Sum;
}

// a size list [H, W] or [S] (square for crops; the shorter side for resize)
std::vector<int64_t> size_param(const Params& p) {
  IntList size = p.get<IntList>("size");
  if (size.empty() || size.size() > 2) throw p.error("size", "give [height, width] or [side]");
  return size;
}

class Resize : public Transform {
 public:
  static Schema schema() {
    return Schema{}
        .integers("size", {}, "[height, width], or [side] for the shorter side (keeping aspect)")
        .at_least(1).required()
        .boolean("antialias", true, "low-pass filter when shrinking (like torch interpolate)");
  }
  explicit Resize(const Params& p) : size_(size_param(p)), antialias_(p.get<bool>("antialias")) {}
  void apply(Sample& sample, TransformRandom&) const override {
    auto& video = video_of(sample, "resize");
    int64_t h = size_[0], w = size_.size() == 2 ? size_[1] : size_[0];
    if (size_.size() == 1) {  // the shorter side becomes size; torchvision truncates the longer
      int64_t height = video.size(2), width = video.size(3);
      if (height <= width) w = static_cast<int64_t>(static_cast<double>(h) * width / height);
      else h = static_cast<int64_t>(static_cast<double>(w) * height / width);
    }
    video = vision::resize(video, h, w, antialias_);
  }

 private:
  std::vector<int64_t> size_;
  bool antialias_;
};

class Crop : public Transform {
 public:
  static Schema schema() {
    return Schema{}.integers("size", {}, "[height, width] or [side]").at_least(1).required();
  }
  Crop(const Params& p, bool random) : size_(size_param(p)), random_(random) {}
  void apply(Sample& sample, TransformRandom& draw) const override {
    auto& video = video_of(sample, random_ ? "random_crop" : "center_crop");
    int64_t h = size_[0], w = size_.back(), height = video.size(2), width = video.size(3);
    if (h > height || w > width)
      throw Error("crop [" + std::to_string(h) + ", " + std::to_string(w) +
                  "] is larger than the frames [" + std::to_string(height) + ", " +
                  std::to_string(width) + "] of sample '" + sample.id + "'");
    auto [top, left] = random_ ? std::pair<int64_t, int64_t>{draw.integer(0, height - h), draw.integer(0, width - w)}
                               : vision::center_crop_offset(height, width, h, w);
    video = vision::crop(video, top, left, h, w);
  }

 private:
  std::vector<int64_t> size_;
  bool random_;
};

class HorizontalFlip : public Transform {
 public:
  static Schema schema() {
    return Schema{}
        .real("p", 0.5, "probability of flipping a clip").range(0, 1)
        .integers("action_x", {}, "action dimensions that point along x: negated on a flip")
        .at_least(0)
        .integers("state_x", {}, "state dimensions that are x positions in [0, 1]: x -> 1 - x")
        .at_least(0)
        .integers("state_vx", {}, "state dimensions that are x velocities: negated").at_least(0)
        .boolean("frames_only", false,
                 "flip frames only: the data's actions and state have no left-right component");
  }
  explicit HorizontalFlip(const Params& p)
      : p_(p.get<double>("p")),
        action_x_(p.get<IntList>("action_x")),
        state_x_(p.get<IntList>("state_x")),
        state_vx_(p.get<IntList>("state_vx")),
        frames_only_(p.get<bool>("frames_only")) {}

  std::string check_keys(const std::vector<KeySpec>& keys) const override {
    if (frames_only_) return "";
    if (has_key(keys, "actions") && action_x_.empty())
      return "a mirrored clip needs mirrored actions: list the x components of `actions` in "
             "action_x (e.g. [0]), or set frames_only: true if the actions have none";
    if (has_key(keys, "state") && state_x_.empty() && state_vx_.empty())
      return "a mirrored clip needs a mirrored state: list x positions in state_x and x "
             "velocities in state_vx, or set frames_only: true if the state has none";
    if (has_key(keys, "pose"))
      return "pose keypoints are not mirrored (left and right joints would swap); drop hflip "
             "or set frames_only: true";
    return "";
  }

  void apply(Sample& sample, TransformRandom& draw) const override {
    if (!draw.coin(p_)) return;
    auto& video = video_of(sample, "hflip");
    video = vision::hflip(video);
    if (auto it = sample.tensors.find("actions"); it != sample.tensors.end())
      it->second = mirrored(it->second, {}, action_x_, "actions", "action_x");
    if (auto it = sample.tensors.find("state"); it != sample.tensors.end())
      it->second = mirrored(mirrored(it->second, state_x_, {}, "state", "state_x"), {}, state_vx_,
                            "state", "state_vx");
  }

 private:
  // positions x -> 1 - x, components v -> -v, along the last dimension
  static at::Tensor mirrored(const at::Tensor& values, const IntList& positions,
                             const IntList& components, const char* key, const char* param) {
    auto out = values.clone();
    for (const IntList* dims : {&positions, &components})
      for (int64_t d : *dims) {
        if (d >= out.size(-1))
          throw Error(std::string("hflip: ") + param + " names dimension " + std::to_string(d) +
                      ", but `" + key + "` has " + std::to_string(out.size(-1)));
        auto column = out.select(-1, d);
        column.copy_(dims == &positions ? 1.0 - column : -column);
      }
    return out;
  }

  double p_;
  IntList action_x_, state_x_, state_vx_;
  bool frames_only_;
};

class ColorJitter : public Transform {
 public:
  static Schema schema() {
    return Schema{}
        .real("brightness", 0, "factor drawn from [max(0, 1-b), 1+b]").at_least(0)
        .real("contrast", 0, "factor drawn from [max(0, 1-c), 1+c]").at_least(0)
        .real("saturation", 0, "factor drawn from [max(0, 1-s), 1+s]").at_least(0)
        .real("hue", 0, "shift drawn from [-h, h]").range(0, 0.5);
  }
  explicit ColorJitter(const Params& p)
      : amount_{p.get<double>("brightness"), p.get<double>("contrast"),
                p.get<double>("saturation"), p.get<double>("hue")} {}

  // one draw per clip, the four ops in a random order (as torchvision's ColorJitter)
  void apply(Sample& sample, TransformRandom& draw) const override {
    int order[4] = {0, 1, 2, 3};
    for (int i = 3; i > 0; --i) std::swap(order[i], order[draw.integer(0, i)]);
    double factor[4];
    for (int op = 0; op < 3; ++op)
      factor[op] = draw.uniform(std::max(0.0, 1.0 - amount_[op]), 1.0 + amount_[op]);
    factor[3] = draw.uniform(-amount_[3], amount_[3]);
    auto& video = video_of(sample, "color_jitter");
    video = vision::to_float(video);
    for (int op : order) {
      if (amount_[op] == 0) continue;
      if (op == 0) video = vision::adjust_brightness(video, factor[0]);
      if (op == 1) video = vision::adjust_contrast(video, factor[1]);
      if (op == 2) video = vision::adjust_saturation(video, factor[2]);
      if (op == 3) video = vision::adjust_hue(video, factor[3]);
    }
  }

 private:
  double amount_[4];
};

class Normalize : public Transform {
 public:
  static Schema schema() {
    return Schema{}
        .reals("mean", {0.485, 0.456, 0.406}, "per-channel mean subtracted (ImageNet's by default)")
        .reals("std", {0.229, 0.224, 0.225}, "per-channel std divided by").at_least(1e-12);
  }
  explicit Normalize(const Params& p) : mean_(p.get<RealList>("mean")), std_(p.get<RealList>("std")) {
    if (mean_.size() != std_.size()) throw p.error("std", "needs as many values as mean");
  }
  void apply(Sample& sample, TransformRandom&) const override {
    auto& video = video_of(sample, "normalize");
    video = vision::normalize(video, mean_, std_);
  }

 private:
  RealList mean_, std_;
};

// clips played faster or slower: frames picked at start + i * speed, nearest frame
class Speed : public Transform {
 public:
  static Schema schema() {
    return Schema{}
        .real("min", 0.8, "slowest speed factor").at_least(0.05)
        .real("max", 1.2, "fastest speed factor").at_least(0.05)
        .integer("frames", 0, "frames kept per clip (a clip must have (frames-1)*max+1)")
        .at_least(2).required()
        .choice("start", "random", {"random", "first"}, "where the resampled clip starts")
        .choice("actions", "sum", {"sum", "mean"},
                "between-frame actions over merged intervals: summed (displacements) or averaged (rates)");
  }
  explicit Speed(const Params& p)
      : min_(p.get<double>("min")), max_(p.get<double>("max")), frames_(p.get<int64_t>("frames")),
        random_start_(p.get<std::string>("start") == "random"), mode_(resampling(p)) {
    if (min_ > max_) throw p.error("max", "must be at least min (" + std::to_string(min_) + ")");
  }
  void apply(Sample& sample, TransformRandom& draw) const override {
    int64_t length = video_of(sample, "speed").size(0);
    double speed = draw.uniform(min_, max_);
    double span = static_cast<double>(frames_ - 1) * speed;
    if (span > static_cast<double>(length - 1) + 1e-9)
      throw Error("speed: " + std::to_string(frames_) + " frames at speed up to " +
                  std::to_string(max_) + " need clips of " +
                  std::to_string(static_cast<int64_t>(std::ceil((frames_ - 1) * max_)) + 1) +
                  " frames; sample '" + sample.id + "' has " + std::to_string(length));
    double start = random_start_ ? draw.uniform(0.0, static_cast<double>(length - 1) - span) : 0.0;
    std::vector<int64_t> picked;
    for (int64_t i = 0; i < frames_; ++i)
      picked.push_back(std::min(length - 1, static_cast<int64_t>(std::floor(start + i * speed + 0.5))));
    resample_time(sample, picked, mode_);
  }

 private:
  double min_, max_;
  int64_t frames_;
  bool random_start_;
  ActionResampling mode_;
};

class FrameSkip : public Transform {
 public:
  static Schema schema() {
    return Schema{}
        .integer("step", 2, "keep every step-th frame").at_least(1)
        .integer("frames", 0, "frames kept per clip (0: as many as fit)").at_least(0)
        .choice("actions", "sum", {"sum", "mean"},
                "between-frame actions over merged intervals: summed (displacements) or averaged (rates)");
  }
  explicit FrameSkip(const Params& p)
      : step_(p.get<int64_t>("step")), frames_(p.get<int64_t>("frames")), mode_(resampling(p)) {}
  void apply(Sample& sample, TransformRandom&) const override {
    int64_t length = video_of(sample, "frame_skip").size(0);
    int64_t fit = (length - 1) / step_ + 1;
    if (frames_ > fit)
      throw Error("frame_skip: " + std::to_string(frames_) + " frames every " +
                  std::to_string(step_) + " need clips of " + std::to_string((frames_ - 1) * step_ + 1) +
                  " frames; sample '" + sample.id + "' has " + std::to_string(length));
    std::vector<int64_t> picked;
    for (int64_t i = 0; i < (frames_ > 0 ? frames_ : fit); ++i) picked.push_back(i * step_);
    resample_time(sample, picked, mode_);
  }

 private:
  int64_t step_, frames_;
  ActionResampling mode_;
};

template <class T>
std::unique_ptr<Transform> make(const Params& p) {
  return std::make_unique<T>(p);
}
std::unique_ptr<Transform> make_random_crop(const Params& p) { return std::make_unique<Crop>(p, true); }
std::unique_ptr<Transform> make_center_crop(const Params& p) { return std::make_unique<Crop>(p, false); }

}  // namespace

//---- the catalogue ----

const std::vector<TransformKind>& transform_kinds() {
  static const std::vector<TransformKind> kinds = {
      {"resize", "bilinear resize of every frame", &Resize::schema, &make<Resize>},
      {"center_crop", "the central crop of every frame", &Crop::schema, &make_center_crop},
      {"random_crop", "one random crop per clip", &Crop::schema, &make_random_crop},
      {"hflip", "mirror a clip left-right, with its x actions and x state", &HorizontalFlip::schema,
       &make<HorizontalFlip>},
      {"color_jitter", "brightness, contrast, saturation and hue drawn once per clip",
       &ColorJitter::schema, &make<ColorJitter>},
      {"normalize", "(video - mean) / std per channel", &Normalize::schema, &make<Normalize>},
      {"speed", "play clips faster or slower, actions kept consistent", &Speed::schema, &make<Speed>},
      {"frame_skip", "keep every k-th frame, actions kept consistent", &FrameSkip::schema,
       &make<FrameSkip>},
  };
  return kinds;
}

const TransformKind* find_transform_kind(const std::string& name) {
  for (const auto& kind : transform_kinds())
    if (name == kind.name) return &kind;
  return nullptr;
}

//---- the pipeline ----

void TransformPipeline::add(std::unique_ptr<Transform> transform, std::string key_path, SourceLoc loc) {
  steps_.push_back({std::move(transform), std::move(key_path), std::move(loc)});
}

void TransformPipeline::apply(Sample& sample, uint64_t seed) const {
  TransformRandom random(seed);
  for (const auto& step : steps_) {
    try {
      step.transform->apply(sample, random);
    } catch (const DataError&) {
      throw;
    } catch (const Error& e) {
      throw ConfigError(step.loc, step.key_path, user_message(e));
    }
  }
}

void TransformPipeline::check_keys(const std::vector<KeySpec>& keys) const {
  for (const auto& step : steps_) {
    std::string problem = step.transform->check_keys(keys);
    if (!problem.empty()) throw ConfigError(step.loc, step.key_path, problem);
  }
}

}  // namespace wm
