// VPT-style webdataset shards for tests, benchmarks and the action-scaler configs: each sample is
// <key>.jsonl (one record per frame: mouse dx/dy in pixels, camera yaw/pitch in radians, mouse
// buttons and keyboard keys) and <key>.mp4, a real tiny H.264 clip whose picture pans with the
// camera when the host has FFmpeg, else a stand-in member that only the action fit can use.
//
// kind vpt: mouse.dx ~ N(0.1, 12), mouse.dy ~ N(-0.1, 9), yaw and pitch random walks with steps
// N(0, 0.14) and N(0, 0.09) rad, so yaw_diff and pitch_diff have std 0.14 and 0.09.
// kind normal: all four actions N(0, 1), records with the four action fields only (the budget
// study's rows).
#pragma once
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace wm {

struct VptFixtureOptions {
  std::string kind = "vpt";        // vpt | normal
  int64_t shards = 20, samples_per_shard = 50, frames = 101;
  uint64_t seed = 0;
  std::string video = "auto";      // auto: mp4 when FFmpeg is built in; mp4; stand_in
  int64_t video_size = 32;         // mp4 frames are video_size x video_size
  int64_t stand_in_bytes = 20000;  // size of a stand-in member (seeked over by the fit)
  bool progress = false;
};

struct VptFixtureStats {
  // the generator's own parameters per action dimension (mouse.dx, mouse.dy, yaw_diff,
  // pitch_diff): what a fit on enough rows must find
  std::vector<std::string> names = {"mouse.dx", "mouse.dy", "yaw_diff", "pitch_diff"};
  std::vector<double> mean, std;
};

struct VptFixture {
  std::vector<std::filesystem::path> shards;  // out/shard-000000.tar ...
  std::string pattern;                        // out/shard-{000000..N}.tar
  int64_t samples = 0, rows = 0;              // rows: per-frame actions (frames - 1 per sample)
  bool real_video = false;
  VptFixtureStats truth;
};

// the generator's parameters for a kind ("vpt" or "normal"; another throws wm::Error)
VptFixtureStats vpt_fixture_truth(const std::string& kind);

// true when this build can write the mp4 members (FFmpeg)
bool vpt_fixture_has_video();

// the .jsonl text of one sample: `frames` records drawn from rng
std::string vpt_records(std::mt19937_64& rng, int64_t frames, const std::string& kind = "vpt");

// writes the shards into `out` (created; existing shards of the same names are replaced).
// Each sample's records come from its own generator seeded by (seed, shard, sample), so any
// shard can be rewritten alone and the same options always give the same bytes.
VptFixture write_vpt_fixture(const std::filesystem::path& out, const VptFixtureOptions& options);

}  // namespace wm
