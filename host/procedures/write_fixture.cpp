// write_fixture: VPT-style webdataset shards (procedures/vpt_fixture.h) for the action-scaler
// configs, so a protocol can run from a clean checkout. The folder gets a fixture.yaml manifest
// with the options and the generator's true mean and std; a folder whose manifest matches is
// reused, so sweep points sharing a fixture write it once.
#include <spdlog/fmt/fmt.h>

#include <fstream>
#include <sstream>

#include "../procedure.h"
#include "procedures/vpt_fixture.h"
#include "wm/io/atomic_file.h"
#include "wm/log.h"

namespace wm {
namespace {

Schema write_fixture_schema() {
  return Schema{}
      .choice("kind", "vpt", {"vpt", "normal"},
              "vpt: mouse.dx ~ N(0.1, 12), mouse.dy ~ N(-0.1, 9), yaw/pitch random walks with "
              "steps of std 0.14/0.09 rad, buttons and keys; normal: the four actions N(0, 1), "
              "records holding only them")
      .path("out", "folder for shard-000000.tar ... and fixture.yaml").required()
      .integer("shards", 20, "tar shards").at_least(1)
      .integer("samples_per_shard", 50, "samples (recordings) per shard").at_least(1)
      .integer("frames", 101, "frame records per sample (frames - 1 actions)").at_least(2)
      .integer("seed", -1, "generator seed (-1: the experiment's seed)").at_least(-1)
      .choice("video", "auto", {"auto", "mp4", "stand_in"},
              "the <key>.mp4 member: a real tiny H.264 clip panning with the camera (auto: when "
              "built with FFmpeg) or a stand-in the action fit seeks over")
      .integer("video_size", 32, "mp4 frame width and height").range(8, 256)
      .boolean("reuse", true, "keep the folder as it is when its fixture.yaml has these options");
}

std::string manifest(const VptFixtureOptions& options, const VptFixture* written) {
  std::ostringstream out;
  out << "kind: " << options.kind << "\nshards: " << options.shards
      << "\nsamples_per_shard: " << options.samples_per_shard << "\nframes: " << options.frames
      << "\nseed: " << options.seed << "\nvideo: " << options.video
      << "\nvideo_size: " << options.video_size << "\n";
  if (!written) return out.str();
  auto list = [](const std::vector<double>& values) {
    std::string text;
    for (double v : values) text += (text.empty() ? "" : ", ") + fmt::format("{:g}", v);
    return "[" + text + "]";
  };
  out << "# written\npattern: \"" << written->pattern << "\"\nsamples: " << written->samples
      << "\nrows: " << written->rows << "\nreal_video: " << (written->real_video ? "true" : "false")
      << "\nnames: [mouse.dx, mouse.dy, yaw_diff, pitch_diff]\ntrue_mean: "
      << list(written->truth.mean) << "\ntrue_std: " << list(written->truth.std) << "\n";
  return out.str();
}

void write_fixture_run(RunContext& context, const Params& params) {
  VptFixtureOptions options;
  options.kind = params.get<std::string>("kind");
  options.shards = params.get<int64_t>("shards");
  options.samples_per_shard = params.get<int64_t>("samples_per_shard");
  options.frames = params.get<int64_t>("frames");
  int64_t seed = params.get<int64_t>("seed");
  options.seed = static_cast<uint64_t>(seed >= 0 ? seed : context.experiment.seed);
  options.video = params.get<std::string>("video");
  if (options.video == "auto") options.video = vpt_fixture_has_video() ? "mp4" : "stand_in";
  options.video_size = params.get<int64_t>("video_size");
  options.progress = true;
  std::filesystem::path out = params.get<std::string>("out");

  // an identical fixture already there (the head of its manifest names the options)
  std::string head = manifest(options, nullptr);
  std::ifstream existing(out / "fixture.yaml");
  std::string text((std::istreambuf_iterator<char>(existing)), {});
  if (params.get<bool>("reuse") && text.compare(0, head.size(), head) == 0) {
    log().info("write_fixture: {} already holds this fixture ({} shards, seed {}); reused",
               out.string(), options.shards, options.seed);
    return;
  }
  if (options.video == "stand_in")
    log().info("write_fixture: stand-in video members{}", vpt_fixture_has_video() ? ""
               : " (this build has no FFmpeg)");
  VptFixture fixture = write_vpt_fixture(out, options);
  io::write_file_atomic(out / "fixture.yaml", manifest(options, &fixture));
  log().info("write_fixture: {} {} shard(s) x {} samples x {} frames = {} action rows in {} (seed {})",
             options.kind, options.shards, options.samples_per_shard, options.frames, fixture.rows,
             out.string(), options.seed);
  std::map<std::string, double> values = {{"rows", static_cast<double>(fixture.rows)},
                                          {"samples", static_cast<double>(fixture.samples)}};
  for (size_t d = 0; d < fixture.truth.names.size(); ++d) {
    log().info("  {:<12} true mean {:>8g}  true std {:>8g}", fixture.truth.names[d],
               fixture.truth.mean[d], fixture.truth.std[d]);
    values["true_std/" + fixture.truth.names[d]] = fixture.truth.std[d];
  }
  context.metrics_log.append({{"procedure", "write_fixture"}}, values);
}

}  // namespace

const Procedure write_fixture_procedure = {
    "write_fixture", "write VPT-style webdataset shards with known action statistics",
    &write_fixture_schema, {}, nullptr, &write_fixture_run};

}  // namespace wm
