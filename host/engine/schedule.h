// Learning-rate schedule: linear warmup from 0, then cosine decay to min_lr. Progress is measured
// in the budget's own unit (steps, epochs, samples or tokens), so `warmup: 200` means 200 of them.
#pragma once

namespace wm::train {

struct WarmupCosine {
  double lr = 1e-3;
  double min_lr = 0.0;
  double warmup = 0;  // in budget units
  double total = 1;   // in budget units

  double at(double progress) const;  // the learning rate after `progress` units
};

}  // namespace wm::train
