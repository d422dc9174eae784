#include <torch/torch.h>

#include <cmath>

#include "test_support.h"
#include "wm/metric.h"

namespace wm {
namespace {

TEST(Psnr, MatchesTheFormulaPerFrameThenAveraged) {
  auto metric = test::make<Metric>("psnr");
  auto target = torch::zeros({1, 2, 3, 4, 4});
  auto prediction = target.clone();
  prediction[0][0].fill_(0.1);  // frame 0: mse 0.01 -> 20 dB
  prediction[0][1].fill_(0.01); // frame 1: mse 1e-4 -> 40 dB
  metric->reset();
  metric->update({{"prediction", prediction}, {"target", target}});
  auto values = metric->compute();
  EXPECT_NEAR(values.at("psnr"), 30.0, 1e-4);
  EXPECT_NEAR(values.at("mse"), (0.01 + 1e-4) / 2, 1e-9);
}

TEST(Psnr, AccumulatesAcrossUpdatesAndCapsPerfectFrames) {
  auto metric = test::make<Metric>("psnr", "{max_db: 60}");
  auto frame = torch::rand({1, 1, 3, 8, 8});
  metric->reset();
  metric->update({{"prediction", frame}, {"target", frame}});
  EXPECT_DOUBLE_EQ(metric->compute().at("psnr"), 60.0);
}

TEST(Psnr, MergedStatesEqualOneInstanceSeeingEverything) {
  auto whole = test::make<Metric>("psnr"), left = test::make<Metric>("psnr"),
       right = test::make<Metric>("psnr");
  auto prediction = torch::rand({4, 2, 3, 8, 8}), target = torch::rand({4, 2, 3, 8, 8});
  whole->reset(), left->reset(), right->reset();
  whole->update({{"prediction", prediction}, {"target", target}});
  left->update({{"prediction", prediction.slice(0, 0, 1)}, {"target", target.slice(0, 0, 1)}});
  right->update({{"prediction", prediction.slice(0, 1)}, {"target", target.slice(0, 1)}});
  left->merge(*right);
  EXPECT_NEAR(left->compute().at("psnr"), whole->compute().at("psnr"), 1e-9);
  EXPECT_NEAR(left->compute().at("mse"), whole->compute().at("mse"), 1e-12);
}

TEST(Psnr, ShapeMismatchIsNamed) {
  auto metric = test::make<Metric>("psnr");
  EXPECT_THAT(test::error_of([&] {
                metric->update({{"prediction", torch::zeros({1, 3, 4, 4})},
                                {"target", torch::zeros({1, 3, 4, 5})}});
              }),
              ::testing::HasSubstr("differ in shape"));
}

}  // namespace
}  // namespace wm
