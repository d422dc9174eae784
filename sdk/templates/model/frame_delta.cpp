// Template model plugin: copy this folder, rename the class and the registered name, implement.
// frame_delta: predicts frame t+1 as frame t plus a change computed by a small convolutional net
// from frame t and the action taken between the two frames.
#include <torch/torch.h>

#include "wm/sdk.h"

namespace {

// the network: a plain LibTorch module; its register_module names become checkpoint names
struct FrameDeltaNet : torch::nn::Module {
  FrameDeltaNet(int64_t actions, int64_t hidden)
      : input(register_module("input", torch::nn::Conv2d(torch::nn::Conv2dOptions(3 + actions, hidden, 3).padding(1)))),
        output(register_module("output", torch::nn::Conv2d(torch::nn::Conv2dOptions(hidden, 3, 3).padding(1)))) {
    // start at "nothing changes": the untrained model copies frame t
    torch::NoGradGuard no_grad;
    output->weight.zero_();
    output->bias.zero_();
  }

  // frames [N, 3, H, W] in [0, 1], actions [N, A] -> next frames [N, 3, H, W]
  torch::Tensor forward(const torch::Tensor& frames, const torch::Tensor& actions) {
    auto planes = actions.view({actions.size(0), actions.size(1), 1, 1})
                      .expand({-1, -1, frames.size(2), frames.size(3)});
    auto change = output(torch::relu(input(torch::cat({frames, planes}, 1))));
    return frames + change;
  }

  torch::nn::Conv2d input, output;
};

// wm::TorchModel supplies parameters(), state(), set_training() and to_device() from the module
class FrameDelta : public wm::TorchModel {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .integer("actions", 2, "action width A of the data's actions [T-1, A]").at_least(1)
        .integer("hidden", 16, "channels of the hidden layer").at_least(1);
  }

  explicit FrameDelta(const wm::Params& p)
      : net_(std::make_shared<FrameDeltaNet>(p.get<int64_t>("actions"), p.get<int64_t>("hidden"))) {
    set_module(net_);
  }

  std::vector<std::string> required_keys() const override { return {"video", "actions"}; }

  // every consecutive pair of each clip: prediction and target [B, T-1, 3, H, W]
  wm::TensorMap predict(const wm::Batch& batch) override {
    const auto& video = batch.at("video");  // [B, T, 3, H, W] float in [0, 1]
    const auto& actions = batch.at("actions");  // [B, T-1, A]
    int64_t clips = video.size(0), steps = video.size(1) - 1;
    auto frames = video.slice(1, 0, steps).reshape({clips * steps, 3, video.size(3), video.size(4)});
    auto next = net_->forward(frames, actions.reshape({clips * steps, -1}));
    return {{"prediction", next.view({clips, steps, 3, video.size(3), video.size(4)})},
            {"target", video.slice(1, 1)}};
  }

  // the training objective: mean squared error of the predicted next frames
  wm::LossOutput loss(const wm::Batch& batch) override {
    auto outputs = predict(batch);
    wm::LossOutput out;
    out.loss = torch::mse_loss(outputs.at("prediction"), outputs.at("target"));
    out.logs["mse"] = out.loss.item<double>();
    return out;
  }

 private:
  std::shared_ptr<FrameDeltaNet> net_;
};

}  // namespace

// kind, class, registered name (never reuse a name for new behaviour), version, summary
WM_PLUGIN(wm::Model, FrameDelta, "frame_delta", "1.0.0",
          "Template: next frame = frame + a learned, action-conditioned change")
