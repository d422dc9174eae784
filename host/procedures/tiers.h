// The clips the `tiers` procedure scored and the tiers it put them in; tiers.cpp scores and
// assigns, tiers_report.cpp writes the lists, scores.csv, summary.md and scores.svg.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "engine/loader.h"
#include "procedures/quality.h"
#include "wm/params.h"

namespace wm::tiers {

extern const char* const kTiers[4];  // platinum, gold, silver, bronze: tier 0 is the best

struct ScoredClip {
  std::string id, source;
  eval::ClipQuality quality;
  double completeness = -1;  // max softmax probability of the model's action logits; -1: not asked
  int corrupted = -1;        // the data's `corrupted` key: 1 yes, 0 no, -1 the data has none
  double score = 0;          // the rank_by score
  int tier = 3;              // the best tier the clip is in
  std::string failed;        // filters mode: the filters it fails ("motion clarity"), "" for none
};

// filters mode: lists are nested (a clip is in its tier's list and every worse one's);
// ranked mode: each clip is in its own tier's list only
bool nested(const Params& params);
// whether clip c is listed in tier t's file
inline bool listed(const ScoredClip& c, int t, bool nested_lists) {
  return nested_lists ? c.tier <= t : c.tier == t;
}

// tiers/<tier>.txt, scores.csv, summary.md, scores.svg and (when some were unreadable) skipped.txt
void write_outputs(const std::filesystem::path& dir, const std::vector<ScoredClip>& clips,
                   const Params& params, const std::vector<SkippedSample>& skipped);

}  // namespace wm::tiers
