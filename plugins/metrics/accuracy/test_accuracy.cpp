#include <torch/torch.h>

#include "test_support.h"
#include "wm/metric.h"

namespace wm {
namespace {

TEST(Accuracy, CountsALabelAsCorrectAtKWhenItsLogitIsAmongTheKLargest) {
  auto metric = test::make<Metric>("accuracy", "{top_k: [1, 2]}");
  auto logits = torch::tensor({{0.9, 0.5, 0.1},    // label 0: rank 1
                               {0.2, 0.7, 0.4},    // label 2: rank 2
                               {0.6, 0.3, 0.1}});  // label 1: rank 2
  auto labels = torch::tensor({0, 2, 1}, torch::kInt64);
  metric->reset();
  metric->update({{"logits", logits}, {"labels", labels}});
  auto values = metric->compute();
  EXPECT_DOUBLE_EQ(values.at("top1"), 1.0 / 3);
  EXPECT_DOUBLE_EQ(values.at("top2"), 1.0);
  EXPECT_DOUBLE_EQ(values.at("labelled"), 3);
}

TEST(Accuracy, ReadsPerStepLogitsAndSkipsTheIgnoredLabel) {
  auto metric = test::make<Metric>(
      "accuracy", "{logits: action_logits, labels: action_label, ignore_label: -1}");
  auto logits = torch::zeros({2, 2, 4});
  logits.index_put_({0, 0, 3}, 1.0), logits.index_put_({0, 1, 1}, 1.0);
  logits.index_put_({1, 0, 2}, 1.0);
  auto labels = torch::tensor({{3, 0}, {2, -1}}, torch::kInt64);
  metric->reset();
  metric->update({{"action_logits", logits}, {"action_label", labels}});
  EXPECT_DOUBLE_EQ(metric->compute().at("top1"), 2.0 / 3);
}

TEST(Accuracy, MergedStatesEqualOneInstanceSeeingEverything) {
  auto whole = test::make<Metric>("accuracy", "{top_k: [1, 3]}"),
       left = test::make<Metric>("accuracy", "{top_k: [1, 3]}"),
       right = test::make<Metric>("accuracy", "{top_k: [1, 3]}");
  auto logits = torch::randn({40, 6});
  auto labels = torch::randint(0, 6, {40}, torch::kInt64);
  whole->reset(), left->reset(), right->reset();
  whole->update({{"logits", logits}, {"labels", labels}});
  left->update({{"logits", logits.slice(0, 0, 15)}, {"labels", labels.slice(0, 0, 15)}});
  right->update({{"logits", logits.slice(0, 15)}, {"labels", labels.slice(0, 15)}});
  left->merge(*right);
  EXPECT_EQ(left->compute(), whole->compute());
}

TEST(Accuracy, KLargerThanTheClassCountIsRefusedWithTheFix) {
  auto metric = test::make<Metric>("accuracy", "{top_k: [1, 5]}");
  EXPECT_THAT(test::error_of([&] {
                metric->update({{"logits", torch::randn({2, 3})},
                                {"labels", torch::tensor({0, 1}, torch::kInt64)}});
              }),
              ::testing::HasSubstr("lower accuracy.params.top_k"));
}

TEST(Accuracy, LabelOutOfRangeIsNamed) {
  auto metric = test::make<Metric>("accuracy");
  EXPECT_THAT(test::error_of([&] {
                metric->update({{"logits", torch::randn({2, 3})},
                                {"labels", torch::tensor({0, 7}, torch::kInt64)}});
              }),
              ::testing::HasSubstr("labels must lie in [0, 3)"));
}

TEST(Accuracy, FloatLabelsAreRefused) {
  auto metric = test::make<Metric>("accuracy");
  EXPECT_THAT(test::error_of([&] {
                metric->update({{"logits", torch::randn({2, 3})}, {"labels", torch::zeros({2})}});
              }),
              ::testing::HasSubstr("must be an integer tensor"));
}

TEST(Accuracy, PassesTheContractChecks) {
  torch::manual_seed(0);
  auto inputs = [] {
    return TensorMap{{"logits", torch::randn({6, 4, 5})}, {"labels", torch::randint(0, 5, {6, 4})}};
  };
  EXPECT_THAT(testing::metric_conformance("accuracy", "{top_k: [1, 3]}", inputs(), inputs()),
              ::testing::IsEmpty());
}

}  // namespace
}  // namespace wm
