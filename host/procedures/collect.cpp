// collect: run episodes of a policy in the experiment's env and write them as webdataset tar
// shards, the layout the `webdataset` dataset plugin reads: per episode `<key>.mp4` (the env's
// `pixels`, or `frame_key`) and `<key>.jsonl` with one record per frame: `action` (taken after
// the frame; the last frame's is zeros), `state`, `reward` (received on arriving at the frame),
// `success`. With `video: false` only the records are written (no pixels or FFmpeg needed).
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "../procedure.h"
#include "episode_policy.h"
#include "wm/log.h"
#include "report/progress.h"
#include "wm/io/tar.h"
#ifdef WM_HAVE_VIDEO
#include "wm/video/video.h"
#endif

namespace wm {
namespace {

Schema collect_schema() {
  Schema schema;
  schema.integer("episodes", 10, "episodes to collect").at_least(1);
  return add_policy_params(schema, "expert")
      .path("out", "folder for the shards, relative to the YAML file (default: `episodes` in the "
                   "run folder)")
      .integer("episodes_per_shard", 50, "episodes in one tar shard").at_least(1)
      .integer("max_steps", 0, "cut episodes at this length (0: the env's own limit)").at_least(0)
      .integer("steps_after_success", -1,
               "end an episode this many steps after its first success (-1: run to the env's end)")
      .at_least(-1)
      .real("fps", 80, "frame rate written into the videos (Meta-World's control rate is 80 Hz)").at_least(1)
      .integer("crf", 18, "H.264 quality, 0 (lossless) .. 51").range(0, 51)
      .boolean("video", true, "write <key>.mp4 of the frames; false: only the <key>.jsonl records "
                              "(state-only episodes: the env needs no camera, wmhost no FFmpeg)")
      .text("frame_key", "pixels", "the observation written as the video (disc_push: video)")
      .boolean("overwrite", false, "replace the shards another run's collect left in `out` (they "
                                   "are deleted first); false: refuse such a folder");
}

//---- the out folder ----

// names the run whose collect wrote the shards beside it
const char* const kOwnerFile = "collected_by.txt";

bool is_shard_file(const std::string& name) {
  bool shard = name.rfind("shard-", 0) == 0 && name.size() > 4 && name.substr(name.size() - 4) == ".tar";
  bool video = name.size() > 8 && name.substr(name.size() - 8) == ".tmp.mp4";  // an interrupted encode
  return shard || video;
}

std::string read_owner(const std::filesystem::path& out) {
  std::ifstream in(out / kOwnerFile);
  std::string owner;
  std::getline(in, owner);
  return owner;
}

// Empties `out` of earlier shards: those of this run (a resume collects again) always, another
// run's only with overwrite: true; a folder they stay in would mix two collections. Then marks
// the folder as this run's.
void prepare_out(const std::filesystem::path& out, const std::filesystem::path& run_dir, bool overwrite) {
  std::filesystem::create_directories(out);
  std::vector<std::filesystem::path> stale;
  for (const auto& entry : std::filesystem::directory_iterator(out))
    if (entry.is_regular_file() && is_shard_file(entry.path().filename().string()))
      stale.push_back(entry.path());
  std::sort(stale.begin(), stale.end());
  std::string run = std::filesystem::weakly_canonical(run_dir).string();
  std::string owner = read_owner(out);
  if (!stale.empty() && owner != run && !overwrite)
    throw Error("collect: " + out.string() + " already holds " + std::to_string(stale.size()) +
                " shard file(s) (" + stale.front().filename().string() + ", ...) written by " +
                (owner.empty() ? "an earlier collect" : "the run " + owner) +
                "; set overwrite: true to replace them, or choose another out");
  for (const auto& file : stale) std::filesystem::remove(file);
  if (!stale.empty())
    log().info("collect: removed {} shard file(s) of an earlier collect from {}", stale.size(), out.string());
  std::ofstream(out / kOwnerFile) << run << "\n";
}

// one JSON line; numbers with enough digits to round-trip float32
void append_record(std::string& out, const at::Tensor& action, const at::Tensor& state, double reward,
                   bool success) {
  std::ostringstream line;
  line.precision(9);
  auto write_array = [&](const at::Tensor& values) {
    auto flat = values.to(at::kDouble).contiguous();
    const double* data = flat.data_ptr<double>();
    line << '[';
    for (int64_t i = 0; i < flat.numel(); ++i) line << (i ? "," : "") << data[i];
    line << ']';
  };
  line << "{\"action\":";
  write_array(action);
  line << ",\"state\":";
  write_array(state);
  line << ",\"reward\":" << reward << ",\"success\":" << (success ? "true" : "false") << "}\n";
  out += line.str();
}

#ifdef WM_HAVE_VIDEO
std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
#endif

// <key>.mp4 of the frames [T, 3, H, W], encoded through a temporary file
void write_video(const std::filesystem::path& out, const std::string& key, const at::Tensor& frames,
                 const Params& params, io::TarWriter& shard) {
#ifdef WM_HAVE_VIDEO
  video::WriteOptions options;
  options.fps = params.get<double>("fps");
  options.crf = static_cast<int>(params.get<int64_t>("crf"));
  auto file = out / (key + ".tmp.mp4");
  video::write(file, frames, options);
  shard.add(key + ".mp4", read_file(file));
  std::filesystem::remove(file);
#else
  (void)out, (void)key, (void)frames, (void)params, (void)shard;
  throw Error("collect: this wmhost was built without FFmpeg");
#endif
}

void collect_run(RunContext& context, const Params& params) {
  bool with_video = params.get<bool>("video");
  std::string frame_key = params.get<std::string>("frame_key");
#ifndef WM_HAVE_VIDEO
  if (with_video)
    throw Error("collect: this wmhost was built without FFmpeg, so it cannot write videos; set "
                "video: false for state-only episodes, or install libavcodec-dev "
                "libavformat-dev libswscale-dev and rebuild");
#endif
  Env& env = episode_env(context, params);
  EnvSpec spec = env.spec();
  std::vector<std::string> observed;
  for (const auto& key : spec.observation) observed.push_back(key.name);
  auto has = [&](const std::string& key) {
    return std::find(observed.begin(), observed.end(), key) != observed.end();
  };
  if (with_video && !has(frame_key))
    throw Error("collect: the env has no `" + frame_key + "` observation (it has: " +
                join(observed) + "); give it a camera (metaworld: env.params.camera: corner), "
                "name the frames with frame_key, or set video: false for state-only episodes");
  if (!has("state"))
    throw Error("collect: the env has no `state` observation (it has: " + join(observed) + ")");
  EpisodePolicy policy("collect", context, params);

  int64_t episodes = params.get<int64_t>("episodes");
  int64_t per_shard = params.get<int64_t>("episodes_per_shard");
  int64_t max_steps = params.get<int64_t>("max_steps");
  if (max_steps == 0) max_steps = spec.max_episode_steps > 0 ? spec.max_episode_steps : 1000;
  int64_t after_success = params.get<int64_t>("steps_after_success");
  std::filesystem::path out = params.get<std::string>("out");
  if (out.empty()) out = context.dir / "episodes";
  prepare_out(out, context.dir, params.get<bool>("overwrite"));

  std::unique_ptr<io::TarWriter> shard;
  int64_t successes = 0, frames_total = 0, shards = 0;
  double return_sum = 0;
  Progress progress("collect", episodes);
  for (int64_t episode = 0; episode < episodes; ++episode) {
    if (episode % per_shard == 0) {
      if (shard) shard->close();
      char name[32];
      std::snprintf(name, sizeof name, "shard-%06lld.tar", static_cast<long long>(episode / per_shard));
      shard = std::make_unique<io::TarWriter>(out / name);
      ++shards;
    }
    // frame 0 is the reset observation; each step adds one frame
    TensorMap observation = env.reset(episode_seed(context, params, episode));
    policy.reset(observation);
    std::vector<at::Tensor> frames;
    if (with_video) frames.push_back(observation.at(frame_key));
    std::vector<at::Tensor> states{observation.at("state")}, actions;
    std::vector<double> rewards{0.0};
    std::vector<bool> success_flags{false};
    int64_t first_success = -1;
    for (int64_t step = 0; step < max_steps; ++step) {
      at::Tensor action = policy.act();
      StepResult result = env.step(action);
      policy.observe(result.observation, action);
      bool success = result.info.count("success") && result.info.at("success") > 0.5;
      if (success && first_success < 0) first_success = step;
      actions.push_back(action.to(at::kFloat));
      if (with_video) frames.push_back(result.observation.at(frame_key));
      states.push_back(result.observation.at("state"));
      rewards.push_back(result.reward);
      success_flags.push_back(success);
      return_sum += result.reward;
      if (result.terminated || result.truncated) break;
      if (after_success >= 0 && first_success >= 0 && step - first_success >= after_success) break;
    }
    actions.push_back(at::zeros({spec.action_size}, at::kFloat));
    successes += first_success >= 0;

    // the episode's two members
    char key[32];
    std::snprintf(key, sizeof key, "episode-%06lld", static_cast<long long>(episode));
    std::string records;
    for (size_t t = 0; t < states.size(); ++t)
      append_record(records, actions[t], states[t], rewards[t], success_flags[t]);
    if (with_video) write_video(out, key, at::stack(frames), params, *shard);
    shard->add(std::string(key) + ".jsonl", records);
    frames_total += static_cast<int64_t>(states.size());
    progress.advance();
  }
  shard->close();
  std::map<std::string, double> values = {{"episodes", static_cast<double>(episodes)},
                                          {"frames", static_cast<double>(frames_total)},
                                          {"shards", static_cast<double>(shards)},
                                          {"success_rate", static_cast<double>(successes) / episodes},
                                          {"return_mean", return_sum / episodes}};
  context.metrics_log.append({{"procedure", "collect"}, {"policy", policy.name()}}, values);
  log().info("collect: {} episodes ({} frames) in {} shard(s) under {}, success {:.0f}%", episodes,
             frames_total, shards, out.string(), 100.0 * values["success_rate"]);
}

}  // namespace

const Procedure collect_procedure = {"collect",
                                     "run a policy in the env and write episodes as webdataset shards",
                                     &collect_schema, {/*model=*/false, /*env=*/true},
                                     &check_policy_params, &collect_run};

}  // namespace wm
