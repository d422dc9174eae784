// Seed 000's quality detectors and nested tiers (spec D8) on clips whose truth is known: the
// synthetic data's corruptions, the occlusion heuristic against a numpy/scipy reference, action
// completeness from a model, and the acceptance on 30 % corrupted synthetic clips.
#include <map>
#include <set>
#include <sstream>

#include "config_node.h"
#include "config_resolve.h"
#include "experiment.h"
#include "test_support.h"
#include "procedures/quality.h"
#include "wm/dataset.h"
#include "wm/error.h"

namespace wm {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::vector<std::string> lines_of(const fs::path& file) {
  std::istringstream in(test::read_text(file));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// scores.csv as one map per clip, column name -> text
std::vector<std::map<std::string, std::string>> read_scores(const fs::path& file) {
  auto rows = lines_of(file);
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> out;
  for (size_t r = 0; r < rows.size(); ++r) {
    std::vector<std::string> cells;
    std::stringstream row(rows[r]);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    if (!rows[r].empty() && rows[r].back() == ',') cells.push_back("");
    if (r == 0) {
      header = cells;
      continue;
    }
    std::map<std::string, std::string> clip;
    for (size_t c = 0; c < header.size() && c < cells.size(); ++c) clip[header[c]] = cells[c];
    out.push_back(clip);
  }
  return out;
}

std::set<std::string> id_set(const fs::path& file) {
  auto ids = lines_of(file);
  return {ids.begin(), ids.end()};
}

bool contains(const std::set<std::string>& big, const std::set<std::string>& small) {
  return std::includes(big.begin(), big.end(), small.begin(), small.end());
}

//---- the synthetic corruptions ----

TEST(SyntheticCorruption, SplitsTheShareEvenlyOverTheKindsAndMarksEveryClip) {
  auto clean = test::make<Dataset>("synthetic", "{samples: 600, frames: 6, size: 32, sensor_noise: 3}");
  auto data = test::make<Dataset>("synthetic", "{samples: 600, frames: 6, size: 32, sensor_noise: 3, corrupt_fraction: 0.3}");
  auto again = test::make<Dataset>("synthetic", "{samples: 600, frames: 6, size: 32, sensor_noise: 3, corrupt_fraction: 0.3}");
  int64_t kinds[4] = {0, 0, 0, 0};
  for (int64_t i = 0; i < data->size(); ++i) {
    Sample sample = data->get(i), plain = clean->get(i);
    int64_t kind = sample.tensors.at("corruption").item<int64_t>();
    ASSERT_GE(kind, 0);
    ASSERT_LE(kind, 3);
    ++kinds[kind];
    EXPECT_EQ(sample.tensors.at("corrupted").scalar_type(), at::kBool);
    EXPECT_EQ(sample.tensors.at("corrupted").item<bool>(), kind != 0) << i;
    EXPECT_FALSE(plain.tensors.at("corrupted").item<bool>());
    EXPECT_EQ(again->get(i).tensors.at("corruption").item<int64_t>(), kind) << "fixed by (seed, index)";
    // a clean clip is the clip corrupt_fraction 0 gives, pixel for pixel
    const auto& video = sample.tensors.at("video");
    if (kind == 0) EXPECT_TRUE(at::equal(video, plain.tensors.at("video"))) << i;
    if (kind == 2) EXPECT_TRUE(at::equal(video, video.slice(0, 0, 1).expand_as(video))) << "static: frozen";
    if (kind == 3) {
      // the box's pixels never change; elsewhere the camera's noise always does
      double still = (video.to(at::kFloat).std(0).amax(0) == 0).to(at::kDouble).mean().item<double>();
      EXPECT_GE(still, 0.26) << i;
      EXPECT_LE(still, 0.37) << i;
    }
    if (kind == 1)
      EXPECT_LT(eval::laplacian_variance(video) * 5, eval::laplacian_variance(plain.tensors.at("video")))
          << "blur lowers clarity five-fold at least";
  }
  // 30 % of 600 and 10 % of each kind, within 3.5 binomial standard deviations
  EXPECT_NEAR(600 - kinds[0], 180, 3.5 * std::sqrt(600 * 0.3 * 0.7));
  for (int k = 1; k < 4; ++k) EXPECT_NEAR(kinds[k], 60, 3.5 * std::sqrt(600 * 0.1 * 0.9)) << k;

  auto two = test::make<Dataset>("synthetic", "{samples: 300, size: 16, corrupt_fraction: 1, corrupt_kinds: [occluder, blur]}");
  int64_t occluders = 0;
  for (int64_t i = 0; i < two->size(); ++i) {
    int64_t kind = two->get(i).tensors.at("corruption").item<int64_t>();
    EXPECT_TRUE(kind == 1 || kind == 3) << kind;
    occluders += kind == 3;
  }
  EXPECT_NEAR(occluders, 150, 3.5 * std::sqrt(300 * 0.25));
}

TEST(SyntheticCorruption, BadSettingsAreConfigErrorsNamingTheKey) {
  auto message = [](const std::string& params) {
    try {
      test::make<Dataset>("synthetic", params);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string unknown = message("{corrupt_fraction: 0.3, corrupt_kinds: [blur, smudge]}");
  EXPECT_THAT(unknown, HasSubstr("corrupt_kinds"));
  EXPECT_THAT(unknown, HasSubstr("unknown corruption 'smudge'; the kinds are blur, static, occluder"));
  EXPECT_THAT(message("{corrupt_fraction: 1.5}"), HasSubstr("corrupt_fraction"));
  EXPECT_THAT(message("{corrupt_fraction: -0.1}"), HasSubstr("corrupt_fraction"));
  EXPECT_THAT(message("{corrupt_kinds: [blur, blur]}"), HasSubstr("names 'blur' twice"));
  EXPECT_THAT(message("{corrupt_fraction: 0.2, corrupt_kinds: []}"), HasSubstr("is empty, but corrupt_fraction"));
  EXPECT_EQ(message("{corrupt_fraction: 1.0, corrupt_kinds: [static]}"), "no error");
}

//---- the detectors against numpy / scipy ----

TEST(OcclusionHeuristic, EqualsANumpyScipyReference) {
  test::TempDir dir;
  // a noisy clip [8, 3, 48, 64] with three still regions: a big box, a box of one block (under
  // 5 % of the 48 blocks), and a still band touching the big box diagonally only
  auto clip = (at::randn({8, 3, 48, 64}, at::kDouble) * 4 + 120).round().clamp(0, 255);
  clip.slice(2, 8, 32).slice(3, 24, 48).fill_(90);  // 3 x 3 blocks
  clip.slice(2, 0, 4).slice(3, 0, 20).fill_(60);    // half of two blocks and a bit of a third
  clip.slice(2, 40, 48).slice(3, 0, 8).fill_(30);   // one block
  clip.slice(2, 32, 48).slice(3, 48, 64).fill_(200);  // 2 x 2 blocks
  clip = clip.to(at::kByte);
  test::write_raw(dir.path() / "clip.raw", clip.to(at::kDouble));
  std::string out = test::run_python(dir, R"(
import sys, numpy as np, scipy.ndimage as nd
x = np.fromfile(sys.argv[1] + '/clip.raw').reshape(8, 3, 48, 64)
grey = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
s = grey.std(axis=0)                                   # per pixel, over time
blocks = s.reshape(6, 8, 8, 8).mean(axis=(1, 3))       # 8x8 blocks
still = blocks < 1
labels, n = nd.label(still)                            # 4-connected
sizes = nd.sum(still, labels, range(1, n + 1))
kept = sum(z for z in sizes if z >= 0.05 * blocks.size)
print(repr(0.0 if np.median(blocks) < 1 else kept / blocks.size))
)");
  double expected = std::stod(out);
  EXPECT_DOUBLE_EQ(eval::occlusion_share(clip), expected);
  EXPECT_NEAR(expected, (9.0 + 4.0) / 48.0, 1e-12) << "the big box and the band; the lone block is under 5 %";

  // no still region, a frozen clip, and a clip whose median block is still all score 0
  auto noisy = (at::randn({6, 3, 32, 32}, at::kDouble) * 4 + 120).round().clamp(0, 255).to(at::kByte);
  EXPECT_EQ(eval::occlusion_share(noisy), 0.0);
  EXPECT_EQ(eval::occlusion_share(noisy.slice(0, 0, 1).expand({6, 3, 32, 32}).contiguous()), 0.0);
  auto mostly_still = noisy.clone();
  mostly_still.slice(2, 0, 24).fill_(50);
  EXPECT_EQ(eval::occlusion_share(mostly_still), 0.0);
}

TEST(Completeness, IsTheLargestSoftmaxProbability) {
  auto logits = at::tensor({2.0, 0.5, -1.0, 0.0, 0.0, 7.0}, at::kDouble).view({2, 3});
  auto p = eval::max_softmax_probability(logits);
  EXPECT_NEAR(p[0].item<double>(), std::exp(2.0) / (std::exp(2.0) + std::exp(0.5) + std::exp(-1.0)), 1e-15);
  EXPECT_NEAR(p[1].item<double>(), std::exp(7.0) / (2 + std::exp(7.0)), 1e-15);
  EXPECT_THROW(eval::max_softmax_probability(at::zeros({}, at::kDouble)), Error);
}

//---- the acceptance: 30 % corrupted synthetic clips ----

// 450 clips of 64 x 64, 8 frames; a camera's noise of 3 levels; 10 % of each corruption
const char* kCorrupted = R"(experiment: quality
seed: 0
threads: 2
data:
  pool: {plugin: synthetic, params: {samples: 450, frames: 8, size: 64, objects: 3, sensor_noise: 3,
                                     corrupt_fraction: 0.3, push: 0.01}}
procedure:
  - tiers: {data: pool, mode: filters, min_frames: 8, min_side: 64, min_motion: 0.1,
            min_clarity: 150, k: 50, flow: false}
)";

// the acceptance is one test over one run of kCorrupted (ctest runs each test in a process of its
// own, so a run shared by several tests would be repeated); the checks are its parts
using Scores = std::vector<std::map<std::string, std::string>>;

void occluders_score_above_the_bar_and_clean_clips_near_zero(const Scores& scores) {
  ASSERT_EQ(scores.size(), 450u);
  // the truth kind from the data set itself
  auto data = test::make<Dataset>("synthetic", "{samples: 450, frames: 8, size: 64, objects: 3, sensor_noise: 3, "
                                               "corrupt_fraction: 0.3, push: 0.01}");
  int64_t clean = 0, clean_low = 0, occluders = 0;
  for (const auto& clip : scores) {
    int64_t index = std::stoll(clip.at("id").substr(std::string("synthetic-").size()));
    int64_t kind = data->get(index).tensors.at("corruption").item<int64_t>();
    EXPECT_EQ(clip.at("corrupted"), kind ? "1" : "0") << clip.at("id");
    double occlusion = std::stod(clip.at("occlusion"));
    if (kind == 0) ++clean, clean_low += occlusion < 0.05;
    if (kind != 3) continue;
    ++occluders;
    EXPECT_GT(occlusion, 0.2) << clip.at("id");
  }
  EXPECT_GT(occluders, 25);
  EXPECT_GE(static_cast<double>(clean_low), 0.95 * static_cast<double>(clean))
      << clean_low << " of " << clean << " clean clips score below 0.05";
}

void gold_holds_at_most_five_percent_corrupted_and_the_tiers_nest(const fs::path& run, const Scores& scores) {
  std::map<std::string, bool> corrupted;
  for (const auto& clip : scores) corrupted[clip.at("id")] = clip.at("corrupted") == "1";
  auto bronze = id_set(run / "tiers/bronze.txt"), silver = id_set(run / "tiers/silver.txt"),
       gold = id_set(run / "tiers/gold.txt"), platinum = id_set(run / "tiers/platinum.txt");
  EXPECT_EQ(bronze.size(), 450u);
  EXPECT_EQ(silver.size(), 450u) << "every clip has 8 frames of 64 px";
  EXPECT_EQ(platinum.size(), 50u);
  EXPECT_TRUE(contains(bronze, silver));
  EXPECT_TRUE(contains(silver, gold));
  EXPECT_TRUE(contains(gold, platinum));
  int64_t gold_corrupted = 0;
  for (const auto& id : gold) gold_corrupted += corrupted.at(id);
  EXPECT_LE(static_cast<double>(gold_corrupted), 0.05 * static_cast<double>(gold.size()))
      << gold_corrupted << " corrupted of " << gold.size() << " gold clips";
  EXPECT_GT(gold.size(), 200u) << "most clean clips stay gold";
  // the summary and the metrics report the corrupted share per list
  std::string summary = test::read_text(run / "tiers/summary.md");
  EXPECT_THAT(summary, HasSubstr("| bronze | 450 |"));
  EXPECT_THAT(summary, HasSubstr("| occlusion |"));
  EXPECT_THAT(test::read_text(run / "metrics.jsonl"), HasSubstr("\"gold_corrupted_share\""));
}

// each detector does its part: without the clarity bar the blurred clips would reach gold
void each_filter_turns_away_its_corruption(const Scores& scores) {
  int64_t only_clarity = 0, only_motion = 0, only_occlusion = 0;
  for (const auto& clip : scores) {
    bool bad = clip.at("corrupted") == "1";
    only_clarity += bad && clip.at("failed") == "clarity";
    only_motion += bad && clip.at("failed") == "motion";
    only_occlusion += bad && clip.at("failed") == "occlusion";
  }
  EXPECT_GT(only_clarity, 20) << "blurred clips fail clarity alone";
  EXPECT_GT(only_motion, 20) << "frozen clips fail motion alone";
  EXPECT_GT(only_occlusion, 20) << "boxed clips fail occlusion alone";
}

void platinum_is_the_manual_list_within_gold(test::TempDir& dir, const Scores& scores) {
  // the second run scores the first 60 clips: two gold ones, one corrupted and one id the data lacks
  auto index = [](const std::string& id) { return std::stoll(id.substr(std::string("synthetic-").size())); };
  std::vector<std::string> gold, corrupted;
  for (const auto& id : lines_of(dir.path() / "run/tiers/gold.txt"))
    if (index(id) < 60) gold.push_back(id);
  for (const auto& clip : scores)
    if (clip.at("corrupted") == "1" && index(clip.at("id")) < 60) corrupted.push_back(clip.at("id"));
  ASSERT_GE(gold.size(), 2u);
  ASSERT_GE(corrupted.size(), 1u);
  dir.write("manual.txt", "# picked by hand\n" + gold[0] + "\n" + gold[1] + "\n" + corrupted[0] + "\nvideo-9\n");
  std::string config = kCorrupted;
  config.replace(config.find("k: 50"), 5, "manual: manual.txt, max_samples: 60");
  dir.write("manual.yaml", config);
  auto result = test::wmhost("run manual.yaml --out manual", dir.path());
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(id_set(dir.path() / "manual/tiers/platinum.txt"), (std::set<std::string>{gold[0], gold[1]}));
  EXPECT_THAT(test::read_text(dir.path() / "manual/log.txt"), HasSubstr("2 of the 4 ids in"));
}

TEST(QualityTiersAcceptance, OnThirtyPercentCorruptedSyntheticClips) {
  test::TempDir dir;
  dir.write("exp.yaml", kCorrupted);
  auto result = test::wmhost("run exp.yaml --out run", dir.path());
  ASSERT_EQ(result.code, 0) << result.err;
  Scores scores = read_scores(dir.path() / "run/tiers/scores.csv");
  occluders_score_above_the_bar_and_clean_clips_near_zero(scores);
  gold_holds_at_most_five_percent_corrupted_and_the_tiers_nest(dir.path() / "run", scores);
  each_filter_turns_away_its_corruption(scores);
  platinum_is_the_manual_list_within_gold(dir, scores);
}

//---- completeness and bad input ----

// three tiers steps on one model: completeness bars 0 and 1, and another logits key
const char* kGlp = R"(experiment: completeness
seed: 0
threads: 1
data:
  pool: {plugin: synthetic, params: {samples: 30, frames: 8, size: 32, objects: 1, sensor_noise: 3}}
model:
  plugin: glp
  params: {image_size: 32, patch: 8, encoder_dim: 32, encoder_depth: 1, encoder_heads: 2,
           context_frames: 4, outcome_frames: 4, action: label, action_head: HEAD, dim: 32,
           depth: 1, heads: 2, decoder_dim: 32, decoder_depth: 1}
procedure:
  - tiers: {name: loose, data: pool, mode: filters, k: 5, flow: false, completeness: true, min_completeness: 0.0}
  - tiers: {name: strict, data: pool, mode: filters, k: 5, flow: false, completeness: true, min_completeness: 1.0}
  - tiers: {name: pred, data: pool, mode: filters, k: 5, flow: false, completeness: true,
            completeness_key: action_logits_pred}
)";

std::string glp_config(const std::string& head) {
  std::string config = kGlp;
  return config.replace(config.find("HEAD"), 4, head);
}

TEST(QualityTiers, CompletenessIsTheModelsMaxSoftmaxProbability) {
  test::TempDir dir;
  dir.write("exp.yaml", glp_config("true"));
  auto result = test::wmhost("run exp.yaml --out run", dir.path());
  ASSERT_EQ(result.code, 0) << result.err;
  auto scores = read_scores(dir.path() / "run/tiers-loose/scores.csv");
  ASSERT_EQ(scores.size(), 30u);
  std::set<std::string> values;
  for (const auto& clip : scores) {
    double p = std::stod(clip.at("completeness"));
    EXPECT_GE(p, 0.2) << "5 labels: the largest probability is at least 1/5";
    EXPECT_LT(p, 1.0);
    values.insert(clip.at("completeness"));
  }
  EXPECT_GT(values.size(), 20u) << "one probability per clip";
  EXPECT_EQ(lines_of(dir.path() / "run/tiers-loose/gold.txt").size(), 30u);
  // a bar above every clip's probability empties gold, and the summary says why
  EXPECT_TRUE(lines_of(dir.path() / "run/tiers-strict/gold.txt").empty());
  EXPECT_THAT(test::read_text(dir.path() / "run/tiers-strict/summary.md"), HasSubstr("| completeness | 30 |"));
  // another key: the head's reading of the predicted outcome, a different probability
  auto pred = read_scores(dir.path() / "run/tiers-pred/scores.csv");
  ASSERT_EQ(pred.size(), 30u);
  EXPECT_NE(pred[0].at("completeness"), scores[0].at("completeness"));
  EXPECT_THAT(test::read_text(dir.path() / "run/metrics.jsonl"), HasSubstr("\"label\": \"strict\""));
}

TEST(QualityTiers, CompletenessWithoutActionLogitsIsAClearError) {
  test::TempDir dir;
  dir.write("exp.yaml", glp_config("false"));
  auto result = test::wmhost("run exp.yaml --out run", dir.path());
  EXPECT_NE(result.code, 0);
  EXPECT_THAT(result.err, HasSubstr("completeness needs model output 'action_logits'"));
  EXPECT_THAT(result.err, HasSubstr("glp does not produce; its predict gives: "));
  EXPECT_THAT(result.err, HasSubstr("latent_prediction"));
}

TEST(QualityTiers, BadFilterSettingsFailValidation) {
  auto fails = [&](const std::string& step, const std::string& expected, const std::string& mode = "filters") {
    std::string config = kCorrupted;
    config.replace(config.find("k: 50, flow: false"), 18, step);
    config.replace(config.find("mode: filters"), 13, "mode: " + mode);
    ConfigNode root = parse_yaml(config, "exp.yaml");
    interpolate(root);
    EXPECT_THAT(test::error_of([&] { validate_experiment(root, test::plugins()); }), HasSubstr(expected)) << step;
  };
  fails("flow: false", "needs platinum's rule: `manual: <id file>` or `k: <count>`");
  fails("k: 5, manual: x.txt", "give manual or k for platinum, not both");
  fails("k: 5, fractions: [0.1, 0.2, 0.3]", "belongs to mode: ranked");
  fails("k: 5, max_occlusion: 1.5", "max_occlusion");
  fails("k: 5, completeness: true", "needs a `model:` section whose predict gives `action_logits`");
  fails("k: 5, min_flow: 1.0, flow: false", "filters on flow, but flow: false turns it off");
  fails("fractions: [0.1, 0.1, 0.1], k: 5", "belongs to mode: filters", "ranked");
  fails("fractions: [0.1, 0.1, 0.1], completeness: true", "belongs to mode: filters", "ranked");
}

}  // namespace
}  // namespace wm
