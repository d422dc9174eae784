#include <torch/torch.h>

#include <cmath>

#include "test_support.h"
#include "wm/metric.h"

namespace wm {
namespace {

// two 2x2 flow fields with hand-picked errors (true flow 0 unless set)
struct TwoImages {
  torch::Tensor estimate = torch::zeros({2, 2, 2, 2}), truth = torch::zeros({2, 2, 2, 2});
  torch::Tensor valid = torch::ones({2, 2, 2});
  TwoImages() {
    // image 0: one valid pixel, error 4 px, true flow 100 px long (4 < 5% of 100: not Fl)
    truth.index_put_({0, 0, 0, 0}, 100.0), estimate.index_put_({0, 0, 0, 0}, 104.0);
    valid[0].fill_(0), valid.index_put_({0, 0, 0}, 1);
    // image 1: errors 0.5, 2, 6 (true flow 10 px: Fl) and 0
    estimate.index_put_({1, 0, 0, 0}, 0.5);
    estimate.index_put_({1, 1, 0, 1}, 2.0);
    truth.index_put_({1, 0, 1, 0}, 10.0), estimate.index_put_({1, 0, 1, 0}, 16.0);
  }
  TensorMap outputs() const { return {{"prediction", estimate}, {"target", truth}, {"valid", valid}}; }
};

TEST(Epe, SintelPoolsPixelsWhileKittiAveragesImages) {
  TwoImages data;
  auto sintel = test::make<Metric>("epe", "{valid: valid}");
  auto kitti = test::make<Metric>("epe", "{valid: valid, convention: kitti}");
  sintel->reset(), kitti->reset();
  sintel->update(data.outputs()), kitti->update(data.outputs());
  auto pooled = sintel->compute(), per_image = kitti->compute();
  EXPECT_DOUBLE_EQ(pooled.at("epe"), (4 + 0.5 + 2 + 6 + 0) / 5.0);
  EXPECT_DOUBLE_EQ(per_image.at("epe"), (4 + (0.5 + 2 + 6 + 0) / 4.0) / 2);
  EXPECT_DOUBLE_EQ(pooled.at("within_1px"), 2 / 5.0);
  EXPECT_DOUBLE_EQ(pooled.at("within_3px"), 3 / 5.0);
  EXPECT_DOUBLE_EQ(pooled.at("within_5px"), 4 / 5.0);
  EXPECT_DOUBLE_EQ(pooled.at("fl_all"), 100 * 1 / 5.0);
}

// the formulas written out pixel by pixel, on random flow with a random mask
TEST(Epe, MatchesAPixelLoopOnRandomFlow) {
  torch::manual_seed(5);
  auto estimate = torch::randn({3, 2, 2, 9, 7}) * 4, truth = torch::randn({3, 2, 2, 9, 7}) * 4;
  auto valid = torch::rand({3, 2, 9, 7}) > 0.3;
  double pooled = 0, pixels = 0, per_image = 0, fl = 0, within3 = 0;
  auto flat_estimate = estimate.reshape({6, 2, 9, 7}), flat_truth = truth.reshape({6, 2, 9, 7});
  auto flat_valid = valid.reshape({6, 9, 7});
  auto e = flat_estimate.accessor<float, 4>(), t = flat_truth.accessor<float, 4>();
  auto v = flat_valid.accessor<bool, 3>();
  for (int i = 0; i < 6; ++i) {
    double image_sum = 0, image_pixels = 0;
    for (int y = 0; y < 9; ++y)
      for (int x = 0; x < 7; ++x) {
        if (!v[i][y][x]) continue;
        double du = e[i][0][y][x] - t[i][0][y][x];
        double dv = e[i][1][y][x] - t[i][1][y][x];
        double error = std::sqrt(du * du + dv * dv);
        double length = std::hypot(double(t[i][0][y][x]), double(t[i][1][y][x]));
        image_sum += error, image_pixels += 1;
        fl += error > 3 && error / length > 0.05, within3 += error < 3;
      }
    pooled += image_sum, pixels += image_pixels, per_image += image_sum / image_pixels;
  }
  auto sintel = test::make<Metric>("epe", "{valid: mask}");
  auto kitti = test::make<Metric>("epe", "{valid: mask, convention: kitti}");
  TensorMap outputs{{"prediction", estimate}, {"target", truth}, {"mask", valid}};
  sintel->reset(), kitti->reset();
  sintel->update(outputs), kitti->update(outputs);
  EXPECT_NEAR(sintel->compute().at("epe"), pooled / pixels, 1e-6);
  EXPECT_NEAR(kitti->compute().at("epe"), per_image / 6, 1e-6);
  EXPECT_NEAR(kitti->compute().at("fl_all"), 100 * fl / pixels, 1e-9);
  EXPECT_NEAR(sintel->compute().at("within_3px"), within3 / pixels, 1e-9);
}

TEST(Epe, MiddleburyUnknownMarkersAreNotCounted) {
  auto metric = test::make<Metric>("epe");
  auto truth = torch::zeros({1, 2, 1, 2}), estimate = torch::zeros({1, 2, 1, 2});
  truth.index_put_({0, 0, 0, 1}, 1e10f), estimate.index_put_({0, 0, 0, 0}, 3.0);
  metric->reset();
  metric->update({{"prediction", estimate}, {"target", truth}});
  EXPECT_DOUBLE_EQ(metric->compute().at("epe"), 3.0);
}

TEST(Epe, MergedStatesEqualOneInstanceSeeingEverything) {
  TwoImages data;
  auto whole = test::make<Metric>("epe", "{valid: valid, convention: kitti}");
  auto left = test::make<Metric>("epe", "{valid: valid, convention: kitti}");
  auto right = test::make<Metric>("epe", "{valid: valid, convention: kitti}");
  whole->reset(), left->reset(), right->reset();
  whole->update(data.outputs());
  left->update({{"prediction", data.estimate.slice(0, 0, 1)}, {"target", data.truth.slice(0, 0, 1)},
                {"valid", data.valid.slice(0, 0, 1)}});
  right->update({{"prediction", data.estimate.slice(0, 1)}, {"target", data.truth.slice(0, 1)},
                 {"valid", data.valid.slice(0, 1)}});
  left->merge(*right);
  EXPECT_EQ(left->compute(), whole->compute());
}

TEST(Epe, MismatchedMaskIsNamed) {
  auto metric = test::make<Metric>("epe", "{valid: valid}");
  EXPECT_THAT(test::error_of([&] {
                metric->update({{"prediction", torch::zeros({1, 2, 4, 4})},
                                {"target", torch::zeros({1, 2, 4, 4})},
                                {"valid", torch::ones({1, 4, 5})}});
              }),
              ::testing::HasSubstr("valid mask [1, 4, 5] Float does not match flow"));
}

TEST(Epe, AllMasksEmptyIsAnError) {
  auto metric = test::make<Metric>("epe", "{valid: valid}");
  metric->reset();
  metric->update({{"prediction", torch::zeros({1, 2, 4, 4})}, {"target", torch::zeros({1, 2, 4, 4})},
                  {"valid", torch::zeros({1, 4, 4})}});
  EXPECT_THAT(test::error_of([&] { metric->compute(); }),
              ::testing::HasSubstr("every valid mask was empty"));
}

TEST(Epe, PassesTheContractChecks) {
  torch::manual_seed(0);
  auto inputs = [] {
    auto truth = torch::randn({2, 2, 12, 16}) * 3;
    return TensorMap{{"prediction", truth + torch::randn_like(truth)}, {"target", truth}};
  };
  EXPECT_THAT(testing::metric_conformance("epe", "{}", inputs(), inputs()), ::testing::IsEmpty());
}

}  // namespace
}  // namespace wm
