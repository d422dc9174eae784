// Camera sensor noise and the three corruptions of a bad clip, for synthetic data whose quality
// is known: a strong blur of every frame, a frozen clip (every frame is the first), and an opaque
// static overlay (a burned-in logo or caption box) covering part of the frame. The `synthetic`
// dataset uses them (`sensor_noise`, `corrupt_fraction`, `corrupt_kinds`); the `tiers`
// procedure's detectors are tested against them.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace wm::sim {

//---- kinds ----

enum class Corruption : int64_t { none = 0, blur = 1, frozen = 2, occluder = 3 };

// "blur", "static", "occluder" (the names configs use); "none" for Corruption::none
const char* corruption_name(Corruption kind);
// the kind a name gives; throws wm::Error listing the names for an unknown one
Corruption corruption_from_name(const std::string& name);

// which corruption clip `index` of a data set seeded `seed` gets: a share `fraction` of the clips
// is corrupted, split evenly over `kinds` (in their order); fixed by (seed, index) alone
Corruption corruption_of(uint64_t seed, int64_t index, double fraction,
                         const std::vector<Corruption>& kinds);

//---- applying them ----

// adds zero-mean Gaussian noise of `std` grey levels to every pixel of every frame, drawn anew
// per frame (a camera's sensor noise); video [T, 3, H, W] uint8, in place
void add_sensor_noise(at::Tensor& video, double std, uint64_t stream);

// corrupts video [T, 3, H, W] uint8 in place. blur: a Gaussian blur of sigma = side/16 pixels
// (at least 1.5) on every frame; static: every frame becomes the first; occluder: one opaque
// rectangle of a flat grey, 52-60 % of each side (27-36 % of the frame), at one place for the
// whole clip. `stream` fixes the occluder's place and grey. (The box stays under half the
// frame, the most any occlusion measure that needs the rest of the clip to move can see.)
void corrupt(at::Tensor& video, Corruption kind, uint64_t stream);

}  // namespace wm::sim
