// The action scaler: float64 moments equal scikit-learn's StandardScaler, files round-trip in
// YAML and JSON, and the dataset wrapper checks sizes before anything runs.
#include <ATen/ATen.h>

#include "test_support.h"
#include "wm/io/action_scaler.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

TEST(RunningMoments, EqualsStandardScalerAcrossBatchesAndScales) {
  test::TempDir dir;
  // four columns whose scales differ by orders of magnitude, like mouse pixels vs radians
  at::manual_seed(3);
  auto values = at::randn({5000, 4}, at::kDouble) * at::tensor({12.0, 9.0, 0.14, 1e-3}, at::kDouble) +
                at::tensor({1e4, -0.1, 0.003, 2.0}, at::kDouble);
  test::write_raw(dir.path() / "values.f64", values);
  io::RunningMoments moments(4);
  const double* data = values.data_ptr<double>();
  for (int64_t start = 0, size = 1; start < 5000; start += size, size = size * 2 % 997 + 1)
    moments.add(data + start * 4, static_cast<size_t>(std::min<int64_t>(size, 5000 - start)));
  const char* script = R"(
import sys, numpy as np
from sklearn.preprocessing import StandardScaler
x = np.fromfile(sys.argv[1] + "/values.f64").reshape(-1, 4)
s = StandardScaler().fit(x)
print(" ".join(repr(v) for v in list(s.mean_) + list(s.scale_)))
)";
  std::istringstream reference(test::run_python(dir, script));
  std::vector<double> expected(8);
  for (double& value : expected) reference >> value;
  auto stds = moments.stddev();
  EXPECT_EQ(moments.count(), 5000);
  for (size_t d = 0; d < 4; ++d) {
    EXPECT_NEAR(moments.mean()[d], expected[d], 1e-12 * std::max(1.0, std::abs(expected[d]))) << d;
    EXPECT_NEAR(stds[d], expected[4 + d], 1e-10 * expected[4 + d]) << d;
  }
}

io::ActionScaler example_scaler() {
  io::ActionScaler scaler;
  scaler.names = {"mouse.dx", "yaw_diff", "still"};
  scaler.mean = {0.125, 0.003, 5.0};
  scaler.std = {12.453, 0.1420000000000001, 0.0};
  scaler.count = 100352;
  scaler.converged = true;
  return scaler;
}

TEST(ActionScaler, RoundTripsExactlyInYamlAndJson) {
  test::TempDir dir;
  for (const char* name : {"s.yaml", "s.json"}) {
    example_scaler().save(dir.path() / name);
    io::ActionScaler loaded = io::ActionScaler::load(dir.path() / name);
    EXPECT_EQ(loaded.names, example_scaler().names) << name;
    EXPECT_EQ(loaded.mean, example_scaler().mean) << name;
    EXPECT_EQ(loaded.std, example_scaler().std) << name << " (17 digits round-trip)";
    EXPECT_EQ(loaded.count, 100352);
    EXPECT_TRUE(loaded.converged);
  }
}

TEST(ActionScaler, AppliesAndInvertsOverTheLastDimension) {
  io::ActionScaler scaler = example_scaler();
  auto actions = at::tensor({12.578f, 0.145f, 5.0f, 0.125f, 0.003f, 7.0f}).view({1, 2, 3});
  auto scaled = scaler.apply(actions);
  EXPECT_EQ(scaled.scalar_type(), at::kFloat);
  EXPECT_NEAR(scaled[0][0][0].item<double>(), 1.0, 1e-5);
  EXPECT_NEAR(scaled[0][0][1].item<double>(), 1.0, 1e-5);
  EXPECT_EQ(scaled[0][1][2].item<double>(), 2.0) << "a zero std divides by 1, like sklearn";
  EXPECT_TRUE(at::allclose(scaler.invert(scaled), actions, 1e-5, 1e-6));
  EXPECT_THAT(test::error_of([&] { scaler.apply(at::zeros({7, 4})); }),
              HasSubstr("action scaler has 3 dimensions, the actions have 4"));
}

TEST(ActionScaler, LoadErrorsNameTheFileAndField) {
  test::TempDir dir;
  EXPECT_THAT(test::error_of([&] { io::ActionScaler::load(dir.path() / "none.yaml"); }),
              HasSubstr("fit one with the fit_action_scaler procedure"));
  EXPECT_THAT(test::error_of([&] { io::ActionScaler::load(dir.path() / "s.pkl"); }),
              HasSubstr("name it .yaml, .yml or .json"));
  auto file = dir.write("bad.yaml", "names: [a, b]\nmean: [0, 1]\n");
  EXPECT_THAT(test::error_of([&] { io::ActionScaler::load(file); }),
              HasSubstr("bad.yaml: missing list 'std'"));
  file = dir.write("short.json", R"({"names": ["a", "b"], "mean": [0, 1], "std": [1]})");
  EXPECT_THAT(test::error_of([&] { io::ActionScaler::load(file); }),
              HasSubstr("must have the same non-zero length (have 2, 2, 1)"));
}

// a dataset with 2-d actions declared in keys()
class TwoActions : public Dataset {
 public:
  int64_t size() const override { return 3; }
  Sample get(int64_t index) const override {
    return {{{"actions", at::full({4, 2}, static_cast<float>(index))}}, id(index), "", ""};
  }
  std::vector<KeySpec> keys() const override { return {{"actions", "float32", "[T-1, 2]", "moves"}}; }
  std::string id(int64_t index) const override { return "s" + std::to_string(index); }
};

TEST(ScaledActionsDataset, StandardisesActionsAndChecksSizeAtStartup) {
  io::ActionScaler scaler;
  scaler.names = {"x", "y"};
  scaler.mean = {1.0, 2.0};
  scaler.std = {2.0, 4.0};
  io::ScaledActionsDataset scaled(std::make_shared<TwoActions>(), scaler, "s.yaml");
  auto actions = scaled.get(2).tensors.at("actions");
  EXPECT_FLOAT_EQ(actions[3][0].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(actions[3][1].item<float>(), 0.0f);
  EXPECT_EQ(scaled.id(1), "s1");
  EXPECT_THAT(scaled.keys()[0].doc, HasSubstr("standardised by s.yaml"));

  io::ActionScaler wide = example_scaler();
  EXPECT_THAT(test::error_of([&] { io::ScaledActionsDataset(std::make_shared<TwoActions>(), wide, "w.yaml"); }),
              HasSubstr("action_scaler w.yaml has 3 dimensions, the dataset's actions have 2"));
}

}  // namespace
}  // namespace wm
