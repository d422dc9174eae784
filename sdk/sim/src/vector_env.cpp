#include "wm/sim/vector_env.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "wm/error.h"
#include "wm/env.h"

namespace wm::sim {

// Workers sleep until a job arrives, then take indices from a shared counter; the calling
// thread works too and waits for the stragglers.
struct VectorEnv::Pool {
  explicit Pool(int helpers) {
    for (int i = 0; i < helpers; ++i) workers.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (auto& worker : workers) worker.join();
  }

  void run(size_t n, const std::function<void(size_t)>& body) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      job = &body;
      count = n;
      next = 0;
      busy = workers.size();
      error = nullptr;
      ++generation;
    }
    wake.notify_all();
    drain();
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [this] { return busy == 0; });
    job = nullptr;
    if (error) std::rethrow_exception(error);
  }

  void drain() {
    for (size_t i = next++; i < count; i = next++) {
      try {
        (*job)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
      }
    }
  }

  void work() {
    uint64_t seen = 0;
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [&] { return stopping || generation != seen; });
        if (stopping) return;
        seen = generation;
      }
      drain();
      std::lock_guard<std::mutex> lock(mutex);
      if (--busy == 0) done.notify_all();
    }
  }

  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake, done;
  const std::function<void(size_t)>* job = nullptr;
  size_t count = 0, busy = 0;
  std::atomic<size_t> next{0};
  uint64_t generation = 0;
  bool stopping = false;
  std::exception_ptr error;
};

VectorEnv::VectorEnv(std::vector<std::shared_ptr<Env>> envs, int threads) : envs_(std::move(envs)) {
  if (envs_.empty()) throw Error("VectorEnv: needs at least one environment");
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min<int>(threads, static_cast<int>(envs_.size()));
  pool_ = std::make_unique<Pool>(threads - 1);
}

VectorEnv::~VectorEnv() = default;

int VectorEnv::threads() const { return static_cast<int>(pool_->workers.size()) + 1; }

void VectorEnv::parallel_for(size_t n, const std::function<void(size_t)>& body) { pool_->run(n, body); }

namespace {

TensorMap stack(const std::vector<TensorMap>& maps) {
  TensorMap stacked;
  for (const auto& entry : maps.front()) {
    std::vector<at::Tensor> parts;
    for (const auto& map : maps) parts.push_back(map.at(entry.first));
    stacked[entry.first] = at::stack(parts);
  }
  return stacked;
}

}  // namespace

TensorMap VectorEnv::reset(const std::vector<uint64_t>& seeds) {
  if (seeds.size() != envs_.size())
    throw Error("VectorEnv: reset needs " + std::to_string(envs_.size()) + " seeds, got " + std::to_string(seeds.size()));
  std::vector<TensorMap> observations(envs_.size());
  parallel_for(envs_.size(), [&](size_t i) { observations[i] = envs_[i]->reset(seeds[i]); });
  return stack(observations);
}

VectorEnv::Step VectorEnv::step(const at::Tensor& actions) {
  if (actions.dim() != 2 || actions.size(0) != static_cast<int64_t>(envs_.size()))
    throw Error("VectorEnv: actions must be [" + std::to_string(envs_.size()) + ", action_size], got " +
                describe_tensor(actions));
  std::vector<StepResult> results(envs_.size());
  parallel_for(envs_.size(), [&](size_t i) { results[i] = envs_[i]->step(actions[static_cast<int64_t>(i)]); });
  Step step;
  std::vector<TensorMap> observations;
  for (auto& result : results) {
    observations.push_back(std::move(result.observation));
    step.reward.push_back(result.reward);
    step.terminated.push_back(result.terminated);
    step.truncated.push_back(result.truncated);
    step.info.push_back(std::move(result.info));
  }
  step.observation = stack(observations);
  return step;
}

at::Tensor VectorEnv::act(const std::string& policy) {
  std::vector<at::Tensor> actions(envs_.size());
  parallel_for(envs_.size(), [&](size_t i) {
    auto* scripted = dynamic_cast<ScriptedPolicy*>(envs_[i].get());
    if (!scripted) throw Error("VectorEnv: this environment has no scripted policies");
    actions[i] = scripted->act(policy);
  });
  return at::stack(actions);
}

}  // namespace wm::sim
