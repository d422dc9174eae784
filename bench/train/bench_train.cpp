// bench_train: training steps/s of the model plugins against the same networks written in
// PyTorch from Python (Debian python3-torch), in one run, with 2 compute threads on both sides.
// A step is what host/procedures/train.cpp does per step: the plugin's loss(), loss.item(),
// backward, clip_grad_norm (1.0), wm::train::AdamW, zero_grad. Input: a fixed random clip batch.
// Each measurement runs in a fresh process (this binary with --case, or the Python twin), so the
// peak memory of one configuration is not hidden by memory another one left in the heap; C++ and
// Python alternate, each keeps its best median (other work on a shared machine only adds time).
// Run: build/bench/train/bench_train [--threads N] [--rounds N]   (2-4 minutes)
//      build/bench/train/bench_train --profile <model> <batch>   (ops by self time, both sides)
// OpenMP threads spin while they wait; on a shared 2-core machine that ruins timings, so the
// bench re-executes itself with OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE (Python inherits them).
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api.h"
#include "wm/model.h"
#include "engine/adamw.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr int kThreads = 2;  // the default; --threads N changes it
constexpr const char* kPython = "/usr/bin/python3";  // Debian's, with torch; pyenv's has none

// the Python twin (pytorch_twin.py next to this file), embedded by CMake as kPyTorchTwin
#include "pytorch_twin.inc"

#include "bench_support.h"

//---- the fixed shapes ----

// every parameter the models read is spelled out, so the Python twin needs no defaults
struct Config {
  const char* model;
  const char* params;  // the plugin's YAML params, also parsed by the twin
  int64_t frames, size;
};

// clang-format off
const Config kConfigs[] = {
  // the quickstart's model (configs/quickstart.yaml)
  {"two_stream", "{variant: two_stream, image_size: 32, patch: 4, dim: 96, depth: 4, heads: 4, "
                 "exchange_layer: 2, change_dim: 16, decoder_dim: 96, decoder_depth: 2, max_gap: 3, "
                 "sample_decay: 0.8, loss_decay: 0.5, start_from_copy: true}", 8, 32},
  {"single_stream", "{image_size: 32, patch: 4, dim: 96, depth: 4, heads: 4, change_dim: 16, "
                    "decoder_dim: 96, decoder_depth: 2, max_gap: 3, sample_decay: 0.8, "
                    "loss_decay: 0.5, start_from_copy: true}", 8, 32},
  // ViT-tiny widths, 8 frames of 112 px: 4 x 7 x 7 = 196 tubelets, 20 visible at mask 0.9
  {"videomae", "{size: custom, frames: 8, image_size: 112, patch: 16, tubelet: 2, mask_ratio: 0.9, "
               "normalize_target: true, dim: 192, depth: 12, heads: 3, decoder_dim: 96, "
               "decoder_depth: 4, decoder_heads: 3}", 8, 112},
};
// clang-format on
const int64_t kBatches[] = {2, 16};

const Config& config_of(const std::string& model) {
  for (const auto& config : kConfigs)
    if (model == config.model) return config;
  throw std::runtime_error("no model '" + model + "' in this bench");
}

//---- process helpers ----

int64_t status_kb(const char* field) {  // a line of /proc/self/status, in kB
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field, 0) == 0) return std::stoll(line.substr(line.find(':') + 1));
  return 0;
}

void reset_peak() { std::ofstream("/proc/self/clear_refs") << "5"; }  // VmHWM := VmRSS

using bench::output_of;

fs::path twin_script() {
  static fs::path script = [] {
    auto path = fs::temp_directory_path() / ("wm_bench_train_" + std::to_string(getpid()) + ".py");
    std::ofstream(path) << kPyTorchTwin;
    return path;
  }();
  return script;
}

std::string quoted(const std::string& text) { return "'" + text + "'"; }

std::string twin_arguments(const Config& config, int64_t batch) {
  return std::string(config.model) + " " + quoted(config.params) + " " + std::to_string(batch) + " " +
         std::to_string(config.frames) + " " + std::to_string(config.size);
}

//---- the C++ side ----

std::shared_ptr<wm::Model> make_model(const Config& config) {
  static wm::Host host({WM_BENCH_PLUGIN_DIR});
  return host.make<wm::Model>(config.model, config.params);
}

wm::Batch make_batch(const Config& config, int64_t batch) {
  wm::Batch out;
  out.tensors["video"] = torch::rand({batch, config.frames, 3, config.size, config.size});
  for (int64_t i = 0; i < batch; ++i) out.ids.push_back(std::to_string(i));
  return out;
}

// one training step as host/procedures/train.cpp runs it (accumulate 1, clip_grad 1.0)
struct Step {
  wm::Model& model;
  const wm::Batch& batch;
  wm::train::AdamW optimizer;
  // phases, when given, receives the seconds of loss+item, backward, clip+AdamW+zero_grad
  double operator()(std::vector<std::array<double, 3>>* phases = nullptr) {
    auto start = Clock::now();
    auto out = model.loss(batch);
    double value = out.loss.item<double>();
    if (!std::isfinite(value)) throw std::runtime_error("non-finite loss");
    auto forward = Clock::now();
    (out.loss / 1.0).backward();
    auto backward = Clock::now();
    optimizer.clip_grad_norm(1.0);
    optimizer.step(1e-4);
    optimizer.zero_grad();
    auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    if (phases) phases->push_back({seconds(start, forward), seconds(forward, backward), seconds(backward, Clock::now())});
    return value;
  }
};

struct Measurement {
  int64_t params = 0, steps_per_run = 0;
  double steps_per_s = 0, peak_mb = 0;
};

Measurement parse_measurement(const std::string& line) {
  Measurement m;
  std::istringstream in(line);
  std::string key;
  while (in >> key) {
    if (key == "params") in >> m.params;
    else if (key == "steps_per_s") in >> m.steps_per_s;
    else if (key == "peak_mb") in >> m.peak_mb;
    else if (key == "steps") in >> m.steps_per_run;
  }
  if (m.steps_per_s <= 0) throw std::runtime_error("unreadable measurement: " + line);
  return m;
}

// --case: in this fresh process, 3 warm-up steps (which size a run to ~0.5 s), then the median
// of 5 timed runs; peak memory is VmHWM over all steps minus the RSS with model and batch built
int run_case(const Config& config, int64_t batch_size) {
  torch::manual_seed(0);
  auto model = make_model(config);
  auto batch = make_batch(config, batch_size);
  model->set_training(true);
  int64_t count = 0;
  for (const auto& [name, tensor] : model->parameters()) count += tensor.numel();
  int64_t base_kb = status_kb("VmRSS");
  reset_peak();
  Step step{*model, batch, wm::train::AdamW(model->parameters(), {0.9, 0.999, 1e-8, 0.05})};
  double fastest = 1e9;
  for (int i = 0; i < 3; ++i) {
    auto start = Clock::now();
    step();
    fastest = std::min(fastest, std::chrono::duration<double>(Clock::now() - start).count());
  }
  int64_t steps = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(0.5 / fastest)), 2, 200);
  std::vector<double> rates;
  for (int run = 0; run < 5; ++run) {
    auto start = Clock::now();
    for (int64_t i = 0; i < steps; ++i) step();
    rates.push_back(steps / std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(rates.begin(), rates.end());
  double peak_mb = (status_kb("VmHWM") - base_kb) / 1024.0;
  std::printf("params %lld steps_per_s %.6f peak_mb %.3f steps %lld\n", static_cast<long long>(count),
              rates[rates.size() / 2], peak_mb, static_cast<long long>(steps));
  return 0;
}

//---- the comparison ----

Measurement cpp_case(const std::string& self, const Config& config, int64_t batch) {
  return parse_measurement(output_of(self + " --case " + config.model + " " + std::to_string(batch)));
}

Measurement python_case(const Config& config, int64_t batch) {
  return parse_measurement(output_of(std::string(kPython) + " " + twin_script().string() + " case " +
                                     twin_arguments(config, batch)));
}

// keeps the faster of two measurements, and the larger peak
void keep_best(Measurement& best, const Measurement& m) {
  if (m.steps_per_s > best.steps_per_s) best.steps_per_s = m.steps_per_s, best.steps_per_run = m.steps_per_run;
  best.peak_mb = std::max(best.peak_mb, m.peak_mb);
  best.params = m.params;
}

int run_comparison(const std::string& self, int rounds) {
  std::printf("training steps/s, C++ plugin vs. the same network in PyTorch from Python (%s)\n", kPython);
  std::printf("threads %d each side; step = loss + item + backward + clip_grad_norm + AdamW + zero_grad\n",
              at::get_num_threads());
  std::printf("per cell: median of 5 timed runs after 3 warm-up steps, fresh process, best of %d rounds\n", rounds);
  std::printf("peak = VmHWM during training - RSS with model and batch built (optimizer state, grads, activations)\n\n");
  std::printf("%-14s %5s %11s %11s %7s %12s %12s %10s\n", "model", "batch", "C++ step/s", "Py step/s",
              "ratio", "C++ peak MB", "Py peak MB", "params");
  bool all_match = true;
  for (const auto& config : kConfigs) {
    for (int64_t batch : kBatches) {
      Measurement cpp, python;
      for (int round = 0; round < rounds; ++round) {
        // alternate which side goes first, so neither always gets the quieter moment
        if (round % 2 == 0) keep_best(cpp, cpp_case(self, config, batch)), keep_best(python, python_case(config, batch));
        else keep_best(python, python_case(config, batch)), keep_best(cpp, cpp_case(self, config, batch));
      }
      bool match = cpp.params == python.params;
      all_match = all_match && match;
      std::string params = std::to_string(cpp.params);
      if (!match) params += " != " + std::to_string(python.params) + " (Python)";
      std::printf("%-14s %5lld %11.2f %11.2f %6.2fx %12.1f %12.1f %10s\n", config.model,
                  static_cast<long long>(batch), cpp.steps_per_s, python.steps_per_s,
                  cpp.steps_per_s / python.steps_per_s, cpp.peak_mb, python.peak_mb, params.c_str());
      std::fflush(stdout);
    }
  }
  std::printf("\nratio = C++ steps/s / Python steps/s (> 1: C++ faster). params: %s\n",
              all_match ? "equal on both sides" : "MISMATCH, the twin differs from the plugin");
  return all_match ? 0 : 1;
}

// --profile: the same steps under the legacy autograd profiler on both sides, ops by self time
int run_profile(const Config& config, int64_t batch_size) {
  const int steps = 20;
  auto dir = fs::temp_directory_path() / ("wm_bench_train_profile_" + std::to_string(getpid()));
  fs::create_directories(dir);
  torch::manual_seed(0);
  auto model = make_model(config);
  auto batch = make_batch(config, batch_size);
  model->set_training(true);
  Step step{*model, batch, wm::train::AdamW(model->parameters(), {0.9, 0.999, 1e-8, 0.05})};
  for (int i = 0; i < 3; ++i) step();
  // wall-clock phases first: the profiler's own overhead differs between the two sides
  std::vector<std::array<double, 3>> phases;
  for (int i = 0; i < steps; ++i) step(&phases);
  double cpp_phase_ms[3];
  for (size_t k = 0; k < 3; ++k) {
    std::vector<double> values;
    for (const auto& p : phases) values.push_back(p[k]);
    std::sort(values.begin(), values.end());
    cpp_phase_ms[k] = 1e3 * values[values.size() / 2];
  }
  auto start = Clock::now();
  {
    torch::autograd::profiler::RecordProfile guard((dir / "cpp.json").string());
    for (int i = 0; i < steps; ++i) step();
  }
  double cpp_ms = 1e3 * std::chrono::duration<double>(Clock::now() - start).count() / steps;
  auto twin = std::string(kPython) + " " + twin_script().string();
  std::istringstream twin_phases(output_of(twin + " profile " + twin_arguments(config, batch_size) + " " +
                                           (dir / "python.json").string() + " " + std::to_string(steps)));
  std::string word;
  double python_phase_ms[3] = {0, 0, 0};
  twin_phases >> word >> python_phase_ms[0] >> python_phase_ms[1] >> python_phase_ms[2];
  std::printf("%s, batch %lld: wall-clock phases, median of %d steps, ms\n", config.model,
              static_cast<long long>(batch_size), steps);
  std::printf("  %-36s %10s %10s %9s\n", "phase", "C++ ms", "Python ms", "C++-Py ms");
  const char* names[3] = {"loss() + item (forward)", "backward", "clip_grad_norm + AdamW + zero_grad"};
  double cpp_total = 0, python_total = 0;
  for (int k = 0; k < 3; ++k) {
    std::printf("  %-36s %10.2f %10.2f %+9.2f\n", names[k], cpp_phase_ms[k], python_phase_ms[k],
                cpp_phase_ms[k] - python_phase_ms[k]);
    cpp_total += cpp_phase_ms[k], python_total += python_phase_ms[k];
  }
  std::printf("  %-36s %10.2f %10.2f %+9.2f\n\n", "step", cpp_total, python_total, cpp_total - python_total);
  std::printf("%s, batch %lld: ops by self time, mean over %d profiled steps (C++ step %.1f ms with profiler)\n",
              config.model, static_cast<long long>(batch_size), steps, cpp_ms);
  std::printf("%s", output_of(twin + " aggregate " + (dir / "cpp.json").string() + " " +
                              (dir / "python.json").string() + " " + std::to_string(steps))
                        .c_str());
  fs::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // --threads N (default 2): every measurement is a fresh process, which inherits it
  if (args.size() >= 2 && args[0] == "--threads") {
    setenv("OMP_NUM_THREADS", args[1].c_str(), 1);
    args.erase(args.begin(), args.begin() + 2);
  }
  // libgomp reads its environment when it loads, before main: set it, then start again
  if (!std::getenv("OMP_NUM_THREADS") || !std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_NUM_THREADS", std::to_string(kThreads).c_str(), 0);
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    execv("/proc/self/exe", argv);
    std::perror("bench_train: re-exec failed");
    return 1;
  }
  at::set_num_threads(std::max(1, std::atoi(std::getenv("OMP_NUM_THREADS"))));
  std::string self = fs::read_symlink("/proc/self/exe").string();
  try {
    if (args.size() == 3 && args[0] == "--case") return run_case(config_of(args[1]), std::stoll(args[2]));
    if (args.size() == 3 && args[0] == "--profile") {
      int rc = run_profile(config_of(args[1]), std::stoll(args[2]));
      fs::remove(twin_script());
      return rc;
    }
    int rounds = 2;
    if (args.size() == 2 && args[0] == "--rounds") rounds = std::max(1, std::stoi(args[1]));
    else if (!args.empty()) {
      std::fprintf(stderr, "usage: bench_train [--threads N] [--rounds N | --profile <model> <batch>]\n");
      return 2;
    }
    std::printf("OMP_NUM_THREADS=%s OMP_WAIT_POLICY=%s, LibTorch %s\n", std::getenv("OMP_NUM_THREADS"),
                std::getenv("OMP_WAIT_POLICY"), TORCH_VERSION);
    int rc = run_comparison(self, rounds);
    fs::remove(twin_script());
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return 1;
  }
}
