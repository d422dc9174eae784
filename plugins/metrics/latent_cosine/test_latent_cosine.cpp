#include <torch/torch.h>

#include "test_support.h"
#include "wm/metric.h"

namespace wm {
namespace {

TEST(LatentCosine, AveragesTheCosineOfEveryVectorAlongTheLastDimension) {
  auto metric = test::make<Metric>("latent_cosine");
  // two latents: the same direction (cos 1) and orthogonal (cos 0) -> mean 0.5
  auto target = torch::tensor({{{1.0, 0.0}, {0.0, 2.0}}});
  auto prediction = torch::tensor({{{3.0, 0.0}, {5.0, 0.0}}});
  metric->reset();
  metric->update({{"prediction", prediction}, {"target", target}});
  auto values = metric->compute();
  EXPECT_NEAR(values.at("cosine"), 0.5, 1e-12);
  EXPECT_NEAR(values.at("mse"), ((4.0 + 0.0) / 2 + (25.0 + 4.0) / 2) / 2, 1e-12);
}

TEST(LatentCosine, EqualsTorchCosineSimilarityOnTokenLatents) {
  auto metric = test::make<Metric>("latent_cosine", "{prediction: z_hat, target: z}");
  auto z = torch::randn({2, 3, 5, 16}), z_hat = z + 0.5 * torch::randn({2, 3, 5, 16});
  metric->reset();
  metric->update({{"z_hat", z_hat}, {"z", z}});
  double expected = torch::cosine_similarity(z_hat.to(torch::kFloat64), z.to(torch::kFloat64), -1)
                        .mean().item<double>();
  EXPECT_NEAR(metric->compute().at("cosine"), expected, 1e-12);
}

TEST(LatentCosine, ZeroLatentScoresZeroNotNan) {
  auto metric = test::make<Metric>("latent_cosine");
  metric->reset();
  metric->update({{"prediction", torch::zeros({1, 4})}, {"target", torch::ones({1, 4})}});
  EXPECT_EQ(metric->compute().at("cosine"), 0.0);
}

TEST(LatentCosine, MergedStatesEqualOneInstanceSeeingEverything) {
  auto whole = test::make<Metric>("latent_cosine"), left = test::make<Metric>("latent_cosine"),
       right = test::make<Metric>("latent_cosine");
  auto a = torch::randn({5, 8}), b = torch::randn({5, 8});
  whole->reset(), left->reset(), right->reset();
  whole->update({{"prediction", a}, {"target", b}});
  left->update({{"prediction", a.slice(0, 0, 2)}, {"target", b.slice(0, 0, 2)}});
  right->update({{"prediction", a.slice(0, 2)}, {"target", b.slice(0, 2)}});
  left->merge(*right);
  EXPECT_NEAR(left->compute().at("cosine"), whole->compute().at("cosine"), 1e-12);
}

TEST(LatentCosine, ShapeMismatchIsNamed) {
  auto metric = test::make<Metric>("latent_cosine");
  EXPECT_THAT(test::error_of([&] {
                metric->update({{"prediction", torch::zeros({2, 8})}, {"target", torch::zeros({2, 9})}});
              }),
              ::testing::HasSubstr("differ in shape"));
}

}  // namespace
}  // namespace wm
