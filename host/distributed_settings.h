// `distributed:` in the experiment file: what the process group of a run with several ranks uses.
// Its own header so that experiment.h carries the settings without the group (distributed.h).
#pragma once
#include <string>

namespace wm::dist {

struct Settings {
  std::string backend = "auto";  // auto: nccl with device cuda, gloo otherwise
  double timeout_s = 1800;       // of every collective and of the rendezvous
  double bucket_mb = 25, first_bucket_mb = 1;
};

}  // namespace wm::dist
