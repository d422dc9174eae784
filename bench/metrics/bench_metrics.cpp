// bench_metrics: how fast the metrics are on this machine, with 2 compute threads on both sides.
//   LPIPS (alex) pairs/s at 64 and 224 px: the lpips plugin vs. the same computation in PyTorch
//   (Debian python3-torch, run from here); the FVD Fréchet step on 2048 x 400 features; the
//   Lucas-Kanade estimator's frames/s. Random weights: speed does not depend on their values.
// Run: build/bench/metrics/bench_metrics   (under a minute; needs Debian's python3-torch)
// OpenMP threads spin while they wait; on a shared 2-core machine that made every number 30-100x
// worse (eigh took seconds). The bench therefore re-executes itself with OMP_NUM_THREADS=2 and
// OMP_WAIT_POLICY=PASSIVE unless they are set; the Python side inherits both.
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "api.h"
#include "frechet_distance.h"
#include "procedures/lucas_kanade_flow.h"
#include "wm/metric.h"

#include "bench_support.h"

namespace {

constexpr int kThreads = 2;

// one warm-up call before timing (first calls allocate and load weights)
template <class Body>
double best_seconds(int repeats, Body&& body) {
  return bench::best_seconds(repeats, body, /*warmups=*/1);
}

// the PyTorch side: writes random AlexNet and LPIPS head weights for both sides, then times the
// LPIPS v0.1 computation (torchvision alexnet.features, same taps and math) at each size
constexpr const char* kPyTorchSide = R"py(
import os, sys, time, torch, torchvision
import torch.nn.functional as F
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
folder, pairs = sys.argv[1], int(sys.argv[2])
torch.manual_seed(0)
model = torchvision.models.alexnet().eval()
torch.save({k: v for k, v in model.state_dict().items()}, folder + "/alexnet.pth")
heads = [torch.rand(1, c, 1, 1) for c in (64, 192, 384, 256, 256)]
torch.save({f"lin{k}.model.1.weight": h for k, h in enumerate(heads)}, folder + "/alex.pth")
shift = torch.tensor([-.030, -.088, -.188]).view(1, 3, 1, 1)
scale = torch.tensor([.458, .448, .450]).view(1, 3, 1, 1)
def lpips(x0, x1):
    def taps(x):
        out, start = [], 0
        for end in (2, 5, 8, 10, 12):
            for i in range(start, end):
                x = model.features[i](x)
            out.append(x); start = end
        return out
    f0, f1 = taps(((2 * x0 - 1) - shift) / scale), taps(((2 * x1 - 1) - shift) / scale)
    total = 0
    for k in range(5):
        u0 = f0[k] / (f0[k].pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        u1 = f1[k] / (f1[k].pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        total = total + F.conv2d((u0 - u1) ** 2, heads[k]).mean(dim=(2, 3))
    return total
with torch.no_grad():
    for size in (64, 224):
        x0, x1 = torch.rand(pairs, 3, size, size), torch.rand(pairs, 3, size, size)
        lpips(x0, x1)
        times = []
        for _ in range(5):
            start = time.perf_counter(); lpips(x0, x1); times.append(time.perf_counter() - start)
        print(size, min(times))
)py";

std::map<int, double> pytorch_lpips_seconds(const std::filesystem::path& folder, int pairs) {
  auto script = folder / "pytorch_side.py";
  std::ofstream(script) << kPyTorchSide;
  std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  std::string command = "OMP_NUM_THREADS=" + std::to_string(kThreads) + " " + python + " " +
                        script.string() + " " + folder.string() + " " + std::to_string(pairs);
  std::string output = bench::output_of(command);
  std::map<int, double> seconds;
  std::istringstream lines(output);
  int size;
  double value;
  while (lines >> size >> value) seconds[size] = value;
  return seconds;
}

std::shared_ptr<wm::Metric> make_lpips(const std::filesystem::path& folder, int pairs, bool channels_last) {
  static wm::Host host({WM_BENCH_PLUGIN_DIR});
  return host.make<wm::Metric>("lpips", "{net: alex, backbone_weights: " + (folder / "alexnet.pth").string() +
                                 ", head_weights: " + (folder / "alex.pth").string() +
                                 ", chunk_frames: " + std::to_string(pairs) +
                                 ", channels_last: " + (channels_last ? "true" : "false") + "}");
}

void bench_lpips() {
  const int pairs = 16;
  auto folder = std::filesystem::temp_directory_path() / "wm_bench_lpips";
  std::filesystem::create_directories(folder);
  // PyTorch runs before and after the plugin and keeps its faster time: a fair share of quiet
  auto python = pytorch_lpips_seconds(folder, pairs);
  // the plugin's default (channels-last backbone) and the layout PyTorch uses by default
  std::map<std::pair<int, bool>, double> ours;
  for (bool channels_last : {true, false}) {
    auto metric = make_lpips(folder, pairs, channels_last);
    for (int size : {64, 224}) {
      auto x0 = torch::rand({pairs, 3, size, size}), x1 = torch::rand({pairs, 3, size, size});
      ours[{size, channels_last}] = best_seconds(5, [&] { metric->update({{"prediction", x0}, {"target", x1}}); });
    }
  }
  auto python_again = pytorch_lpips_seconds(folder, pairs);
  std::printf("LPIPS alex, %d pairs per call, %d threads each side, best of 5\n", pairs, kThreads);
  std::printf("  %-6s %18s %18s %15s %8s %8s\n", "size", "wmhost NHWC pairs/s", "wmhost NCHW pairs/s",
              "PyTorch pairs/s", "NHWC/Py", "NCHW/Py");
  for (int size : {64, 224}) {
    double nhwc = pairs / ours[{size, true}], nchw = pairs / ours[{size, false}];
    double pytorch = pairs / std::min(python.at(size), python_again.at(size));
    std::printf("  %-6d %18.1f %18.1f %15.1f %7.2fx %7.2fx\n", size, nhwc, nchw, pytorch, nhwc / pytorch,
                nchw / pytorch);
  }
  std::filesystem::remove_all(folder);
}

// LAPACK's eigh dominates; with OpenMP threads on a busy 2-core machine it can stall for
// seconds in spin-waits, so both thread counts are shown
void bench_frechet() {
  auto generated = torch::randn({2048, 400}) * 3, real = torch::randn({2048, 400}) * 3 + 0.5;
  std::printf("FVD Fréchet step, 2048 x 400 features per side (float64), best of 5\n");
  for (int threads : {1, kThreads}) {
    at::set_num_threads(threads);
    wm::eval::FrechetStatistics a, b;
    double stats_seconds = best_seconds(5, [&] {
      a.reset(), b.reset();
      a.add(generated), b.add(real);
    });
    double fvd = 0;
    double distance_seconds = best_seconds(5, [&] { fvd = wm::eval::frechet_distance(a, b); });
    std::printf("  %d thread%s: statistics %6.1f ms + distance %7.1f ms = %7.1f ms  (FD %.2f)\n",
                threads, threads > 1 ? "s" : " ", 1e3 * stats_seconds, 1e3 * distance_seconds,
                1e3 * (stats_seconds + distance_seconds), fvd);
  }
  at::set_num_threads(kThreads);
}

void bench_flow() {
  wm::eval::LucasKanadeFlow estimator;
  std::printf("Lucas-Kanade dense flow (default options: up to 5 levels, 5 steps each)\n");
  for (int size : {128, 256}) {
    auto frame0 = torch::rand({1, 3, size, size}), frame1 = frame0.roll(2, 3);
    double seconds = best_seconds(5, [&] { estimator.estimate(frame0, frame1); });
    std::printf("  %dx%d: %8.1f ms per frame pair (best of 5)\n", size, size, 1e3 * seconds);
  }
}

}  // namespace

int main(int, char** argv) {
  // libgomp reads its environment when it loads, before main: set it, then start again
  if (!std::getenv("OMP_NUM_THREADS") || !std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_NUM_THREADS", std::to_string(kThreads).c_str(), 0);
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    execv("/proc/self/exe", argv);
    std::perror("bench_metrics: re-exec failed");
    return 1;
  }
  std::printf("OMP_NUM_THREADS=%s OMP_WAIT_POLICY=%s\n", std::getenv("OMP_NUM_THREADS"),
              std::getenv("OMP_WAIT_POLICY"));
  at::set_num_threads(kThreads);
  torch::manual_seed(0);
  try {
    bench_lpips();
    bench_frechet();
    bench_flow();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_metrics: %s\n", e.what());
    return 1;
  }
  return 0;
}
