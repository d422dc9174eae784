// The knobs that make `synthetic` stand in for several visual domains (palette, background,
// texture, label_noise, text) and gravity as a real: each changes what it should and nothing else.
#include <torch/torch.h>

#include <cmath>

#include "test_support.h"
#include "wm/dataset.h"
#include "wm/sim/disc_world.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

const at::Tensor& key(const Sample& sample, const std::string& name) { return sample.tensors.at(name); }

// every key but video is the same in two clips: the same world, pushed the same way
void expect_same_world(const Sample& a, const Sample& b) {
  EXPECT_TRUE(torch::equal(key(a, "state"), key(b, "state")));
  EXPECT_TRUE(torch::equal(key(a, "actions"), key(b, "actions")));
  EXPECT_TRUE(torch::equal(key(a, "action_label"), key(b, "action_label")));
}

// [H, W] true where no disc covers the pixel in any frame: the table the plain clip shows as its
// uniform colour (24, 24, 24), with a margin of one pixel for faint anti-aliased edges
at::Tensor table_mask(const at::Tensor& plain_video) {
  auto table = (plain_video == 24).all(1).all(0);  // [H, W]
  auto grown = torch::max_pool2d((~table).to(torch::kFloat).unsqueeze(0), 3, 1, 1).squeeze(0) > 0;
  return ~grown;
}

//---- palette and background ----

TEST(SyntheticDomains, PaletteChangesColoursNotPositions) {
  auto plain = test::make<Dataset>("synthetic", "{samples: 20, objects: 3}");
  auto rotated = test::make<Dataset>("synthetic", "{samples: 20, objects: 3, palette: 3}");
  for (int64_t i = 0; i < 20; ++i) {
    Sample a = plain->get(i), b = rotated->get(i);
    expect_same_world(a, b);
    EXPECT_FALSE(torch::equal(key(a, "video"), key(b, "video")));
    // the table is untouched
    auto table = table_mask(key(a, "video")).expand_as(key(a, "video"));
    EXPECT_TRUE(torch::equal(key(a, "video").masked_select(table), key(b, "video").masked_select(table)));
  }
  // disc 0's centre wears colour 0 (230, 80, 60) and, rotated by 3, colour 3 (90, 200, 110),
  // unless another disc overlaps it (they start apart)
  Sample a = plain->get(0), b = rotated->get(0);
  int64_t size = key(a, "video").size(3);
  auto x = static_cast<int64_t>(key(a, "state")[0][0].item<double>() * size);
  auto y = static_cast<int64_t>(key(a, "state")[0][1].item<double>() * size);
  auto pixel = [&](const Sample& s) { return key(s, "video").index({0, torch::indexing::Slice(), y, x}); };
  EXPECT_TRUE(torch::equal(pixel(a), torch::tensor({230, 80, 60}, torch::kUInt8)));
  EXPECT_TRUE(torch::equal(pixel(b), torch::tensor({90, 200, 110}, torch::kUInt8)));
}

TEST(SyntheticDomains, BackgroundPaintsTheTableOnly) {
  auto plain = test::make<Dataset>("synthetic", "{samples: 10, objects: 2}");
  auto light = test::make<Dataset>("synthetic", "{samples: 10, objects: 2, background: [225, 215, 190]}");
  for (int64_t i = 0; i < 10; ++i) {
    Sample a = plain->get(i), b = light->get(i);
    expect_same_world(a, b);
    auto table = table_mask(key(a, "video"));  // [H, W]
    auto video = key(b, "video");              // [T, 3, H, W]
    const int colour[3] = {225, 215, 190};
    for (int c = 0; c < 3; ++c)
      EXPECT_TRUE((video.select(1, c).masked_select(table.expand({video.size(0), -1, -1})) == colour[c]).all().item<bool>());
  }
  EXPECT_THAT(test::error_of([] { test::make<Dataset>("synthetic", "{background: [1, 2]}"); }),
              HasSubstr("background: needs 3 values (R G B), got 2"));
}

//---- texture ----

TEST(SyntheticDomains, TextureIsStaticNoiseOfTheGivenAmplitude) {
  auto plain = test::make<Dataset>("synthetic", "{samples: 6, objects: 2, size: 64}");
  auto textured = test::make<Dataset>("synthetic", "{samples: 6, objects: 2, size: 64, texture: 20}");
  auto per_clip = test::make<Dataset>("synthetic", "{samples: 6, objects: 2, size: 64, texture: 20, texture_per_clip: true}");
  auto other_table = test::make<Dataset>("synthetic", "{samples: 6, objects: 2, size: 64, texture: 20, texture_seed: 9}");
  std::vector<at::Tensor> tables, clip_tables;
  for (int64_t i = 0; i < 6; ++i) {
    Sample a = plain->get(i), b = textured->get(i);
    expect_same_world(a, b);
    auto mask = table_mask(key(a, "video"));
    auto grey = key(b, "video").to(torch::kFloat)[0][0];  // frame 0, red channel
    // static: every frame shows the same table
    auto video = key(b, "video").to(torch::kFloat);
    EXPECT_TRUE(torch::equal(video.select(0, 0).masked_select(mask), video.select(0, -1).masked_select(mask)));
    // uniform in [-20, 20] around the table's 24: mean 0, sd 20/sqrt(3) (11.5), clipped at 4 below
    auto offsets = grey.masked_select(mask) - 24;
    EXPECT_GE(offsets.min().item<double>(), -20);
    EXPECT_LE(offsets.max().item<double>(), 20);
    EXPECT_NEAR(offsets.std().item<double>(), 20 / std::sqrt(3.0), 1.5);
    tables.push_back(torch::where(mask, grey, torch::zeros_like(grey)));
    auto g = key(per_clip->get(i), "video").to(torch::kFloat)[0][0];
    clip_tables.push_back(torch::where(mask, g, torch::zeros_like(g)));
  }
  // one table for the dataset (where both clips show it), or a new one per clip
  auto both = (tables[0] != 0) & (tables[1] != 0);
  EXPECT_TRUE(torch::equal(tables[0].masked_select(both), tables[1].masked_select(both)));
  auto both_clip = (clip_tables[0] != 0) & (clip_tables[1] != 0);
  EXPECT_FALSE(torch::equal(clip_tables[0].masked_select(both_clip), clip_tables[1].masked_select(both_clip)));
  EXPECT_FALSE(torch::equal(key(textured->get(0), "video"), key(other_table->get(0), "video")));
}

//---- label noise and text ----

TEST(SyntheticDomains, LabelNoiseRedrawsTheGivenShareOfLabels) {
  const int64_t n = 4000;
  auto clean = test::make<Dataset>("synthetic", "{samples: 4000, frames: 2, size: 8, objects: 1}");
  auto noisy = test::make<Dataset>("synthetic", "{samples: 4000, frames: 2, size: 8, objects: 1, label_noise: 0.2}");
  int64_t changed = 0;
  std::vector<int64_t> to(5, 0);
  for (int64_t i = 0; i < n; ++i) {
    Sample a = clean->get(i), b = noisy->get(i);
    EXPECT_TRUE(torch::equal(key(a, "video"), key(b, "video")));
    EXPECT_TRUE(torch::equal(key(a, "actions"), key(b, "actions")));
    int64_t before = key(a, "action_label").item<int64_t>(), after = key(b, "action_label").item<int64_t>();
    EXPECT_EQ(b.text, std::vector<std::string>({"push right", "push up", "push left", "push down", "stay"})[after]);
    if (before != after) ++changed, ++to[after];
  }
  // a redraw is uniform over the 5 labels, so 0.2 redraws change 0.2 * 4/5 = 16 % of the labels
  // (binomial sd sqrt(0.16 * 0.84 / 4000) = 0.58 %; 4 sd either side)
  EXPECT_NEAR(static_cast<double>(changed) / n, 0.16, 4 * std::sqrt(0.16 * 0.84 / n));
  for (int64_t label = 0; label < 5; ++label)  // each label receives about a fifth of the changes
    EXPECT_NEAR(static_cast<double>(to[label]) / changed, 0.2, 0.05) << label;
  // deterministic per sample, whatever the order of reading
  auto again = test::make<Dataset>("synthetic", "{samples: 4000, frames: 2, size: 8, objects: 1, label_noise: 0.2}");
  for (int64_t i = n - 1; i >= n - 50; --i)
    EXPECT_TRUE(torch::equal(key(again->get(i), "action_label"), key(noisy->get(i), "action_label")));
}

TEST(SyntheticDomains, TextNamesEachLabel) {
  auto dataset = test::make<Dataset>(
      "synthetic", "{samples: 30, frames: 2, size: 8, text: [slide east, slide north, slide west, slide south, rest]}");
  const std::vector<std::string> texts = {"slide east", "slide north", "slide west", "slide south", "rest"};
  for (int64_t i = 0; i < 30; ++i) {
    Sample sample = dataset->get(i);
    EXPECT_EQ(sample.text, texts[key(sample, "action_label").item<int64_t>()]);
  }
  EXPECT_THAT(test::error_of([] { test::make<Dataset>("synthetic", "{text: [a, b]}"); }),
              HasSubstr("text: needs one text per label (5), got 2"));
}

//---- gravity ----

TEST(SyntheticDomains, GravityIsAReal) {
  auto zero = test::make<Dataset>("synthetic", "{samples: 4, gravity: 0}");
  auto none = test::make<Dataset>("synthetic", "{samples: 4}");
  for (int64_t i = 0; i < 4; ++i)
    EXPECT_TRUE(torch::equal(key(zero->get(i), "video"), key(none->get(i), "video")));
  // the old switch spelling is refused with the number to write, never read as 1
  EXPECT_THAT(test::error_of([] { test::make<Dataset>("synthetic", "{gravity: true}"); }),
              HasSubstr("gravity: expected float, got 'true' (a number: write 1)"));
  EXPECT_THAT(test::error_of([] { test::make<Dataset>("synthetic", "{gravity: strong}"); }),
              HasSubstr("expected float, got 'strong'"));
}

TEST(SyntheticDomains, NegativeGravityAcceleratesDiscsUpwards) {
  // one disc, never pushed: only gravity moves it. vy after step t is the geometric sum of
  // g * kGravity under friction 0.02, so it grows upward (negative y) every step
  for (double g : {-1.0, -0.5, 2.0}) {
    sim::DiscWorldOptions options;
    options.objects = 1;
    options.gravity = g;
    sim::DiscWorld world(options);
    world.discs() = {{0.5, 0.5, 0, 0, 0.05}};
    double vy = 0;
    for (int t = 0; t < 10; ++t) {
      world.step({0, 0});
      vy = (vy + g * sim::kGravity) * 0.98;
      EXPECT_NEAR(world.discs()[0].vy, vy, 1e-15) << g;
    }
    EXPECT_EQ(world.discs()[0].y < 0.5, g < 0) << g;
  }
  // in the dataset: a resting disc (label 4, no action noise) rises ever faster with gravity -1
  auto dataset = test::make<Dataset>("synthetic", "{samples: 40, frames: 6, objects: 1, action_noise: 0, gravity: -1}");
  int checked = 0;
  for (int64_t i = 0; i < 40; ++i) {
    Sample sample = dataset->get(i);
    if (key(sample, "action_label").item<int64_t>() != 4) continue;
    auto vy = key(sample, "state").select(1, 3);
    auto y = key(sample, "state").select(1, 1);
    if (y[0].item<double>() < 0.2) continue;  // would reach the top wall (radius up to 0.11) in 5 steps
    for (int64_t t = 1; t < 6; ++t) EXPECT_LT(vy[t].item<double>(), vy[t - 1].item<double>());
    ++checked;
  }
  EXPECT_GT(checked, 2);
}

}  // namespace
}  // namespace wm
