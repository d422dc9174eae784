// One step of an experiment's `analysis:` list, bound and checked when the experiment is
// validated: `- fit: {x: train/train_size, y: "evaluate[val]/psnr"}`.
#pragma once
#include <string>
#include <vector>

#include "config_node.h"
#include "wm/params.h"

namespace wm::analysis {

struct Step {
  std::string kind;      // aggregate, compare, decide, fit, transfer, multiplier, minimum, ...
  std::string name;      // its outputs: analysis/<name>.{md,csv,json,svg}; `name:` or the kind
  std::string key_path;  // "analysis.2.fit"
  SourceLoc loc;
  Params params;    // the typed keys
  ConfigNode node;  // the step's own map, for the keys bound by hand (decide's rules, compare's pairs)
  // decide without `by`/`column` takes them (and `within`) from the compare or aggregate step before it
  std::string inherited_by, inherited_column, inherited_within;

  std::string where() const;  // "analysis.2.fit at exp.yaml:30:5"
};

// binds `analysis:` (null or absent: no steps); throws ConfigError at the offending key
std::vector<Step> bind_steps(const ConfigNode* list);

}  // namespace wm::analysis
