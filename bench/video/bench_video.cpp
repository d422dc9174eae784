// bench_video: decode speed of wm::video::Reader against the ffmpeg tool (the limit: same
// libraries, no tensors) and PyAV (Debian python3-av), in the same run, 2 decoder threads each.
//   (a) full decode of a 224x224, 30 s, 25 fps H.264 and VP9 file to RGB frames;
//   (b) sampled clips: 16 frames at stride 2 and 4 from random start times, each clip opening the file
//       and seeking, as a data loader does; one decoder thread (loaders run clips in parallel,
//       and PyAV 10 hung closing a frame-threaded decoder left mid-stream).
// Run: build/bench/video/bench_video   (a few minutes; needs the ffmpeg tool and python3-av)
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

#include "wm/video.h"

#include "bench_support.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr int kThreads = 2;
constexpr int kClips = 30, kClipFrames = 16;
constexpr int kClipStrides[] = {2, 4};

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

// PyAV: full decode or the same clips, to RGB numpy arrays; prints seconds (best of 3)
constexpr const char* kPyAvSide = R"py(
import sys, time, av
mode, file, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
starts = [float(s) for s in sys.argv[4].split(",")] if len(sys.argv) > 4 else []
frames, stride = 16, int(sys.argv[5]) if len(sys.argv) > 5 else 1

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

best = 1e30
for _ in range(3):
    begin = time.perf_counter()
    count = full() if mode == "full" else clips()
    best = min(best, time.perf_counter() - begin)
print(best, count)
)py";

double pyav_seconds(const fs::path& folder, const std::string& mode, const fs::path& file,
                    const std::string& starts = "", int stride = 1) {
  std::ofstream(folder / "pyav_side.py") << kPyAvSide;
  std::string python = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  std::istringstream out(shell(python + " " + (folder / "pyav_side.py").string() + " " + mode + " " +
                               file.string() + " " + std::to_string(kThreads) + " " + starts + " " +
                               std::to_string(stride)));
  double seconds = 0;
  out >> seconds;
  return seconds;
}

void report(const char* what, int64_t frames, double ours, double ffmpeg, double pyav) {
  std::printf("  %-22s %9.0f %9.0f %9.0f   %5.2fx   %5.2fx\n", what, frames / ours, frames / ffmpeg,
              frames / pyav, ffmpeg / ours, pyav / ours);
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
  std::printf("  %-22s %9s %9s %9s   %6s   %6s\n", "", "wmhost", "ffmpeg", "PyAV", "vs ffmpeg",
              "vs PyAV");
  std::mt19937 random(3);
  std::uniform_real_distribution<double> start_time(0, 30 - kClipFrames * 4 / 25.0 - 0.1);  // room for stride 4
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
    double pyav = pyav_seconds(folder, "full", file);
    report((label + " full decode").c_str(), frames, ours, ffmpeg, pyav);

    // (b) sampled clips, each from a fresh open
    for (int stride : kClipStrides) {
      wm::video::ClipRequest request;
      request.frames = kClipFrames;
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
                                      "))' -frames:v " + std::to_string(kClipFrames), 1);
        clips_ffmpeg = std::min(clips_ffmpeg, total);
      }
      double clips_pyav = pyav_seconds(folder, "clips", file, start_list, stride);
      std::string row = label + " clips " + std::to_string(kClipFrames) + "x" + std::to_string(stride);
      report(row.c_str(), int64_t(kClips) * kClipFrames, clips_ours, clips_ffmpeg, clips_pyav);
    }
  }
  fs::remove_all(folder);
  return 0;
}
