// bench_train: training steps/s of the model plugins against the same networks written in
// PyTorch from Python, in one run, with 2 compute threads on both sides. The Python side runs in
// the variants its torch has: eager (foreach AdamW), fused AdamW, torch.compile in its default
// and reduce-overhead modes (torch >= 2.4), with the interpreter whose torch matches this build's
// LibTorch (WM_BENCH_PYTHON, chosen by CMake; --python changes it; the twin refuses a torch of
// another major.minor unless --any-torch).
// A step is what host/procedures/train.cpp does per step: the plugin's loss(), loss.item(),
// backward, clip_grad_norm (1.0), wm::train::AdamW, zero_grad. Input: a fixed random clip batch.
// Each measurement runs in a fresh process (this binary with --case, or the Python twin), so the
// peak memory of one configuration is not hidden by memory another one left in the heap; the
// sides alternate their order, each keeps its best median (other work on a shared machine only
// adds time).
// Run: build/bench/train/bench_train [--threads N] [--rounds N] [--python PATH] [--variants a,b]
//      build/bench/train/bench_train --profile <model> <batch> [variant]   (ops by self time)
// OpenMP threads spin while they wait; on a shared 2-core machine that ruins timings, so the
// bench re-executes itself with OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE (Python inherits them).
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "api.h"
#include "wm/model.h"
#include "engine/adamw.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr int kThreads = 2;  // the default; --threads N changes it
// the twin's variants, in table order (pytorch_twin.py VARIANTS says what each one is)
const std::vector<std::string> kVariants = {"eager", "fused", "compile", "compile-ro"};

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

struct TempDir {  // a folder removed, with what it holds, when the scope ends
  fs::path path;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

std::string quoted(const std::string& text) { return "'" + text + "'"; }

// the last `count` lines of text, without its final newlines
std::string last_lines(const std::string& text, int count) {
  size_t end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  size_t begin = 0, search = end;
  for (int i = 0; i < count; ++i) {
    size_t newline = text.rfind('\n', search);
    if (newline == std::string::npos) {
      begin = 0;
      break;
    }
    begin = newline + 1;
    if (newline == 0) break;
    search = newline - 1;
  }
  return text.substr(begin, end + 1 - begin);
}

std::string twin_arguments(const Config& config, int64_t batch) {
  return std::string(config.model) + " " + quoted(config.params) + " " + std::to_string(batch) + " " +
         std::to_string(config.frames) + " " + std::to_string(config.size);
}

//---- the Python twin ----

// pytorch_twin.py run by one interpreter: the script and the twin's stderr live in temporary
// files; the twin checks its torch against this LibTorch (or "any", if asked) on every call
class Twin {
 public:
  Twin(std::string python, bool any_torch);
  ~Twin();
  // what `<python> pytorch_twin.py <arguments>` printed; a failure reports the end of its stderr
  std::string run(const std::string& arguments) const;

 private:
  std::string python_, libtorch_;
  fs::path script_, log_, compile_cache_;
};

Twin::Twin(std::string python, bool any_torch)
    : python_(std::move(python)), libtorch_(any_torch ? "any" : TORCH_VERSION) {
  auto stem = fs::temp_directory_path() / ("wm_bench_train_" + std::to_string(getpid()));
  script_ = stem.string() + ".py";
  log_ = stem.string() + ".log";
  std::ofstream(script_) << kPyTorchTwin;
  // a torch.compile cache of this run's own, so the first round compiles cold and the compile
  // times mean the same on every run; later rounds hit it (a cache the caller set is kept)
  if (!std::getenv("TORCHINDUCTOR_CACHE_DIR")) {
    compile_cache_ = stem.string() + "_inductor";
    setenv("TORCHINDUCTOR_CACHE_DIR", compile_cache_.c_str(), 1);
  }
}

Twin::~Twin() {
  std::error_code ignored;
  fs::remove(script_, ignored);
  fs::remove(log_, ignored);
  if (!compile_cache_.empty()) fs::remove_all(compile_cache_, ignored);
}

std::string Twin::run(const std::string& arguments) const {
  std::string command = quoted(python_) + " " + script_.string() + " " + arguments +
                        " --libtorch " + libtorch_ + " 2> " + log_.string();
  try {
    return output_of(command);
  } catch (const std::runtime_error&) {
    std::stringstream log;
    log << std::ifstream(log_).rdbuf();
    throw std::runtime_error("the Python twin failed: " + python_ + " pytorch_twin.py " +
                             arguments + "\n" + last_lines(log.str(), 12));
  }
}

// what the twin runs: its interpreter, torch, attention and the variants this torch lacks, from
// the lines "python P", "torch V", "attention A", "variant NAME", "unavailable NAME WHY"
struct TwinInfo {
  std::string python, torch, torch_minor, attention;  // torch_minor: "2.15"
  std::map<std::string, std::string> unavailable;     // variant -> why
};

TwinInfo twin_info(const Twin& twin) {
  TwinInfo info;
  std::istringstream lines(twin.run("info"));
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string key, value;
    std::getline(words >> key >> std::ws, value);
    if (key == "python")
      info.python = value;
    else if (key == "torch")
      info.torch = value;
    else if (key == "attention")
      info.attention = value;
    else if (key == "unavailable")
      info.unavailable[value.substr(0, value.find(' '))] = value.substr(value.find(' ') + 1);
  }
  info.torch_minor = info.torch.substr(0, info.torch.find('.', info.torch.find('.') + 1));
  return info;
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
  double steps_per_s = 0, peak_mb = 0, compile_s = 0;
  // empty when measured; else "unavailable <why>", "failed <first line of the error>" or "not run"
  std::string status;
};

// the last line a case printed: "params N steps_per_s X peak_mb X steps N [compile_s X]", or the
// twin's "unavailable ..." / "failed ..."
Measurement parse_measurement(const std::string& output) {
  std::string line = last_lines(output, 1);
  Measurement m;
  if (line.rfind("failed", 0) == 0 || line.rfind("unavailable", 0) == 0) {
    m.status = line;
    return m;
  }
  std::istringstream in(line);
  std::string key;
  while (in >> key) {
    if (key == "params") in >> m.params;
    else if (key == "steps_per_s") in >> m.steps_per_s;
    else if (key == "peak_mb") in >> m.peak_mb;
    else if (key == "steps") in >> m.steps_per_run;
    else if (key == "compile_s") in >> m.compile_s;
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

Measurement python_case(const Twin& twin, const std::string& variant, const Config& config,
                        int64_t batch) {
  try {
    return parse_measurement(twin.run("case " + variant + " " + twin_arguments(config, batch)));
  } catch (const std::runtime_error& e) {
    // the twin reports a compiler's exceptions itself; one that kills the interpreter (a signal,
    // memory) fails its cell too, not the whole bench
    if (variant.rfind("compile", 0) != 0) throw;
    Measurement m;
    m.status = "failed " + last_lines(e.what(), 1);
    return m;
  }
}

// keeps the faster of two measurements, the larger peak and the longer (colder) compile; a
// failure counts only while no round has measured
void keep_best(Measurement& best, const Measurement& m) {
  if (!m.status.empty()) {
    if (best.steps_per_s == 0) best.status = m.status;
    return;
  }
  best.status.clear();
  if (m.steps_per_s > best.steps_per_s) best.steps_per_s = m.steps_per_s, best.steps_per_run = m.steps_per_run;
  best.peak_mb = std::max(best.peak_mb, m.peak_mb);
  best.compile_s = std::max(best.compile_s, m.compile_s);
  best.params = m.params;
}

// one line of the table: the C++ side and every variant of the Python side
struct Row {
  const Config* config;
  int64_t batch;
  Measurement cpp;
  std::map<std::string, Measurement> python;  // by variant
};

Row measure_row(const std::string& self, const Twin& twin, const TwinInfo& info,
                const Config& config, int64_t batch, const std::vector<std::string>& variants,
                int rounds) {
  Row row{&config, batch, {}, {}};
  std::vector<std::string> sides{"C++"};
  for (const auto& variant : kVariants) {
    if (info.unavailable.count(variant))
      row.python[variant].status = "unavailable";
    else if (std::find(variants.begin(), variants.end(), variant) == variants.end())
      row.python[variant].status = "not run";
    else
      sides.push_back(variant);
  }
  for (int round = 0; round < rounds; ++round) {
    // alternate the order, so no side always gets the quieter moment
    auto order = sides;
    if (round % 2 == 1) std::reverse(order.begin(), order.end());
    for (const auto& side : order) {
      if (side == "C++")
        keep_best(row.cpp, cpp_case(self, config, batch));
      else
        keep_best(row.python[side], python_case(twin, side, config, batch));
    }
  }
  return row;
}

// what a cell shows for a variant without a measurement: "n/a (1.13)", "failed" or "-" (not
// asked for); empty when there is a measurement
std::string missing(const Measurement& m, const TwinInfo& info) {
  if (m.status.rfind("unavailable", 0) == 0) return "n/a (" + info.torch_minor + ")";
  if (m.status.rfind("failed", 0) == 0) return "failed";
  return m.status.empty() ? "" : "-";
}

// "steps/s ratio" of one variant, 17 characters wide
std::string speed_cell(const Measurement& m, double cpp_steps_per_s, const TwinInfo& info) {
  char text[64];
  if (!m.status.empty())
    std::snprintf(text, sizeof text, "%17s", missing(m, info).c_str());
  else
    std::snprintf(text, sizeof text, "%10.2f %5.2fx", m.steps_per_s,
                  cpp_steps_per_s / m.steps_per_s);
  return text;
}

std::string number_cell(const Measurement& m, double value, int width, const TwinInfo& info) {
  char text[64];
  if (!m.status.empty())
    std::snprintf(text, sizeof text, "%*s", width, missing(m, info).c_str());
  else
    std::snprintf(text, sizeof text, "%*.1f", width, value);
  return text;
}

// the parameter count, or the mismatch with each Python variant that differs
std::string params_cell(const Row& row, bool& match) {
  std::string text = std::to_string(row.cpp.params);
  for (const auto& [variant, m] : row.python) {
    if (!m.status.empty() || m.params == row.cpp.params) continue;
    match = false;
    text += " != " + std::to_string(m.params) + " (" + variant + ")";
  }
  return text;
}

void print_header(const TwinInfo& info) {
  // the same choices as sdk/nn/src/transformer.cpp and host/engine/adamw.cpp
  std::printf(
      "C++: LibTorch %s, attention %s, AdamW %s\n", TORCH_VERSION,
      TORCH_VERSION_MAJOR >= 2 ? "scaled_dot_product_attention" : "softmax(q k^T / sqrt d) v",
      wm::train::AdamW::fused_available() ? "fused (_fused_adamw_)" : "multi-tensor (_foreach_)");
  std::printf("Python: %s, torch %s, attention %s\n", info.python.c_str(), info.torch.c_str(),
              info.attention.c_str());
  std::printf("threads %d each side; step = loss + item + backward + clip_grad_norm + AdamW + zero_grad\n",
              at::get_num_threads());
}

void print_variants(const TwinInfo& info) {
  std::printf(
      "ratio = C++ steps/s / variant steps/s (> 1: C++ faster). eager: AdamW(foreach=True); fused: "
      "AdamW(fused=True);\ncompile: torch.compile(net) + fused AdamW; compile-ro: "
      "mode=\"reduce-overhead\" (no CUDA graphs on CPU)\n");
  for (const auto& variant : kVariants)
    if (info.unavailable.count(variant))
      std::printf("n/a (%s) %s: %s\n", info.torch_minor.c_str(), variant.c_str(),
                  info.unavailable.at(variant).c_str());
  std::printf("\n");
}

// the second table (peak memory, compile time, parameters) and the first line of each failure;
// 1 when a Python variant's parameters differ from the plugin's
int print_details(const std::vector<Row>& rows, const TwinInfo& info) {
  std::printf("peak = VmHWM during training - RSS with model and batch built "
              "(optimizer state, grads, activations)\n");
  std::printf("compile s = a compiled variant's first step, not timed above "
              "(the first round compiles cold)\n");
  std::printf("%-14s %5s %12s %14s %10s %13s %10s\n", "model", "batch", "C++ peak MB",
              "eager peak MB", "compile s", "compile-ro s", "params");
  bool match = true;
  for (const auto& row : rows) {
    const auto &eager = row.python.at("eager"), &compile = row.python.at("compile"),
               &ro = row.python.at("compile-ro");
    std::printf("%-14s %5lld %12.1f %s %s %s %10s\n", row.config->model,
                static_cast<long long>(row.batch), row.cpp.peak_mb,
                number_cell(eager, eager.peak_mb, 14, info).c_str(),
                number_cell(compile, compile.compile_s, 10, info).c_str(),
                number_cell(ro, ro.compile_s, 13, info).c_str(), params_cell(row, match).c_str());
  }
  for (const auto& row : rows)
    for (const auto& [variant, m] : row.python)
      if (m.status.rfind("failed", 0) == 0)
        std::printf("%s, %s batch %lld: %s\n", variant.c_str(), row.config->model,
                    static_cast<long long>(row.batch), m.status.c_str());
  std::printf("\nparams: %s\n",
              match ? "equal on both sides" : "MISMATCH, the twin differs from the plugin");
  return match ? 0 : 1;
}

int run_comparison(const std::string& self, const Twin& twin,
                   const std::vector<std::string>& variants, int rounds) {
  TwinInfo info = twin_info(twin);
  print_header(info);
  std::printf("per cell: median of 5 timed runs after 3 warm-up steps (and after compiling), "
              "fresh process, best of %d rounds\n\n",
              rounds);
  std::printf("training steps/s, and C++ steps/s / Python steps/s\n");
  std::printf("%-14s %5s %8s", "model", "batch", "C++");
  for (const auto& variant : kVariants) std::printf(" %10s %6s", variant.c_str(), "ratio");
  std::printf("\n");
  std::fflush(stdout);
  std::vector<Row> rows;
  for (const auto& config : kConfigs) {
    for (int64_t batch : kBatches) {
      Row row = measure_row(self, twin, info, config, batch, variants, rounds);
      std::printf("%-14s %5lld %8.2f", config.model, static_cast<long long>(batch),
                  row.cpp.steps_per_s);
      for (const auto& variant : kVariants)
        std::printf(" %s", speed_cell(row.python[variant], row.cpp.steps_per_s, info).c_str());
      std::printf("\n");
      std::fflush(stdout);
      rows.push_back(std::move(row));
    }
  }
  std::printf("\n");
  print_variants(info);
  return print_details(rows, info);
}

// the median of each phase, in ms
std::array<double, 3> median_ms(const std::vector<std::array<double, 3>>& phases) {
  std::array<double, 3> out{};
  for (size_t k = 0; k < 3; ++k) {
    std::vector<double> values;
    for (const auto& p : phases) values.push_back(p[k]);
    std::sort(values.begin(), values.end());
    out[k] = 1e3 * values[values.size() / 2];
  }
  return out;
}

void print_phases(const std::array<double, 3>& cpp_ms, const std::array<double, 3>& python_ms) {
  std::printf("  %-36s %10s %10s %9s\n", "phase", "C++ ms", "Python ms", "C++-Py ms");
  const char* names[3] = {"loss() + item (forward)", "backward",
                          "clip_grad_norm + AdamW + zero_grad"};
  double cpp_total = 0, python_total = 0;
  for (int k = 0; k < 3; ++k) {
    std::printf("  %-36s %10.2f %10.2f %+9.2f\n", names[k], cpp_ms[k], python_ms[k],
                cpp_ms[k] - python_ms[k]);
    cpp_total += cpp_ms[k], python_total += python_ms[k];
  }
  std::printf("  %-36s %10.2f %10.2f %+9.2f\n\n", "step", cpp_total, python_total,
              cpp_total - python_total);
}

// --profile: the same steps under the legacy autograd profiler on both sides, ops by self time;
// the Python side runs one variant (a compiled one compiles in its warm-up)
int run_profile(const Twin& twin, const Config& config, int64_t batch_size,
                const std::string& variant) {
  const int steps = 20;
  TwinInfo info = twin_info(twin);
  if (info.unavailable.count(variant))
    throw std::runtime_error("Python " + variant +
                             " is not available: " + info.unavailable.at(variant));
  TempDir traces{fs::temp_directory_path() /
                 ("wm_bench_train_profile_" + std::to_string(getpid()))};
  const fs::path& dir = traces.path;
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
  auto start = Clock::now();
  {
    torch::autograd::profiler::RecordProfile guard((dir / "cpp.json").string());
    for (int i = 0; i < steps; ++i) step();
  }
  double cpp_ms = 1e3 * std::chrono::duration<double>(Clock::now() - start).count() / steps;
  std::string twin_output =
      twin.run("profile " + variant + " " + twin_arguments(config, batch_size) + " " +
               (dir / "python.json").string() + " " + std::to_string(steps));
  std::istringstream twin_phases(last_lines(twin_output, 1));
  std::string word;
  std::array<double, 3> python_ms{};
  twin_phases >> word >> python_ms[0] >> python_ms[1] >> python_ms[2];
  if (word != "phases")
    throw std::runtime_error("Python " + variant + ": " + last_lines(twin_output, 1));
  print_header(info);
  std::printf("\n%s, batch %lld: wall-clock phases, median of %d steps, ms (Python: %s)\n",
              config.model, static_cast<long long>(batch_size), steps, variant.c_str());
  print_phases(median_ms(phases), python_ms);
  std::printf("%s, batch %lld: ops by self time, mean over %d profiled steps (C++ step %.1f ms with profiler)\n",
              config.model, static_cast<long long>(batch_size), steps, cpp_ms);
  std::printf("%s", twin.run("aggregate " + (dir / "cpp.json").string() + " " +
                             (dir / "python.json").string() + " " + std::to_string(steps))
                        .c_str());
  return 0;
}

//---- the command line ----

constexpr const char* kUsage =
    "usage: bench_train [--threads N] [--python PATH] [--any-torch]\n"
    "                   [--rounds N] [--variants eager,fused,compile,compile-ro]\n"
    "                   | --profile <model> <batch> [variant]\n";

struct Options {
  std::string threads;                   // empty: OMP_NUM_THREADS or 2
  std::string python = WM_BENCH_PYTHON;  // the twin's interpreter, chosen by CMake
  bool any_torch = false;                // compare with a torch of another major.minor
  int rounds = 2;
  std::vector<std::string> variants = kVariants;
  std::vector<std::string> task;  // "--case" or "--profile" with its model, batch (and variant)
};

std::vector<std::string> split_variants(const std::string& list) {
  std::vector<std::string> variants;
  std::istringstream in(list);
  for (std::string name; std::getline(in, name, ',');) {
    if (std::find(kVariants.begin(), kVariants.end(), name) == kVariants.end())
      throw std::invalid_argument("no variant '" + name + "' (eager, fused, compile, compile-ro)");
    variants.push_back(name);
  }
  return variants;
}

Options parse_options(const std::vector<std::string>& args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    bool has_value = i + 1 < args.size();
    if (arg == "--threads" && has_value)
      o.threads = args[++i];
    else if (arg == "--python" && has_value)
      o.python = args[++i];
    else if (arg == "--any-torch")
      o.any_torch = true;
    else if (arg == "--rounds" && has_value)
      o.rounds = std::max(1, std::stoi(args[++i]));
    else if (arg == "--variants" && has_value)
      o.variants = split_variants(args[++i]);
    else if ((arg == "--case" || arg == "--profile") && i + 2 < args.size()) {
      o.task = {arg, args[i + 1], args[i + 2]};
      i += 2;
      if (arg == "--profile" && i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0)
        o.task.push_back(args[++i]);
    } else {
      throw std::invalid_argument("unknown or incomplete option '" + arg + "'");
    }
  }
  if (o.task.size() == 4) split_variants(o.task[3]);  // checks the name
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train: %s\n%s", e.what(), kUsage);
    return 2;
  }
  // --threads N (default 2): every measurement is a fresh process, which inherits it
  if (!options.threads.empty()) setenv("OMP_NUM_THREADS", options.threads.c_str(), 1);
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
    const auto& task = options.task;
    if (!task.empty() && task[0] == "--case")
      return run_case(config_of(task[1]), std::stoll(task[2]));
    Twin twin(options.python, options.any_torch);
    if (!task.empty())
      return run_profile(twin, config_of(task[1]), std::stoll(task[2]),
                         task.size() == 4 ? task[3] : "eager");
    std::printf("OMP_NUM_THREADS=%s OMP_WAIT_POLICY=%s\n", std::getenv("OMP_NUM_THREADS"),
                std::getenv("OMP_WAIT_POLICY"));
    return run_comparison(self, twin, options.variants, options.rounds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return 1;
  }
}
