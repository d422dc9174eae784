// bench_data: the data pipeline's speed next to a Python reference in the same run.
//   1. fit_action_scaler: action rows/s over VPT-style tar shards (write_fixture's generator: 20
//      shards, 100,000 actions, 20 KB video members seeked over), 1 and 2 reader threads, vs. Python reading the same shards with tarfile + json +
//      numpy, then scikit-learn's StandardScaler (fit) and partial_fit per sample.
//   2. (with FFmpeg) the webdataset plugin's clips/s vs. PyAV decoding the same 16-frame clip
//      from the same tar member (read by offset, decoded from memory) plus its actions.
// Run: build/bench/data/bench_data   (about a minute; needs Debian's python3-numpy, -sklearn, -av)
#include <torch/torch.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "bench_support.h"
#include "api.h"
#include "procedures/action_scaler_fit.h"
#include "procedures/vpt_fixture.h"
#include "wm/io/tar.h"
#include "wm/io/webdataset.h"
#ifdef WM_BENCH_VIDEO
#include "wm/video/video.h"
#endif

namespace {

namespace fs = std::filesystem;

using bench::best_seconds;

std::string run_python(const fs::path& folder, const std::string& script, const std::string& args) {
  std::ofstream(folder / "side.py") << script;
  std::string python = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  std::string command = "OMP_NUM_THREADS=1 " + python + " " + (folder / "side.py").string() + " " +
                        folder.string() + " " + args + " 2>&1";
  return bench::output_of(command);
}

constexpr const char* kPythonScaler = R"py(
import glob, io, json, sys, tarfile, time
import numpy as np
from sklearn.preprocessing import StandardScaler
folder = sys.argv[1]
def rows_of(data):
    recs = [json.loads(l) for l in data.decode().splitlines() if l.strip()]
    return [[a["mouse"]["dx"], a["mouse"]["dy"], b["yaw"] - a["yaw"], b["pitch"] - a["pitch"]]
            for a, b in zip(recs[:-1], recs[1:])]
def numpy_fit():
    rows = []
    for shard in sorted(glob.glob(folder + "/shards/*.tar")):
        with tarfile.open(shard) as tar:
            for m in tar:
                if m.name.endswith(".jsonl"): rows += rows_of(tar.extractfile(m).read())
    x = np.asarray(rows, dtype=np.float64)
    return len(x), x.mean(0), x.std(0)
def sklearn_partial():
    s, n = StandardScaler(), 0
    for shard in sorted(glob.glob(folder + "/shards/*.tar")):
        with tarfile.open(shard) as tar:
            for m in tar:
                if m.name.endswith(".jsonl"):
                    r = np.asarray(rows_of(tar.extractfile(m).read())); s.partial_fit(r); n += len(r)
    return n, s.mean_, s.scale_
for name, fit in [("numpy", numpy_fit), ("partial_fit", sklearn_partial)]:
    best = 1e30
    for _ in range(3):
        t = time.perf_counter(); n, mean, std = fit(); best = min(best, time.perf_counter() - t)
    print(name, n, best, " ".join(f"{v:.6g}" for v in std))
)py";

void bench_action_scaler(const fs::path& folder) {
  constexpr int kShards = 20, kSamples = 50, kFrames = 101;  // 20 * 50 * 100 = 100,000 actions
  // the write_fixture generator, with 20 KB stand-in video members the fit must seek over
  wm::VptFixtureOptions fixture_options;
  fixture_options.shards = kShards, fixture_options.samples_per_shard = kSamples;
  fixture_options.frames = kFrames, fixture_options.video = "stand_in";
  wm::VptFixture fixture = wm::write_vpt_fixture(folder / "shards", fixture_options);
  wm::ActionScalerFitOptions options;
  options.shards = wm::io::expand_shard_pattern(fixture.pattern);
  options.max_samples = 100000;
  options.convergence = false;
  options.holdout = 0;
  options.progress = false;
  wm::ActionScalerFit fit;
  double ours = best_seconds(3, [&] { fit = wm::fit_action_scaler(options); });
  // parallel shard readers (threads: 2): the same statistics, bit for bit
  options.threads = 2;
  wm::ActionScalerFit parallel;
  double two = best_seconds(3, [&] { parallel = wm::fit_action_scaler(options); });
  bool identical = parallel.scaler.mean == fit.scaler.mean && parallel.scaler.std == fit.scaler.std;
  std::istringstream python(run_python(folder, kPythonScaler, ""));
  std::printf("fit_action_scaler: %d shards, %lld action rows (float64, 4 dims), best of 3\n",
              kShards, static_cast<long long>(fit.scaler.count));
  std::printf("  %-34s %9.3f s %12.0f actions/s\n", "wmhost fit_action_scaler", ours,
              fit.scaler.count / ours);
  std::printf("  %-34s %9.3f s %12.0f actions/s  -> %.2fx of 1 thread, statistics %s\n",
              "wmhost fit_action_scaler threads: 2", two, fit.scaler.count / two, ours / two,
              identical ? "bit-identical" : "DIFFERENT");
  std::printf("  std: %.6g %.6g %.6g %.6g\n", fit.scaler.std[0], fit.scaler.std[1],
              fit.scaler.std[2], fit.scaler.std[3]);
  for (std::string name; python >> name;) {
    long long rows;
    double seconds;
    python >> rows >> seconds;
    std::string stds;
    std::getline(python, stds);
    std::printf("  %-34s %9.3f s %12.0f actions/s  -> wmhost %.1fx\n",
                ("python tarfile+json+" + name).c_str(), seconds, rows / seconds, seconds / ours);
    std::printf("  std:%s\n", stds.c_str());
  }
}

#ifdef WM_BENCH_VIDEO
constexpr const char* kPythonClips = R"py(
import av, io, json, sys, tarfile, time
import numpy as np
folder, clips, frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with tarfile.open(folder + "/video/shard-000000.tar") as tar:
    members = {m.name: (m.offset_data, m.size) for m in tar.getmembers()}
keys = sorted({n.rsplit(".", 1)[0] for n in members})
def clip(key):
    with open(folder + "/video/shard-000000.tar", "rb") as f:
        off, size = members[key + ".mp4"]; f.seek(off); video = f.read(size)
        off, size = members[key + ".jsonl"]; f.seek(off); records = f.read(size)
    recs = [json.loads(l) for l in records.decode().splitlines()][:frames]
    actions = np.array([[a["mouse"]["dx"], a["mouse"]["dy"], b["yaw"] - a["yaw"], b["pitch"] - a["pitch"]]
                        for a, b in zip(recs[:-1], recs[1:])], dtype=np.float32)
    with av.open(io.BytesIO(video)) as container:
        stream = container.streams.video[0]; stream.thread_count = 1
        out = []
        for frame in container.decode(stream):
            out.append(frame.to_ndarray(format="rgb24"))
            if len(out) == frames: break
    return np.stack(out).transpose(0, 3, 1, 2), actions
best = 1e30
for _ in range(3):
    t = time.perf_counter()
    for i in range(clips): v, a = clip(keys[i % len(keys)])
    best = min(best, time.perf_counter() - t)
print(clips / best, v.shape)
)py";

void bench_webdataset_clips(const fs::path& folder, wm::Host& host) {
  constexpr int kKeys = 8, kClips = 32, kFrames = 16;
  fs::create_directories(folder / "video");
  std::mt19937_64 rng(1);
  auto frames = torch::randint(0, 256, {kFrames * 2, 3, 128, 128}, torch::kUInt8);
  wm::video::write(folder / "video/clip.mp4", frames, {30, 23, "veryfast"});
  std::ifstream in(folder / "video/clip.mp4", std::ios::binary);
  std::string mp4((std::istreambuf_iterator<char>(in)), {});
  {
    wm::io::TarWriter writer(folder / "video/shard-000000.tar");
    for (int k = 0; k < kKeys; ++k) {
      writer.add("clip" + std::to_string(k) + ".mp4", mp4);
      writer.add("clip" + std::to_string(k) + ".jsonl", wm::vpt_records(rng, kFrames * 2));
    }
    writer.close();
  }
  auto dataset = host.make<wm::Dataset>(
      "webdataset", "{shards: " + (folder / "video/shard-000000.tar").string() + ", frames: 16, threads: 1}");
  at::Tensor video;
  double ours = best_seconds(3, [&] {
    for (int i = 0; i < kClips; ++i) video = dataset->get(i % kKeys).tensors.at("video");
  });
  std::istringstream python(run_python(folder, kPythonClips,
                                       std::to_string(kClips) + " " + std::to_string(kFrames)));
  double pyav;
  python >> pyav;
  std::printf("webdataset: 16-frame 128x128 H.264 clips + actions from a tar member, 1 thread, "
              "best of 3\n");
  std::printf("  %-34s %9.1f clips/s\n", "wmhost webdataset plugin", kClips / ours);
  std::printf("  %-34s %9.1f clips/s  -> wmhost %.2fx\n", "PyAV + tarfile offsets + json", pyav,
              (kClips / ours) / pyav);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    execv("/proc/self/exe", argv);
  }
  (void)argc;
  at::set_num_threads(1);
  char pattern[] = "/tmp/bench_data-XXXXXX";
  fs::path folder = mkdtemp(pattern);
  try {
    bench_action_scaler(folder);
#ifdef WM_BENCH_VIDEO
    wm::Host host({WM_BENCH_PLUGIN_DIR});
    bench_webdataset_clips(folder, host);
#else
    std::printf("webdataset clips/s: skipped (built without FFmpeg)\n");
#endif
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_data: %s\n", e.what());
    fs::remove_all(folder);
    return 1;
  }
  fs::remove_all(folder);
  return 0;
}
