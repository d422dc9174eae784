#include "engine/schedule.h"

#include <algorithm>
#include <cmath>

namespace wm::train {

double WarmupCosine::at(double progress) const {
  if (warmup > 0 && progress < warmup) return lr * progress / warmup;
  double span = std::max(total - warmup, 1e-12);
  double fraction = std::clamp((progress - warmup) / span, 0.0, 1.0);
  return min_lr + 0.5 * (lr - min_lr) * (1.0 + std::cos(M_PI * fraction));
}

}  // namespace wm::train
