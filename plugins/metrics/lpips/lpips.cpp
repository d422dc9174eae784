// lpips: Learned Perceptual Image Patch Similarity, version 0.1 (Zhang et al. 2018; the reference
// is richzhang/PerceptualSimilarity, lpips/pretrained_networks.py and lpips/lpips.py). A frozen
// torchvision backbone (alex, vgg16 or squeezenet1_1, same layer layout and parameter names, so
// torchvision checkpoints load as they are) is tapped after chosen ReLUs; each tap is unit-
// normalised over channels per pixel, squared differences are weighted by a non-negative 1x1 head,
// averaged over space and summed over taps. Frames are scored one by one, then averaged.
#include <torch/torch.h>

#include "wm/sdk.h"
#include "wm/io/weight_files.h"

namespace {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

//---- torchvision building blocks ----

nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding));
}
// not in place: a tap must keep its value after the next layer runs
nn::ReLU relu() { return nn::ReLU(nn::ReLUOptions(false)); }
nn::MaxPool2d max_pool(bool ceil_mode = false) {
  return nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).ceil_mode(ceil_mode));
}

// torchvision.models.squeezenet.Fire: squeeze 1x1, then 1x1 and 3x3 expansions concatenated
struct FireImpl : nn::Module {
  FireImpl(int64_t in, int64_t squeeze_planes, int64_t expand1x1_planes, int64_t expand3x3_planes)
      : squeeze(register_module("squeeze", conv(in, squeeze_planes, 1))),
        expand1x1(register_module("expand1x1", conv(squeeze_planes, expand1x1_planes, 1))),
        expand3x3(register_module("expand3x3", conv(squeeze_planes, expand3x3_planes, 3, 1, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    auto squeezed = torch::relu(squeeze(x));
    return torch::cat({torch::relu(expand1x1(squeezed)), torch::relu(expand3x3(squeezed))}, 1);
  }
  nn::Conv2d squeeze, expand1x1, expand3x3;
};
TORCH_MODULE(Fire);

//---- the backbones: torchvision `features` and LPIPS's tap points ----

struct Backbone {
  nn::Sequential features;
  std::vector<size_t> tap_ends;  // a tap is the output of features[0:end]
  std::vector<int64_t> tap_channels;
  std::vector<std::string> checkpoint_names;  // torchvision's file names, newest first
};

Backbone make_backbone(const std::string& net) {
  if (net == "alex")
    return {nn::Sequential(conv(3, 64, 11, 4, 2), relu(), max_pool(), conv(64, 192, 5, 1, 2), relu(),
                           max_pool(), conv(192, 384, 3, 1, 1), relu(), conv(384, 256, 3, 1, 1),
                           relu(), conv(256, 256, 3, 1, 1), relu(), max_pool()),
            {2, 5, 8, 10, 12},
            {64, 192, 384, 256, 256},
            {"alexnet-owt-7be5be79.pth", "alexnet-owt-4df8aa71.pth"}};
  if (net == "vgg") {
    // vgg16 configuration "D": channels per conv, 0 for a 2x2 max pool
    nn::Sequential features;
    int64_t in = 3;
    for (int64_t out : {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0}) {
      if (out == 0) {
        features->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
        continue;
      }
      features->push_back(conv(in, out, 3, 1, 1));
      features->push_back(relu());
      in = out;
    }
    return {features, {4, 9, 16, 23, 30}, {64, 128, 256, 512, 512}, {"vgg16-397923af.pth"}};
  }
  return {nn::Sequential(conv(3, 64, 3, 2), relu(), max_pool(true), Fire(64, 16, 64, 64),
                         Fire(128, 16, 64, 64), max_pool(true), Fire(128, 32, 128, 128),
                         Fire(256, 32, 128, 128), max_pool(true), Fire(256, 48, 192, 192),
                         Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256)),
          {2, 5, 8, 10, 11, 12, 13},
          {64, 128, 256, 384, 384, 512, 512},
          {"squeezenet1_1-b8a52dc0.pth", "squeezenet1_1-f364aa15.pth"}};
}

//---- the metric ----

class Lpips : public wm::Metric {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .choice("net", "alex", {"alex", "vgg", "squeeze"}, "backbone: alexnet, vgg16 or squeezenet1_1")
        .path("backbone_weights", "torchvision checkpoint of the backbone; default: "
                                  "<weights dir>/lpips/<torchvision file name>")
        .path("head_weights", "LPIPS v0.1 linear heads (lpips/weights/v0.1/<net>.pth); "
                              "default: <weights dir>/lpips/<net>.pth")
        .boolean("normalize", true, "frames are in [0, 1] (the data contract) and are mapped to "
                                    "[-1, 1]; false: they already are in [-1, 1]")
        .boolean("spatial", false, "upsample each layer's distance map to the frame size before "
                                   "averaging (lpips spatial=True, then .mean())")
        .integer("chunk_frames", 32, "frames per backbone call (bounds memory)").at_least(1)
        .boolean("channels_last", true, "run the backbone's convolutions on channels-last (NHWC) "
                                        "tensors: the same values, about 1.2x faster on CPU "
                                        "than the default layout")
        .text("prediction", "prediction", "model output key holding predicted frames [..., 3, H, W]")
        .text("target", "target", "model output key holding true frames [..., 3, H, W]");
  }

  explicit Lpips(const wm::Params& params)
      : net_(params.get<std::string>("net")),
        normalize_(params.get<bool>("normalize")),
        spatial_(params.get<bool>("spatial")),
        chunk_frames_(params.get<int64_t>("chunk_frames")),
        channels_last_(params.get<bool>("channels_last")),
        prediction_key_(params.get<std::string>("prediction")),
        target_key_(params.get<std::string>("target")),
        backbone_(make_backbone(net_)) {
    auto backbone_file = wm::io::find_weight_file(params.get<std::string>("backbone_weights"), "lpips",
                                              backbone_.checkpoint_names);
    auto head_file = wm::io::find_weight_file(params.get<std::string>("head_weights"), "lpips",
                                          {net_ + ".pth"});
    if (backbone_file.empty() || head_file.empty()) throw missing_weights();
    load_backbone(wm::io::load_weight_file(backbone_file), backbone_file.string());
    load_heads(wm::io::load_weight_file(head_file), head_file.string());
    backbone_.features->eval();
    if (channels_last_) {
      torch::NoGradGuard no_grad;
      for (auto& parameter : backbone_.features->parameters())
        if (parameter.dim() == 4) parameter.set_data(parameter.contiguous(at::MemoryFormat::ChannelsLast));
    }
    // ScalingLayer: ImageNet mean and std moved into [-1, 1] (2 mu - 1, 2 sigma)
    shift_ = torch::tensor({-.030f, -.088f, -.188f}).view({1, 3, 1, 1});
    scale_ = torch::tensor({.458f, .448f, .450f}).view({1, 3, 1, 1});
  }

  std::vector<std::string> required_keys() const override { return {prediction_key_, target_key_}; }

  void reset() override { distance_sum_ = 0, frames_ = 0; }

  void update(const wm::TensorMap& outputs) override {
    const auto& prediction = outputs.at(prediction_key_);
    const auto& target = outputs.at(target_key_);
    if (!prediction.sizes().equals(target.sizes()))
      throw wm::Error("lpips: prediction " + wm::describe_tensor(prediction) + " and target " +
                      wm::describe_tensor(target) + " differ in shape");
    if (prediction.dim() < 4 || prediction.size(-3) != 3)
      throw wm::Error("lpips: frames must be RGB [..., 3, H, W], got " +
                      wm::describe_tensor(prediction));
    // [..., 3, H, W] -> [frames, 3, H, W], scored in chunks
    auto shape = std::vector<int64_t>{-1, 3, prediction.size(-2), prediction.size(-1)};
    auto x0 = prediction.to(torch::kFloat32).reshape(shape);
    auto x1 = target.to(torch::kFloat32).reshape(shape);
    for (int64_t start = 0; start < x0.size(0); start += chunk_frames_) {
      auto d = distance(x0.slice(0, start, start + chunk_frames_), x1.slice(0, start, start + chunk_frames_));
      distance_sum_ += d.sum().item<double>();
      frames_ += d.size(0);
    }
  }

  void merge(const wm::Metric& other) override {
    const auto& source = wm::merge_source<Lpips>(other, "lpips");
    distance_sum_ += source.distance_sum_, frames_ += source.frames_;
  }

  std::map<std::string, double> compute() const override {
    if (frames_ == 0) throw wm::Error("lpips: compute() before any update()");
    return {{"lpips", distance_sum_ / frames_}};
  }

 private:
  // LPIPS of frame pairs: [N, 3, H, W] x 2 -> [N]
  torch::Tensor distance(torch::Tensor x0, torch::Tensor x1) {
    torch::NoGradGuard no_grad;
    if (normalize_) x0 = 2 * x0 - 1, x1 = 2 * x1 - 1;
    auto taps0 = taps((x0 - shift_) / scale_), taps1 = taps((x1 - shift_) / scale_);
    auto total = torch::zeros({x0.size(0)});
    for (size_t k = 0; k < taps0.size(); ++k) {
      // per pixel, unit length over channels (eps outside the sqrt, as lpips.normalize_tensor)
      auto unit0 = taps0[k] / (taps0[k].pow(2).sum(1, true).sqrt() + 1e-10);
      auto unit1 = taps1[k] / (taps1[k].pow(2).sum(1, true).sqrt() + 1e-10);
      // weighted squared difference: [N, C, h, w] -> [N, 1, h, w]
      auto map = F::conv2d((unit0 - unit1).pow(2), heads_[k]);
      if (spatial_)
        map = F::interpolate(map, F::InterpolateFuncOptions()
                                      .size(std::vector<int64_t>{x0.size(2), x0.size(3)})
                                      .mode(torch::kBilinear)
                                      .align_corners(false));
      total += map.mean({1, 2, 3});
    }
    return total;
  }

  // the backbone's outputs at every tap
  std::vector<torch::Tensor> taps(torch::Tensor x) {
    std::vector<torch::Tensor> outputs;
    auto layers = backbone_.features->begin();
    size_t layer = 0;
    if (channels_last_) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    for (size_t end : backbone_.tap_ends) {
      for (; layer < end; ++layer) x = layers[layer].forward(x);
      outputs.push_back(x);
    }
    return outputs;
  }

  void load_backbone(const wm::io::StateDict& tensors, const std::string& file) {
    torch::NoGradGuard no_grad;
    for (auto& item : backbone_.features->named_parameters()) {
      const std::string& name = item.key();
      torch::Tensor& parameter = item.value();
      auto found = tensors.find("features." + name);
      if (found == tensors.end())
        throw wm::Error("lpips: " + file + " has no features." + name +
                        "; is it torchvision's " + backbone_.checkpoint_names[0] + "?");
      if (!found->second.sizes().equals(parameter.sizes()))
        throw wm::Error("lpips: features." + name + " in " + file + " is " +
                        wm::describe_tensor(found->second) + ", net '" + net_ + "' needs " +
                        wm::describe_tensor(parameter));
      parameter.copy_(found->second);
    }
  }

  void load_heads(const wm::io::StateDict& tensors, const std::string& file) {
    for (size_t k = 0; k < backbone_.tap_channels.size(); ++k) {
      std::string key = "lin" + std::to_string(k) + ".model.1.weight";
      auto found = tensors.find(key);
      std::vector<int64_t> shape{1, backbone_.tap_channels[k], 1, 1};
      if (found == tensors.end() || !found->second.sizes().equals(shape))
        throw wm::Error("lpips: " + file + " has no " + key + " of shape [1, " +
                        std::to_string(shape[1]) + ", 1, 1]; is it the v0.1 head file " +
                        net_ + ".pth?");
      // the official training clamps the heads at 0; a negative weight means a wrong file
      if ((found->second < 0).any().item<bool>())
        throw wm::Error("lpips: " + key + " in " + file + " has negative weights; LPIPS heads "
                        "are non-negative, so this is not an LPIPS v0.1 head file");
      heads_.push_back(found->second.to(torch::kFloat32).contiguous());
    }
  }

  wm::Error missing_weights() const {
    auto folder = (wm::io::weights_dir() / "lpips").string();
    return wm::Error(
        "lpips: no weights for net '" + net_ + "'. Put torchvision's " +
        backbone_.checkpoint_names[0] + " (https://download.pytorch.org/models/" +
        backbone_.checkpoint_names[0] + ") and LPIPS's " + net_ +
        ".pth (https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/" +
        net_ + ".pth) into " + folder + "/, convert them once with `python3 "
        "scripts/convert_torch_weights.py " + folder + "/*.pth`, or set lpips.params."
        "backbone_weights and lpips.params.head_weights");
  }

  std::string net_;
  bool normalize_, spatial_;
  int64_t chunk_frames_;
  bool channels_last_;
  std::string prediction_key_, target_key_;
  Backbone backbone_;
  std::vector<torch::Tensor> heads_;
  torch::Tensor shift_, scale_;
  double distance_sum_ = 0;
  int64_t frames_ = 0;
};

}  // namespace

WM_PLUGIN(wm::Metric, Lpips, "lpips", "1.0.0",
          "LPIPS v0.1 perceptual distance (alex, vgg or squeeze backbone, torchvision weights)")
