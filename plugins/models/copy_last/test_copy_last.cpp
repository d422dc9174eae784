#include <torch/torch.h>

#include "test_support.h"
#include "wm/model.h"

namespace wm {
namespace {

TEST(CopyLast, PredictsFrameTPlusGapAsFrameT) {
  auto model = test::make<Model>("copy_last", "{gap: 2}");
  Batch batch;
  batch.tensors["video"] = torch::arange(5).to(torch::kFloat).view({1, 5, 1, 1, 1});
  batch.ids = {"a"};
  auto outputs = model->predict(batch);
  EXPECT_TRUE(torch::equal(outputs.at("prediction").flatten(), torch::tensor({0.f, 1.f, 2.f})));
  EXPECT_TRUE(torch::equal(outputs.at("target").flatten(), torch::tensor({2.f, 3.f, 4.f})));
}

TEST(CopyLast, TooShortClipsAreAClearError) {
  auto model = test::make<Model>("copy_last", "{gap: 4}");
  Batch batch;
  batch.tensors["video"] = torch::zeros({1, 4, 3, 8, 8});
  batch.ids = {"a"};
  EXPECT_THAT(test::error_of([&] { model->predict(batch); }),
              ::testing::HasSubstr("clips have 4 frames, too few for gap 4"));
}

}  // namespace
}  // namespace wm
