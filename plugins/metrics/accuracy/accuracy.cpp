// accuracy: top-k classification accuracy of an action probe (or any classifier) from its logits
// and integer labels. A label counts as correct at k when its logit is among the k largest; ties
// are broken by torch::topk, as in torchvision's reference `accuracy()` for ImageNet.
#include <torch/torch.h>

#include "wm/sdk.h"

namespace {

class Accuracy : public wm::Metric {
 public:
  static wm::Schema schema() {
    return wm::Schema{}
        .integers("top_k", {1}, "report top1, top5, ... for each k").at_least(1)
        .integer("ignore_label", -100, "labels equal to this are skipped (e.g. padding steps)")
        .text("logits", "logits", "model output key holding class scores [..., classes]")
        .text("labels", "labels", "model output key holding int64 class labels [...]");
  }

  explicit Accuracy(const wm::Params& params)
      : top_k_(params.get<wm::IntList>("top_k")),
        ignore_label_(params.get<int64_t>("ignore_label")),
        logits_key_(params.get<std::string>("logits")),
        labels_key_(params.get<std::string>("labels")),
        correct_(top_k_.size(), 0) {
    if (top_k_.empty()) throw params.error("top_k", "needs at least one k, e.g. [1, 5]");
  }

  std::vector<std::string> required_keys() const override { return {logits_key_, labels_key_}; }

  void reset() override { std::fill(correct_.begin(), correct_.end(), 0), labelled_ = 0; }

  void update(const wm::TensorMap& outputs) override {
    const auto& logits = outputs.at(logits_key_);
    const auto& labels = outputs.at(labels_key_);
    if (logits.dim() < 1 || !logits.sizes().slice(0, logits.dim() - 1).equals(labels.sizes()))
      throw wm::Error("accuracy: logits " + wm::describe_tensor(logits) + " must be labels " +
                      wm::describe_tensor(labels) + " plus one class dimension");
    if (labels.is_floating_point())
      throw wm::Error("accuracy: labels " + wm::describe_tensor(labels) +
                      " must be an integer tensor of class indices");
    int64_t classes = logits.size(-1);
    // [..., classes] -> [N, classes]; drop ignored labels
    auto flat_labels = labels.reshape({-1}).to(torch::kInt64);
    auto kept = flat_labels != ignore_label_;
    auto scores = logits.reshape({-1, classes}).index({kept});
    flat_labels = flat_labels.index({kept});
    if (flat_labels.numel() == 0) return;
    if ((flat_labels < 0).any().item<bool>() || (flat_labels >= classes).any().item<bool>())
      throw wm::Error("accuracy: labels must lie in [0, " + std::to_string(classes) +
                      ") for " + std::to_string(classes) + " classes, got [" +
                      std::to_string(flat_labels.min().item<int64_t>()) + ", " +
                      std::to_string(flat_labels.max().item<int64_t>()) + "]");
    for (size_t i = 0; i < top_k_.size(); ++i)
      if (top_k_[i] > classes)
        throw wm::Error("accuracy: top_k " + std::to_string(top_k_[i]) + " exceeds the " +
                        std::to_string(classes) + " classes; lower accuracy.params.top_k");
    // one topk at the largest k answers every smaller k: [N, k_max] == label -> hits
    int64_t k_max = *std::max_element(top_k_.begin(), top_k_.end());
    auto ranked = std::get<1>(scores.topk(k_max, 1));
    auto hits = ranked.eq(flat_labels.unsqueeze(1));
    for (size_t i = 0; i < top_k_.size(); ++i)
      correct_[i] += hits.slice(1, 0, top_k_[i]).any(1).sum().item<int64_t>();
    labelled_ += flat_labels.numel();
  }

  void merge(const wm::Metric& other) override {
    const auto& source = wm::merge_source<Accuracy>(other, "accuracy");
    if (source.top_k_ != top_k_) throw wm::Error("accuracy: cannot merge states with different top_k");
    for (size_t i = 0; i < correct_.size(); ++i) correct_[i] += source.correct_[i];
    labelled_ += source.labelled_;
  }

  std::map<std::string, double> compute() const override {
    if (labelled_ == 0) throw wm::Error("accuracy: compute() before any labelled update()");
    std::map<std::string, double> values{{"labelled", static_cast<double>(labelled_)}};
    for (size_t i = 0; i < top_k_.size(); ++i)
      values["top" + std::to_string(top_k_[i])] = static_cast<double>(correct_[i]) / labelled_;
    return values;
  }

 private:
  wm::IntList top_k_;
  int64_t ignore_label_;
  std::string logits_key_, labels_key_;
  std::vector<int64_t> correct_;
  int64_t labelled_ = 0;
};

}  // namespace

WM_PLUGIN(wm::Metric, Accuracy, "accuracy", "1.0.0",
          "Top-k accuracy of class logits against integer labels (action probes)")
