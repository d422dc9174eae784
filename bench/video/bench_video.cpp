// bench_video: decode speed of wm::video::Reader against the ffmpeg tool (the limit: same
// libraries, no tensors), PyAV (Debian python3-av) and torchvision's read_video (python3-torchvision,
// PyAV underneath: how Python video datasets read clips), in the same run.
//   (a) full decode of a 224x224, 30 s, 25 fps H.264 and VP9 file to RGB frames, 2 decoder threads
//       each (torchvision: PyAV's default threading);
//   (b) sampled clips: 16 frames at stride 2 and 4, and 8 at stride 25 (a frame a second), from
//       random start times, each clip opening the file and seeking, as a data loader does; one
//       decoder thread (loaders run clips in parallel, and PyAV 10 hung closing a frame-threaded
//       decoder left mid-stream). The PyAV loop converts only the kept frames; read_video
//       converts every frame from start to end, then keeps every stride-th.
// Run: build/bench/video/bench_video   (a few minutes; needs the ffmpeg tool, python3-av and
// python3-torchvision)
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "wm/video/video.h"

#include "bench_support.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr int kThreads = 2;
constexpr int kClips = 30;
// frames x stride: dense clips, and a sparse one (a frame a second) that spans groups of pictures
constexpr std::pair<int, int> kClipShapes[] = {{16, 2}, {16, 4}, {8, 25}};

std::string shell(const std::string& command) { return bench::output_of(command); }

using bench::best_seconds;

// the ffmpeg tool's own decode time (-benchmark's rtime) for one command's input options
double ffmpeg_seconds(const std::string& input, const std::string& output_options,
                      int threads = kThreads) {
  std::string text = shell("ffmpeg -nostdin -benchmark -threads " + std::to_string(threads) + " " +
                           input + " " + output_options +
                           " -fps_mode passthrough -pix_fmt rgb24 -f rawvideo -y /dev/null 2>&1");
  std::smatch match;
  if (!std::regex_search(text, match, std::regex("rtime=([0-9.]+)s")))
    throw std::runtime_error("no rtime in ffmpeg's output:\n" + text);
  return std::stod(match[1]);
}

// The Python sides, full decode or the same clips, to RGB arrays; print seconds (best of 3):
// "full"/"clips" drive PyAV directly, "tv_full"/"tv_clips" call torchvision.io.read_video
constexpr const char* kPythonSide = R"py(
import sys, time, warnings, av
mode, file, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
starts = [float(s) for s in sys.argv[4].split(",")] if len(sys.argv) > 4 else []
frames, stride = (int(sys.argv[5]), int(sys.argv[6])) if len(sys.argv) > 6 else (0, 1)
if mode.startswith("tv_"):
    warnings.filterwarnings("ignore")  # read_video's deprecation notice
    import torch
    from torchvision.io import read_video
    torch.set_num_threads(1)
    with av.open(file) as container:
        fps = float(container.streams.video[0].average_rate)

def full():
    with av.open(file) as container:
        stream = container.streams.video[0]
        stream.thread_type, stream.thread_count = "AUTO", threads
        return sum(1 for f in container.decode(stream) if f.to_ndarray(format="rgb24") is not None)

def clips():
    count = 0
    for start in starts:
        with av.open(file) as container:
            stream = container.streams.video[0]
            stream.thread_count = 1
            container.seek(int(start / stream.time_base) + (stream.start_time or 0), stream=stream,
                           backward=True, any_frame=False)
            kept = seen = 0
            for f in container.decode(stream):
                if f.time < start - 1e-6:
                    continue
                if seen % stride == 0:
                    f.to_ndarray(format="rgb24")
                    kept += 1
                seen += 1
                if kept == frames:
                    break
            count += kept
    return count

def tv_full():
    return len(read_video(file, pts_unit="sec", output_format="TCHW")[0])

def tv_clips():
    count = 0
    for start in starts:
        # the window holds the clip's span whatever the first frame's offset from start
        end = start + ((frames - 1) * stride + 1) / fps
        video = read_video(file, start, end, pts_unit="sec", output_format="TCHW")[0]
        count += len(video[::stride][:frames])
    return count

run = {"full": full, "clips": clips, "tv_full": tv_full, "tv_clips": tv_clips}[mode]
best = 1e30
for _ in range(3):
    begin = time.perf_counter()
    count = run()
    best = min(best, time.perf_counter() - begin)
print(best, count)
)py";

// seconds of one Python side; throws when it decoded another number of frames than wmhost
// (clips: `shape` is "frames stride")
double python_seconds(const fs::path& folder, const std::string& mode, const fs::path& file,
                      int64_t frames, const std::string& starts = "", const std::string& shape = "") {
  std::ofstream(folder / "python_side.py") << kPythonSide;
  std::string python = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  std::istringstream out(shell(python + " " + (folder / "python_side.py").string() + " " + mode +
                               " " + file.string() + " " + std::to_string(kThreads) + " " + starts +
                               " " + shape));
  double seconds = 0;
  int64_t decoded = 0;
  out >> seconds >> decoded;
  if (decoded != frames)
    throw std::runtime_error(mode + " on " + file.string() + " returned " + std::to_string(decoded) +
                             " frames, wmhost " + std::to_string(frames));
  return seconds;
}

void report(const char* what, int64_t frames, double ours, double ffmpeg, double pyav,
            double torchvision) {
  std::printf("  %-18s %8.0f %8.0f %8.0f %8.0f   %6.2fx %6.2fx %6.2fx\n", what, frames / ours,
              frames / ffmpeg, frames / pyav, frames / torchvision, ffmpeg / ours, pyav / ours,
              torchvision / ours);
}

}  // namespace

int main(int, char** argv) {
  // libgomp reads its environment when it loads, before main: set it, then start again
  if (!std::getenv("OMP_NUM_THREADS") || !std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_NUM_THREADS", std::to_string(kThreads).c_str(), 0);
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    execv("/proc/self/exe", argv);
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  at::set_num_threads(1);  // the reader's tensor work is copies; decoding has its own threads
  std::string pattern = (fs::temp_directory_path() / "wmbench-video-XXXXXX").string();
  fs::path folder = mkdtemp(pattern.data());

  // the fixtures: ffmpeg's moving test pattern, 30 s at 25 fps, a keyframe every 2 s
  std::vector<std::pair<std::string, std::string>> files = {
      {"h264.mp4", "libx264 -preset medium -crf 23"},
      {"vp9.webm", "libvpx-vp9 -crf 32 -b:v 0 -deadline realtime -cpu-used 8 -row-mt 1"}};
  for (const auto& [name, codec] : files)
    shell("ffmpeg -v error -nostdin -y -f lavfi -i testsrc2=size=224x224:rate=25:duration=30 -c:v " +
          codec + " -g 50 -pix_fmt yuv420p " + (folder / name).string());

  std::printf("video decode, frames/s (best of 3): full decode %d threads, clips 1 thread, each side\n",
              kThreads);
  std::printf("  %-18s %8s %8s %8s %8s   %7s %7s %7s\n", "", "wmhost", "ffmpeg", "PyAV", "tv", "/ffmpeg",
              "/PyAV", "/tv");
  std::mt19937 random(3);
  std::uniform_real_distribution<double> start_time(0, 30 - 8 * 25 / 25.0 - 0.1);  // room for 8x25
  std::vector<double> starts(kClips);
  for (double& start : starts) start = std::round(start_time(random) * 1000) / 1000;
  std::string start_list;
  for (double start : starts) start_list += (start_list.empty() ? "" : ",") + std::to_string(start);

  for (const auto& [name, codec] : files) {
    fs::path file = folder / name;
    std::string label = name.substr(0, name.find('.'));

    // (a) every frame
    int64_t frames = wm::video::Reader(file).info().frame_count;
    double ours = best_seconds(3, [&] { wm::video::Reader(file, kThreads).read_all(); });
    double ffmpeg = 1e30;
    for (int i = 0; i < 3; ++i) ffmpeg = std::min(ffmpeg, ffmpeg_seconds("-i " + file.string(), ""));
    double pyav = python_seconds(folder, "full", file, frames);
    double torchvision = python_seconds(folder, "tv_full", file, frames);
    report((label + " full").c_str(), frames, ours, ffmpeg, pyav, torchvision);

    // (b) sampled clips, each from a fresh open
    for (auto [clip_length, stride] : kClipShapes) {
      wm::video::ClipRequest request;
      request.frames = clip_length;
      request.stride = stride;
      double clips_ours = best_seconds(3, [&] {
        for (double start : starts) {
          request.start = start;
          wm::video::Reader(file, 1).read_clip(request);
        }
      });
      double clips_ffmpeg = 1e30;
      for (int i = 0; i < 3; ++i) {
        double total = 0;
        for (double start : starts)
          total += ffmpeg_seconds("-ss " + std::to_string(start) + " -i " + file.string(),
                                  "-vf select='not(mod(n\\," + std::to_string(stride) +
                                      "))' -frames:v " + std::to_string(clip_length), 1);
        clips_ffmpeg = std::min(clips_ffmpeg, total);
      }
      int64_t clip_frames = int64_t(kClips) * clip_length;
      std::string shape = std::to_string(clip_length) + " " + std::to_string(stride);
      double clips_pyav = python_seconds(folder, "clips", file, clip_frames, start_list, shape);
      double clips_torchvision = python_seconds(folder, "tv_clips", file, clip_frames, start_list, shape);
      std::string row = label + " clips " + std::to_string(clip_length) + "x" + std::to_string(stride);
      report(row.c_str(), clip_frames, clips_ours, clips_ffmpeg, clips_pyav, clips_torchvision);
    }
  }
  fs::remove_all(folder);
  return 0;
}
