#include <torch/torch.h>

#include "test_support.h"
#include "block_causal.h"
#include "wm/nn/transformer.h"

namespace wm {
namespace {

TEST(BlockCausalMask, EachStepSeesItselfAndEarlierStepsOnly) {
  // 3 steps of 2 tokens: rows are queries, columns keys
  auto expected = torch::tensor({{1, 1, 0, 0, 0, 0},
                                 {1, 1, 0, 0, 0, 0},
                                 {1, 1, 1, 1, 0, 0},
                                 {1, 1, 1, 1, 0, 0},
                                 {1, 1, 1, 1, 1, 1},
                                 {1, 1, 1, 1, 1, 1}}).to(torch::kBool);
  auto mask = nn::block_causal_mask(3, 2);
  EXPECT_EQ(mask.scalar_type(), torch::kBool);
  EXPECT_TRUE(torch::equal(mask, expected)) << mask;
}

TEST(BlockCausalMask, OneTokenPerStepIsTheCausalMask) {
  EXPECT_TRUE(torch::equal(nn::block_causal_mask(4, 1), torch::ones({4, 4}, torch::kBool).tril()));
}

TEST(BlockCausalMask, LaterStepsCannotChangeEarlierOutputs) {
  torch::manual_seed(0);
  nn::Block block(16, 2);
  auto mask = nn::block_causal_mask(3, 2);
  auto x = torch::randn({1, 6, 16});
  auto changed = x.clone();
  changed.slice(1, 4).add_(torch::randn({1, 2, 16}));  // only step 2 differs (not by a constant: LayerNorm removes those)
  auto a = block->forward(x, mask), b = block->forward(changed, mask);
  EXPECT_TRUE(torch::allclose(a.slice(1, 0, 4), b.slice(1, 0, 4), 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(a.slice(1, 4), b.slice(1, 4)));
  // without the mask every output sees step 2
  EXPECT_FALSE(torch::allclose(block->forward(x).slice(1, 0, 4), block->forward(changed).slice(1, 0, 4)));
}

}  // namespace
}  // namespace wm
