// bench_loader: clips/s of wm::Loader at 0, 1 and 2 workers over a 64-clip fixture set, against
// PyTorch's DataLoader (Debian python3-torch) doing the same work on the same clips, in one run.
// Two fixture sets of 64 clips from the synthetic plugin: raw uint8 files (16 frames, 128x128; the
// loader alone) and H.264 mp4 videos (64 frames at 25 fps; wmhost reads them through the
// `manifest` plugin, PyTorch through PyAV, 16 frames at stride 2 from the middle, one decoder
// thread per clip). Per clip both sides then take one random 112x112 crop, flip half of the
// clips, jitter brightness and contrast, normalise; batches of 8, shuffled; steady state
// (workers already up), the best of 3 epochs after a warm-up epoch. One intra-op thread per
// worker on both sides.
// Run: build/bench/loader/bench_loader   (about a minute)
#include <ATen/ATen.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config_node.h"
#include "param_binding.h"
#include "api.h"
#include "engine/loader.h"
#include "runtime.h"
#include "engine/transforms.h"
#ifdef WM_BENCH_VIDEO
#include "wm/video/video.h"
#endif

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr int64_t kClips = 64, kFrames = 16, kSize = 128, kBatch = 8;

// the same work in PyTorch: raw file -> crop -> flip -> jitter -> normalise, DataLoader batches
constexpr const char* kPyTorchSide = R"py(
import sys, time, numpy as np, torch
import torchvision.transforms.functional as F
folder, clips, frames, size, batch = sys.argv[1], *map(int, sys.argv[2:6])
videos = sys.argv[6] == "video"
torch.set_num_threads(1)

def raw(i):
    return torch.from_numpy(np.fromfile(f"{folder}/clip-{i:03d}.u8", dtype=np.uint8)).view(frames, 3, size, size)

def decoded(i, stride=2):
    # `frames` frames at `stride` from a start that centres them, as the manifest plugin does
    import av
    with av.open(f"{folder}/clip-{i:03d}.mp4") as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        duration = float(stream.duration * stream.time_base)
        start = max(0.0, (duration - frames * stride / float(stream.average_rate)) / 2)
        container.seek(int(start / stream.time_base) + (stream.start_time or 0), stream=stream, backward=True)
        kept, seen = [], 0
        for frame in container.decode(stream):
            if frame.time < start - 1e-6: continue
            if seen % stride == 0: kept.append(frame.to_ndarray(format="rgb24"))
            seen += 1
            if len(kept) == frames: break
    return torch.from_numpy(np.stack(kept)).permute(0, 3, 1, 2)

class RawClips(torch.utils.data.Dataset):
    def __len__(self): return clips
    def __getitem__(self, i):
        video = decoded(i) if videos else raw(i)
        top, left = np.random.randint(0, size - 112 + 1, 2)
        video = video[:, :, top:top + 112, left:left + 112].float().div(255)
        if np.random.rand() < 0.5: video = video.flip(3)
        video = F.adjust_brightness(video, np.random.uniform(0.6, 1.4))
        video = F.adjust_contrast(video, np.random.uniform(0.6, 1.4))
        return F.normalize(video, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])

def seed_worker(worker): np.random.seed(worker)
for workers in (0, 1, 2):
    loader = torch.utils.data.DataLoader(RawClips(), batch_size=batch, shuffle=True, drop_last=True,
                                         num_workers=workers, persistent_workers=workers > 0,
                                         worker_init_fn=seed_worker)
    for _ in loader: pass  # warm-up: workers start, files enter the page cache
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in loader: pass
        best = min(best, time.perf_counter() - start)
    print(workers, clips / best, flush=True)
)py";

// the raw fixture: clip-NNN.u8 files, read whole
class RawClips : public wm::Dataset {
 public:
  explicit RawClips(fs::path folder) : folder_(std::move(folder)) {}
  int64_t size() const override { return kClips; }
  std::vector<wm::KeySpec> keys() const override { return {{"video", "uint8", "[T, 3, H, W]", ""}}; }
  std::string id(int64_t index) const override {
    char name[32];
    std::snprintf(name, sizeof name, "clip-%03lld", static_cast<long long>(index));
    return name;
  }
  wm::Sample get(int64_t index) const override {
    auto video = at::empty({kFrames, 3, kSize, kSize}, at::kByte);
    std::ifstream(folder_ / (id(index) + ".u8"), std::ios::binary)
        .read(static_cast<char*>(video.data_ptr()), video.numel());
    return {{{"video", video}}, id(index), (folder_ / (id(index) + ".u8")).string(), ""};
  }

 private:
  fs::path folder_;
};

// a dataset plugin of the build tree with its params; the registry outlives what it makes
std::shared_ptr<wm::Dataset> make_dataset(const std::string& name, const std::string& params_yaml) {
  static wm::Host host({WM_BENCH_PLUGIN_DIR});
  return host.make<wm::Dataset>(name, params_yaml);
}

// the fixture: clips of the synthetic plugin, written once as raw frames
void write_fixture(const fs::path& folder) {
  auto synthetic = make_dataset("synthetic", "{samples: 64, frames: 16, size: 128}");
  RawClips names(folder);
  for (int64_t i = 0; i < kClips; ++i) {
    auto video = synthetic->get(i).tensors.at("video").contiguous();
    std::ofstream(folder / (names.id(i) + ".u8"), std::ios::binary)
        .write(static_cast<const char*>(video.data_ptr()), video.numel());
  }
}

#ifdef WM_BENCH_VIDEO
// the video fixture: the synthetic clips, 64 frames each, as H.264 mp4 files, listed for the
// manifest plugin
std::shared_ptr<wm::Dataset> video_clips(const fs::path& folder) {
  auto synthetic = make_dataset("synthetic", "{samples: 64, frames: 64, size: 128}");
  std::ofstream list(folder / "list.csv");
  RawClips names(folder);
  for (int64_t i = 0; i < kClips; ++i) {
    wm::video::write(folder / (names.id(i) + ".mp4"), synthetic->get(i).tensors.at("video"), {25, 23, "medium"});
    list << names.id(i) << ".mp4,0\n";
  }
  list.close();
  return make_dataset("manifest", "{csv: " + (folder / "list.csv").string() + ", frames: 16, stride: 2}");
}
#endif

std::shared_ptr<wm::TransformPipeline> transforms() {
  auto pipeline = std::make_shared<wm::TransformPipeline>();
  for (auto [name, yaml] : std::vector<std::pair<std::string, std::string>>{
           {"random_crop", "{size: [112]}"},
           {"hflip", "{frames_only: true}"},
           {"color_jitter", "{brightness: 0.4, contrast: 0.4}"},
           {"normalize", "{}"}}) {
    const wm::TransformKind* kind = wm::find_transform_kind(name);
    auto node = wm::parse_yaml(yaml, "bench.yaml");
    pipeline->add(kind->make(wm::bind_params(kind->schema(), &node, name, name, node.loc)), name, {});
  }
  return pipeline;
}

double loader_clips_per_second(const wm::Dataset& clips, int64_t workers) {
  wm::LoaderOptions options;
  options.batch_size = kBatch, options.workers = workers, options.transforms = transforms();
  wm::Loader loader(clips, options);
  int64_t batches = kClips / kBatch;
  for (int64_t b = 0; b < batches; ++b) loader.next();  // warm-up
  double best = 1e30;
  for (int round = 0; round < 3; ++round) {
    auto start = Clock::now();
    for (int64_t b = 0; b < batches; ++b) loader.next();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return kClips / best;
}

std::map<int64_t, double> pytorch_clips_per_second(const fs::path& folder, const std::string& fixture) {
  auto script = folder / "pytorch_side.py";
  std::ofstream(script) << kPyTorchSide;
  std::string command = "/usr/bin/python3 " + script.string() + " " + folder.string() + " " +
                        std::to_string(kClips) + " " + std::to_string(kFrames) + " " +
                        std::to_string(kSize) + " " + std::to_string(kBatch) + " " + fixture;
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char chunk[4096];
  while (size_t n = std::fread(chunk, 1, sizeof chunk, pipe)) output.append(chunk, n);
  if (pclose(pipe) != 0) throw std::runtime_error("the PyTorch side failed (needs python3-torch):\n" + output);
  std::map<int64_t, double> rates;
  std::istringstream lines(output);
  int64_t workers;
  double rate;
  while (lines >> workers >> rate) rates[workers] = rate;
  return rates;
}

}  // namespace

int main(int, char** argv) {
  // libgomp reads its environment when it loads, before main: set it, then start again
  if (!std::getenv("OMP_NUM_THREADS") || !std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_NUM_THREADS", "1", 0);
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    execv("/proc/self/exe", argv);
    std::perror("bench_loader: re-exec failed");
    return 1;
  }
  try {
    wm::set_compute_threads(1);
    wm::reuse_freed_memory();  // as `wmhost run` does
    auto folder = fs::temp_directory_path() / "wm_bench_loader";
    fs::create_directories(folder);
    write_fixture(folder);
    RawClips raw(folder);
    std::vector<std::pair<std::string, const wm::Dataset*>> fixtures = {{"raw", &raw}};
#ifdef WM_BENCH_VIDEO
    auto videos = video_clips(folder);
    fixtures.push_back({"video", videos.get()});
#endif
    for (const auto& [fixture, clips] : fixtures) {
      // PyTorch runs before and after wmhost and keeps its better number: a fair share of quiet
      auto python = pytorch_clips_per_second(folder, fixture);
      std::map<int64_t, double> ours;
      for (int64_t workers : {0, 1, 2}) ours[workers] = loader_clips_per_second(*clips, workers);
      auto python_again = pytorch_clips_per_second(folder, fixture);
      if (fixture == "raw")
        std::printf("loader: %lld clips of %lldx3x%lldx%lld uint8 in raw files", static_cast<long long>(kClips),
                    static_cast<long long>(kFrames), static_cast<long long>(kSize), static_cast<long long>(kSize));
      else
        std::printf("loader: %lld H.264 mp4 videos of 64 frames, %lldx%lld, 16 frames at stride 2 decoded "
                    "(PyTorch: PyAV)", static_cast<long long>(kClips), static_cast<long long>(kSize),
                    static_cast<long long>(kSize));
      std::printf(", crop 112 + flip + jitter + normalise, batches of %lld, best of 3 epochs\n",
                  static_cast<long long>(kBatch));
      std::printf("  %-8s %15s %17s %8s\n", "workers", "wmhost clips/s", "PyTorch clips/s", "ratio");
      for (int64_t workers : {0, 1, 2}) {
        double reference = std::max(python.at(workers), python_again.at(workers));
        std::printf("  %-8lld %15.1f %17.1f %7.2fx\n", static_cast<long long>(workers), ours[workers],
                    reference, ours[workers] / reference);
      }
      std::fflush(stdout);
    }
    fs::remove_all(folder);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_loader: %s\n", e.what());
    return 1;
  }
  return 0;
}
