#include "procedures/vpt_fixture.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "report/progress.h"
#include "wm/error.h"
#include "wm/io/tar.h"
#ifdef WM_HAVE_VIDEO
#include "wm/video/video.h"
#endif

namespace wm {

namespace {

namespace fs = std::filesystem;

struct Generator {
  double dx_mean, dx_std, dy_mean, dy_std, yaw_step, pitch_step;
  bool compact;  // records without buttons, keys and the constant fields
};

Generator generator(const std::string& kind) {
  if (kind == "vpt") return {0.1, 12.0, -0.1, 9.0, 0.14, 0.09, false};
  if (kind == "normal") return {0.0, 1.0, 0.0, 1.0, 1.0, 1.0, true};
  throw Error("fixture kind '" + kind + "' is not one of vpt, normal");
}

// "[]", "[0]", "[0, 1]": which of the two mouse buttons are held
std::string held(std::mt19937_64& rng, const std::vector<std::pair<const char*, double>>& names) {
  std::uniform_real_distribution<double> unit(0, 1);
  std::string list = "[";
  for (const auto& [name, chance] : names)
    if (unit(rng) < chance) list += std::string(list.size() > 1 ? ", " : "") + name;
  return list + "]";
}

//---- video ----

// a smooth periodic texture seen through a camera that pans with yaw and tilts with pitch, so
// the picture follows the actions: uint8 [T, 3, size, size]
at::Tensor camera_frames(const std::vector<double>& yaw, const std::vector<double>& pitch,
                         int64_t size, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> phase(0, 2 * M_PI), period(12, 40);
  auto T = static_cast<int64_t>(yaw.size());
  auto frames = at::empty({T, 3, size, size}, at::kByte);
  uint8_t* data = frames.data_ptr<uint8_t>();
  double pixels_per_radian = static_cast<double>(size);
  double px[3], py[3], fx[3], fy[3];
  for (int c = 0; c < 3; ++c) px[c] = phase(rng), py[c] = phase(rng), fx[c] = period(rng), fy[c] = period(rng);
  for (int64_t t = 0; t < T; ++t)
    for (int c = 0; c < 3; ++c)
      for (int64_t y = 0; y < size; ++y)
        for (int64_t x = 0; x < size; ++x) {
          double u = x + yaw[t] * pixels_per_radian, v = y + pitch[t] * pixels_per_radian;
          double value = 127.5 + 60 * std::sin(2 * M_PI * u / fx[c] + px[c]) +
                         60 * std::sin(2 * M_PI * v / fy[c] + py[c]);
          data[((t * 3 + c) * size + y) * size + x] =
              static_cast<uint8_t>(std::lround(std::clamp(value, 0.0, 255.0)));
        }
  return frames;
}

std::string mp4_bytes(const at::Tensor& frames, const fs::path& scratch) {
#ifdef WM_HAVE_VIDEO
  video::write(scratch, frames, {20, 28, "ultrafast"});
  std::ifstream in(scratch, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  fs::remove(scratch);
  return bytes;
#else
  (void)frames, (void)scratch;
  throw Error("write_fixture: video mp4 needs a build with FFmpeg (use video: stand_in)");
#endif
}

// the records and the camera path of one sample
std::string sample_records(std::mt19937_64& rng, int64_t frames, const Generator& g,
                           std::vector<double>* yaw_path, std::vector<double>* pitch_path) {
  std::normal_distribution<double> dx(g.dx_mean, g.dx_std), dy(g.dy_mean, g.dy_std),
      turn(0.0, g.yaw_step), tilt(0.0, g.pitch_step);
  std::string text;
  double yaw = 0, pitch = 0;
  char line[400];
  for (int64_t t = 0; t < frames; ++t) {
    if (g.compact) {
      // the budget study's rows: the four action fields only (a 1M-row fixture stays ~80 MB)
      std::snprintf(line, sizeof line,
                    "{\"mouse\": {\"dx\": %.10g, \"dy\": %.10g}, \"yaw\": %.12g, \"pitch\": %.12g}\n",
                    dx(rng), dy(rng), yaw, pitch);
      text += line;
      if (yaw_path) yaw_path->push_back(yaw), pitch_path->push_back(pitch);
      yaw += turn(rng), pitch += tilt(rng);
      continue;
    }
    std::string buttons = held(rng, {{"0", 0.2}, {"1", 0.05}});
    std::string keys = held(rng, {{"\"key.keyboard.w\"", 0.6}, {"\"key.keyboard.a\"", 0.1},
                                  {"\"key.keyboard.d\"", 0.1}, {"\"key.keyboard.space\"", 0.1}});
    std::snprintf(line, sizeof line,
                  "{\"mouse\": {\"x\": 640.0, \"y\": 360.0, \"dx\": %.10g, \"dy\": %.10g, "
                  "\"buttons\": %s}, \"keyboard\": {\"keys\": %s}, \"yaw\": %.12g, \"pitch\": "
                  "%.12g, \"hotbar\": 0, \"isGuiOpen\": false}\n",
                  dx(rng), dy(rng), buttons.c_str(), keys.c_str(), yaw, pitch);
    text += line;
    if (yaw_path) yaw_path->push_back(yaw), pitch_path->push_back(pitch);
    yaw += turn(rng), pitch += tilt(rng);
  }
  return text;
}

}  // namespace

//---- the generator ----

VptFixtureStats vpt_fixture_truth(const std::string& kind) {
  Generator g = generator(kind);
  VptFixtureStats truth;
  truth.mean = {g.dx_mean, g.dy_mean, 0.0, 0.0};
  truth.std = {g.dx_std, g.dy_std, g.yaw_step, g.pitch_step};
  return truth;
}

bool vpt_fixture_has_video() {
#ifdef WM_HAVE_VIDEO
  return true;
#else
  return false;
#endif
}

std::string vpt_records(std::mt19937_64& rng, int64_t frames, const std::string& kind) {
  return sample_records(rng, frames, generator(kind), nullptr, nullptr);
}

VptFixture write_vpt_fixture(const fs::path& out, const VptFixtureOptions& options) {
  Generator g = generator(options.kind);
  if (options.shards < 1 || options.samples_per_shard < 1 || options.frames < 2)
    throw Error("write_fixture: need shards >= 1, samples_per_shard >= 1 and frames >= 2");
  if (options.video != "auto" && options.video != "mp4" && options.video != "stand_in")
    throw Error("write_fixture: video '" + options.video + "' is not one of auto, mp4, stand_in");
  VptFixture fixture;
  fixture.real_video = options.video == "mp4" || (options.video == "auto" && vpt_fixture_has_video());
  fixture.truth = vpt_fixture_truth(options.kind);
  fs::create_directories(out);
  std::string stand_in(static_cast<size_t>(options.stand_in_bytes), '\x42');
  Progress progress("write_fixture", options.shards * options.samples_per_shard);
  for (int64_t s = 0; s < options.shards; ++s) {
    char name[40];
    std::snprintf(name, sizeof name, "shard-%06lld.tar", static_cast<long long>(s));
    io::TarWriter writer(out / name);
    for (int64_t k = 0; k < options.samples_per_shard; ++k) {
      std::seed_seq seq{static_cast<uint32_t>(options.seed), static_cast<uint32_t>(options.seed >> 32),
                        static_cast<uint32_t>(s), static_cast<uint32_t>(k)};
      std::mt19937_64 rng(seq);
      char key[48];
      std::snprintf(key, sizeof key, "clip-%06lld-%04lld", static_cast<long long>(s),
                    static_cast<long long>(k));
      std::vector<double> yaw, pitch;
      std::string records = sample_records(rng, options.frames, g, &yaw, &pitch);
      if (fixture.real_video)
        writer.add(std::string(key) + ".mp4",
                   mp4_bytes(camera_frames(yaw, pitch, options.video_size, rng),
                             out / (std::string(".") + key + ".tmp.mp4")));
      else
        writer.add(std::string(key) + ".mp4", stand_in);  // never decoded by the fit
      writer.add(std::string(key) + ".jsonl", records);
      if (options.progress) progress.advance();
    }
    writer.close();
    fixture.shards.push_back(out / name);
  }
  fixture.samples = options.shards * options.samples_per_shard;
  fixture.rows = fixture.samples * (options.frames - 1);
  char last[16];
  std::snprintf(last, sizeof last, "%06lld", static_cast<long long>(options.shards - 1));
  fixture.pattern = (out / ("shard-{000000.." + std::string(last) + "}.tar")).string();
  return fixture;
}

}  // namespace wm
