// bench_env: the metaworld env against raw MuJoCo on the same model in the same run.
//   1. env steps/s per core: the plugin through wm::Env (tensors in and out) vs mj_step x 5
//   2. vectorised throughput: wm::sim::VectorEnv on 1 and 2 threads
//   3. render fps at 64, 128, 224 px with OSMesa and with EGL, each in a child process
//   4. expert success over N seeds per task (a markdown table)
//   5. contact share: random actions vs babbling from each spawn mode
// Usage: bench_env [--seeds 50] [--only steps,vector,render,experts,babbling]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>

#include "babbling.h"
#include "expert.h"
#include "api.h"
#include "simulation.h"
#include "wm/env.h"
#include "wm/sim/vector_env.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace wm::metaworld;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::shared_ptr<wm::Env> make_env(const std::string& params_yaml) {
  static wm::Host host({WM_BENCH_PLUGIN_DIR});
  return host.make<wm::Env>("metaworld", params_yaml);
}

std::vector<Action> random_actions(int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(-1, 1);
  std::vector<Action> actions(count);
  for (auto& action : actions)
    for (double& value : action) value = uniform(rng);
  return actions;
}

//---- 1. env vs raw physics ----

void bench_steps() {
  const int steps = 2000, rounds = 3;
  std::printf("## env steps/s per core vs raw mj_step x %d (same model, same random actions; best of %d)\n\n",
              kFrameSkip, rounds);
  std::printf("| task | raw mj_step x5 /s | env (wm::Env) steps/s | env overhead |\n|---|---:|---:|---:|\n");
  for (const std::string task : {"reach", "pick-place", "door-open", "window-open", "basketball"}) {
    auto actions = random_actions(steps, 1);
    // raw: the same scene, the same mocap and finger commands, nothing else
    Simulation sim(find_task(task));
    auto env = make_env("{task: " + task + ", max_episode_steps: 1000000}");
    std::vector<at::Tensor> tensors;
    for (const auto& a : actions) tensors.push_back(at::tensor({(float)a[0], (float)a[1], (float)a[2], (float)a[3]}));
    double raw_best = 1e9, env_best = 1e9;
    for (int round = 0; round < rounds; ++round) {
      sim.reset(0);
      mjModel* model = const_cast<mjModel*>(sim.model());
      mjData* data = const_cast<mjData*>(sim.data());
      int mocap = 0;  // the hand's mocap body comes first in the scene
      auto start = Clock::now();
      for (const auto& a : actions) {
        for (int axis = 0; axis < 3; ++axis)
          data->mocap_pos[3 * mocap + axis] = std::clamp(
              data->mocap_pos[3 * mocap + axis] + a[axis] * kActionScale, kHandLow[axis], kHandHigh[axis]);
        data->ctrl[0] = data->ctrl[1] = a[3];
        for (int i = 0; i < kFrameSkip; ++i) mj_step(model, data);
      }
      raw_best = std::min(raw_best, seconds_since(start));
      env->reset(0);
      start = Clock::now();
      for (const auto& action : tensors) env->step(action);
      env_best = std::min(env_best, seconds_since(start));
    }
    std::printf("| %s | %.0f | %.0f | %+.1f%% |\n", task.c_str(), steps / raw_best, steps / env_best,
                100.0 * (env_best / raw_best - 1));
    std::fflush(stdout);
  }
  std::printf("\n");
}

//---- 2. vector env ----

void bench_vector() {
  const int envs = 8, steps = 300;
  std::printf("## wm::sim::VectorEnv, %d pick-place envs, %d steps each (random actions)\n\n", envs, steps);
  std::printf("| threads | env steps/s | speed-up |\n|---:|---:|---:|\n");
  double single = 0;
  for (int threads : {1, 2}) {
    std::vector<std::shared_ptr<wm::Env>> list;
    for (int i = 0; i < envs; ++i) list.push_back(make_env("{task: pick-place, max_episode_steps: 100000}"));
    wm::sim::VectorEnv vector(list, threads);
    vector.reset(std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7});
    at::manual_seed(0);
    auto actions = at::rand({steps, envs, 4}) * 2 - 1;
    auto start = Clock::now();
    for (int step = 0; step < steps; ++step) vector.step(actions[step]);
    double rate = envs * steps / seconds_since(start);
    if (threads == 1) single = rate;
    std::printf("| %d | %.0f | %.2fx |\n", threads, rate, rate / single);
    std::fflush(stdout);
  }
  std::printf("\n");
}

//---- 3. rendering ----

const int kRenderSizes[] = {64, 128, 224};

// in a child process (MuJoCo binds one GL backend per process): "<size> <steps/s>" per size
void render_child(const std::string& gl) {
  const int steps = 200;
  for (int size : kRenderSizes) {
    auto env = make_env("{task: pick-place, camera: corner, gl: " + gl + ", width: " + std::to_string(size) +
                        ", height: " + std::to_string(size) + ", max_episode_steps: 100000}");
    env->reset(0);
    auto start = Clock::now();
    for (int step = 0; step < steps; ++step) env->step(at::tensor({0.5f, 0.2f, -0.2f, 1.f}));
    std::printf("%d %.2f\n", size, steps / seconds_since(start));
    std::fflush(stdout);
  }
}

// steps/s per size from a child rendering with `gl`; empty if that backend cannot render here
std::vector<double> render_rates(const std::string& gl) {
  std::vector<double> rates;
  char self[4096] = "";
  if (readlink("/proc/self/exe", self, sizeof self - 1) < 0) return rates;  // popen's shell has its own
  FILE* child = popen(("'" + std::string(self) + "' --render-child " + gl + " 2>/dev/null").c_str(), "r");
  int size;
  double rate;
  while (child && std::fscanf(child, "%d %lf", &size, &rate) == 2) rates.push_back(rate);
  if (child) pclose(child);
  return rates;
}

void bench_render() {
  std::printf("## render fps (pick-place, corner camera, step + render; no shadows, no MSAA)\n\n");
  auto plain = make_env("{task: pick-place, max_episode_steps: 100000}");
  plain->reset(0);
  auto start = Clock::now();
  for (int step = 0; step < 600; ++step) plain->step(at::zeros({4}));
  double state_rate = 600 / seconds_since(start);
  // `gl: egl` takes a GPU when there is one, else Mesa's software device (llvmpipe, like OSMesa)
  auto osmesa = render_rates("osmesa"), egl = render_rates("egl");
  std::printf("| size | OSMesa steps/s | EGL steps/s | EGL / OSMesa | state-only steps/s |\n|---:|---:|---:|---:|---:|\n");
  for (size_t i = 0; i < std::size(kRenderSizes); ++i) {
    auto cell = [&](const std::vector<double>& rates) {
      return i < rates.size() ? std::to_string(static_cast<int>(rates[i] + 0.5)) : std::string("n/a");
    };
    std::string ratio = i < osmesa.size() && i < egl.size() ? std::to_string(egl[i] / osmesa[i]).substr(0, 4) + "x" : "n/a";
    std::printf("| %d | %s | %s | %s | %.0f |\n", kRenderSizes[i], cell(osmesa).c_str(), cell(egl).c_str(),
                ratio.c_str(), state_rate);
  }
  std::printf("\nn/a: that GL library is missing (apt install libosmesa6 / libegl1 libegl-mesa0).\n\n");
}

//---- 4. experts ----

// success ever within 500 steps over `seeds` seeds; with noise, Gaussian action noise (sigma)
int expert_successes(const Task& task, int seeds, double noise, double* mean_steps) {
  Simulation sim(task);
  std::mt19937_64 rng(7);
  std::normal_distribution<double> gaussian(0.0, noise > 0 ? noise : 1.0);
  int successes = 0;
  double steps_sum = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    sim.reset(1000 + seed);
    for (int step = 0; step < 500; ++step) {
      Action action = expert_action(task, sim.observation());
      if (noise > 0)
        for (double& value : action) value += gaussian(rng);
      if (sim.step(action).success) {
        ++successes;
        steps_sum += step + 1;
        break;
      }
    }
  }
  *mean_steps = successes ? steps_sum / successes : 0.0;
  return successes;
}

void bench_experts(int seeds) {
  std::printf("## expert success over %d seeds per task (success ever within 500 steps)\n\n", seeds);
  std::printf("| task | success | mean steps to success | with N(0, 0.2) action noise |\n|---|---:|---:|---:|\n");
  const auto& all = tasks();
  std::vector<int> clean(all.size()), noisy(all.size());
  std::vector<double> steps(all.size());
  // every core takes (task, noise) jobs until none are left
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t job = next++; job < 2 * all.size(); job = next++) {
      size_t t = job / 2;
      double ignored;
      if (job % 2 == 0) clean[t] = expert_successes(all[t], seeds, 0.0, &steps[t]);
      else noisy[t] = expert_successes(all[t], seeds, 0.2, &ignored);
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::max(1u, std::thread::hardware_concurrency()); ++i) threads.emplace_back(worker);
  for (auto& thread : threads) thread.join();
  int solved = 0, solved_noisy = 0;
  for (size_t t = 0; t < all.size(); ++t) {
    std::printf("| %s | %d/%d (%.0f%%) | %.0f | %.0f%% |\n", all[t].name, clean[t], seeds, 100.0 * clean[t] / seeds,
                steps[t], 100.0 * noisy[t] / seeds);
    solved += clean[t];
    solved_noisy += noisy[t];
  }
  double total = static_cast<double>(seeds * all.size());
  std::printf("| **all %zu tasks** | %.1f%% | | %.1f%% |\n\n", all.size(), 100.0 * solved / total,
              100.0 * solved_noisy / total);
}

//---- 5. babbling ----

void bench_babbling() {
  const int episodes = 10, steps = 150;
  std::printf("## share of steps with hand-object contact (%d episodes x %d steps per cell)\n\n", episodes, steps);
  std::printf("| task | random actions | babble, spawn task | babble, spawn drop | babble, spawn strike | babble, spawn push |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (const std::string task : {"pick-place", "push", "drawer-open", "door-open", "lever-pull"}) {
    std::printf("| %s", task.c_str());
    for (const std::string mode : {"random", "task", "drop", "strike", "push"}) {
      std::string spawn = mode == "random" ? "task" : mode;
      auto env = make_env("{task: " + task + ", spawn: " + spawn + ", max_episode_steps: 100000}");
      auto& policy = dynamic_cast<wm::ScriptedPolicy&>(*env);
      int contacts = 0;
      for (int episode = 0; episode < episodes; ++episode) {
        env->reset(episode);
        for (int step = 0; step < steps; ++step)
          contacts += env->step(policy.act(mode == "random" ? "random" : "babble")).info.at("contact") > 0.5;
      }
      std::printf(" | %.1f%%", 100.0 * contacts / (episodes * steps));
      std::fflush(stdout);
    }
    std::printf(" |\n");
  }
  std::printf("\n");

  // one primitive at a time from the task's spawn: which ones touch the object
  struct Only : wm::PrimitiveChooser {
    size_t primitive = 0;
    size_t choose(const std::vector<std::string>&, const wm::TensorMap&) override { return primitive; }
  };
  const auto& names = Babbler::primitives();
  std::printf("## contact share per primitive (spawn task, %d episodes x %d steps, that primitive only)\n\n| task |",
              episodes, steps);
  for (const auto& name : names) std::printf(" %s |", name.c_str());
  std::printf("\n|---|");
  for (size_t i = 0; i < names.size(); ++i) std::printf("---:|");
  std::printf("\n");
  for (const std::string task : {"pick-place", "drawer-open", "door-open", "lever-pull"}) {
    std::printf("| %s", task.c_str());
    for (size_t primitive = 0; primitive < names.size(); ++primitive) {
      auto env = make_env("{task: " + task + ", max_episode_steps: 100000}");
      auto& policy = dynamic_cast<wm::ScriptedPolicy&>(*env);
      auto only = std::make_shared<Only>();
      only->primitive = primitive;
      policy.set_chooser(only);
      int contacts = 0;
      for (int episode = 0; episode < episodes; ++episode) {
        env->reset(episode);
        for (int step = 0; step < steps; ++step) contacts += env->step(policy.act("babble")).info.at("contact") > 0.5;
      }
      std::printf(" | %.1f%%", 100.0 * contacts / (episodes * steps));
      std::fflush(stdout);
    }
    std::printf(" |\n");
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  // OpenMP spin-waiting collapses throughput on a shared machine (see bench/metrics)
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    setenv("OMP_NUM_THREADS", "1", 0);
    execv("/proc/self/exe", argv);
  }
  if (argc == 3 && std::string(argv[1]) == "--render-child") {
    render_child(argv[2]);
    return 0;
  }
  int seeds = 50;
  std::string only = "steps,vector,render,experts,babbling";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--seeds") seeds = std::atoi(argv[i + 1]);
    else if (flag == "--only") only = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: bench_env [--seeds N] [--only steps,vector,render,experts,babbling]\n");
      return 2;
    }
  }
  at::set_num_threads(1);
  std::printf("# bench_env (MuJoCo %s, %u cores)\n\n", std::to_string(mj_version()).c_str(), std::thread::hardware_concurrency());
  auto wants = [&](const char* name) { return only.find(name) != std::string::npos; };
  if (wants("steps")) bench_steps();
  if (wants("vector")) bench_vector();
  if (wants("render")) bench_render();
  if (wants("experts")) bench_experts(seeds);
  if (wants("babbling")) bench_babbling();
  return 0;
}
