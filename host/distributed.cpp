#include "distributed.h"

#include <ATen/ATen.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <ATen/core/grad_mode.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <sstream>

#include "wm/error.h"
#include "wm/log.h"

// the only file that includes c10d (WM_HAVE_GLOO, WM_HAVE_NCCL: host/CMakeLists.txt found them)
#ifndef WM_HAVE_NCCL
#define WM_HAVE_NCCL 0
#endif
#define WM_HAVE_BACKEND (WM_HAVE_GLOO || WM_HAVE_NCCL)
#if WM_HAVE_BACKEND
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#endif
#if WM_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if WM_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace wm::dist {

//---- the environment ----

namespace {

const char* variable(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? value : nullptr;
}

int integer_variable(const char* name, int fallback, int lowest) {
  const char* text = variable(name);
  if (!text) return fallback;
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < lowest || value > 1 << 20)
    throw Error(std::string("environment variable ") + name + "='" + text +
                "' is not a whole number of at least " + std::to_string(lowest));
  return static_cast<int>(value);
}

}  // namespace

LaunchInfo launch_from_environment() {
  LaunchInfo info;
  if (variable("WORLD_SIZE") || variable("RANK")) {
    info.launcher = "torchrun";
    if (!variable("WORLD_SIZE") || !variable("RANK"))
      throw Error("RANK and WORLD_SIZE must be set together (torchrun and `wmhost launch` set both)");
    info.world = integer_variable("WORLD_SIZE", 1, 1);
    info.rank = integer_variable("RANK", 0, 0);
    info.local_rank = integer_variable("LOCAL_RANK", info.rank, 0);
    info.local_world = integer_variable("LOCAL_WORLD_SIZE", info.world, 1);
    const char* agent = variable("TORCHELASTIC_USE_AGENT_STORE");
    info.agent_store = agent && std::string(agent) == "True";
    info.restart_count = integer_variable("TORCHELASTIC_RESTART_COUNT", 0, 0);
  } else if (variable("SLURM_PROCID") && variable("SLURM_NTASKS")) {
    info.launcher = "slurm";
    info.world = integer_variable("SLURM_NTASKS", 1, 1);
    info.rank = integer_variable("SLURM_PROCID", 0, 0);
    info.local_rank = integer_variable("SLURM_LOCALID", 0, 0);
    // "4" or "4(x2)": the tasks on this node
    const char* per_node = variable("SLURM_NTASKS_PER_NODE");
    info.local_world = per_node ? std::max(1, std::atoi(per_node)) : info.world;
    if (info.world > 1 && (!variable("MASTER_ADDR") || !variable("MASTER_PORT")))
      throw Error(
          "Slurm started " + std::to_string(info.world) + " tasks, but MASTER_ADDR and MASTER_PORT "
          "are not set; add to the job script, before srun:\n"
          "  export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\n"
          "  export MASTER_PORT=29500");
  }
  if (info.rank >= info.world)
    throw Error("rank " + std::to_string(info.rank) + " is not below the world size " +
                std::to_string(info.world));
  if (info.world > 1) {
    const char* addr = variable("MASTER_ADDR");
    if (!addr || !variable("MASTER_PORT"))
      throw Error("WORLD_SIZE is " + std::to_string(info.world) +
                  ", but MASTER_ADDR or MASTER_PORT is not set; start the ranks with `wmhost "
                  "launch --nproc N -- run EXP.yaml` or torchrun, which set them");
    info.master_addr = addr;
    info.master_port = integer_variable("MASTER_PORT", 0, 1);
    if (info.master_port > 65535) throw Error("MASTER_PORT must be a TCP port (1-65535)");
  }
  return info;
}

std::string backends_built() {
  std::string built = WM_HAVE_GLOO ? "gloo" : "";
  if (WM_HAVE_NCCL) built += built.empty() ? "nccl" : ", nccl";
  return built.empty() ? "none" : built;
}

//---- the group ----

#if WM_HAVE_BACKEND
// the class both backends derive from: ProcessGroup in LibTorch 1.13, Backend in 2.x; the
// collectives used here have the same signatures in both
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif
struct Group::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend> group;
  // NCCL reduces CUDA tensors only: the host's small CPU values travel through this device
  std::optional<at::Device> device;
#if WM_HAVE_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
};
#else
struct Group::Impl {};
#endif

Group& Group::process() {
  static Group group;
  return group;
}

Group::~Group() { leave(); }

void Group::leave() {
#if WM_HAVE_NCCL
  // NCCL's communicators are torn down explicitly: left to the destructor, it can hang or warn
  // (pytorch/pytorch#119215)
  if (impl_ && impl_->nccl) impl_->nccl->shutdown(), impl_->nccl.reset();
#endif
  impl_.reset();
}

void Group::join(const LaunchInfo& launch, const Settings& settings, const std::string& device) {
  launch_ = launch;
  settings_ = settings;
  if (launch.world == 1) return;
  if (device == "cuda" && at::hasCUDA() && at::detail::getCUDAHooks().getNumGPUs() < launch.local_world) {
    int gpus = at::detail::getCUDAHooks().getNumGPUs();
    throw Error(std::to_string(gpus) + " GPUs for " + std::to_string(launch.local_world) +
                " local ranks on this machine: start one rank per GPU (--nproc " + std::to_string(gpus) +
                ", torchrun --nproc-per-node " + std::to_string(gpus) + ")");
  }
  // device: cuda means cuda:(LOCAL_RANK % GPUs): right with one visible GPU per task (srun
  // --gpus-per-task=1) and with all of them visible
  if (device == "cuda" && at::hasCUDA() && c10::impl::hasDeviceGuardImpl(at::kCUDA)) {
    auto index = static_cast<at::DeviceIndex>(launch.local_rank % at::detail::getCUDAHooks().getNumGPUs());
    c10::impl::getDeviceGuardImpl(at::kCUDA)->setDevice(at::Device(at::kCUDA, index));
  }
  std::string backend = settings.backend == "auto" ? (device == "cuda" ? "nccl" : "gloo") : settings.backend;
  if (backend == "nccl" && !WM_HAVE_NCCL)
    throw Error("distributed.backend nccl: this wmhost was built without NCCL (built backends: " +
                backends_built() + "; CMake said why); rebuild against a CUDA LibTorch with "
                "NCCL_INCLUDE_DIR set, or set distributed.backend: gloo");
  if (backend == "nccl" && device != "cuda")
    throw Error("distributed.backend nccl needs device: cuda (NCCL reduces GPU tensors); use "
                "distributed.backend: gloo or auto on the CPU");
  if (backend == "gloo" && !WM_HAVE_GLOO)
    throw Error("WORLD_SIZE is " + std::to_string(launch.world) + ", but this wmhost was built " +
                (WM_HAVE_NCCL ? "without Gloo (it has NCCL, for device: cuda)" : "without a distributed backend") +
                " (CMake said why: LibTorch without USE_C10D_GLOO, or no gloo/algorithm.h; on "
                "Debian apt install libgloo-dev and rebuild)");
#if WM_HAVE_BACKEND
  auto timeout = std::chrono::milliseconds(static_cast<int64_t>(settings.timeout_s * 1000));
  // the store as torch.distributed's _create_c10d_store makes it
  c10d::TCPStoreOptions options;
  options.port = static_cast<uint16_t>(launch.master_port);
  options.numWorkers = static_cast<size_t>(launch.world);
  options.timeout = timeout;
  options.multiTenant = true;
  options.isServer = !launch.agent_store && launch.rank == 0;
  auto tcp = c10::make_intrusive<c10d::TCPStore>(launch.master_addr, options);
  impl_ = std::make_unique<Impl>();
  impl_->store = tcp;
  if (launch.agent_store)
    impl_->store = c10::make_intrusive<c10d::PrefixStore>(
        "/worker/attempt_" + std::to_string(launch.restart_count), tcp);
#if WM_HAVE_NCCL
  if (backend == "nccl") {
    auto nccl = c10d::ProcessGroupNCCL::Options::create();
    nccl->timeout = timeout;
    impl_->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, launch.rank, launch.world, nccl);
    impl_->group = impl_->nccl;
    impl_->device = at::Device(at::kCUDA, c10::impl::getDeviceGuardImpl(at::kCUDA)->getDevice().index());
  }
#endif
#if WM_HAVE_GLOO
  if (backend == "gloo") {
    auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    gloo->devices.push_back(ifname && *ifname
                                ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                : c10d::ProcessGroupGloo::createDefaultDevice());
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, launch.rank, launch.world, gloo);
  }
#endif
  rank_ = launch.rank, world_ = launch.world;
#endif
}

#if WM_HAVE_BACKEND
namespace {
// runs `collective` on `tensor`, or on a copy on the backend's device when the tensor lives
// elsewhere (the host's CPU values under NCCL), copied back after
template <class Collective>
void on_device(const std::optional<at::Device>& device, at::Tensor& tensor, Collective collective) {
  if (!device || tensor.device() == *device) {
    std::vector<at::Tensor> tensors{tensor};
    collective(tensors)->wait();
    return;
  }
  std::vector<at::Tensor> tensors{tensor.to(*device)};
  collective(tensors)->wait();
  tensor.copy_(tensors[0]);
}

void reduce(Backend& group, const std::optional<at::Device>& device, at::Tensor& tensor, c10d::ReduceOp op) {
  c10d::AllreduceOptions options;
  options.reduceOp = op;
  on_device(device, tensor, [&](std::vector<at::Tensor>& t) { return group.allreduce(t, options); });
}
}  // namespace
#endif

void Group::sum([[maybe_unused]] at::Tensor& tensor) {
#if WM_HAVE_BACKEND
  if (active()) reduce(*impl_->group, impl_->device, tensor, c10d::ReduceOp::SUM);
#endif
}

void Group::min([[maybe_unused]] at::Tensor& tensor) {
#if WM_HAVE_BACKEND
  if (active()) reduce(*impl_->group, impl_->device, tensor, c10d::ReduceOp::MIN);
#endif
}

void Group::max([[maybe_unused]] at::Tensor& tensor) {
#if WM_HAVE_BACKEND
  if (active()) reduce(*impl_->group, impl_->device, tensor, c10d::ReduceOp::MAX);
#endif
}

bool Group::any(bool flag) {
  if (!active()) return flag;
  auto value = at::full({1}, flag ? 1.0 : 0.0, at::kDouble);
  max(value);
  return value.item<double>() > 0;
}

void Group::broadcast([[maybe_unused]] at::Tensor& tensor) {
#if WM_HAVE_BACKEND
  if (!active()) return;
  on_device(impl_->device, tensor, [&](std::vector<at::Tensor>& t) { return impl_->group->broadcast(t); });
#endif
}

void Group::sum_all([[maybe_unused]] std::vector<at::Tensor>& tensors) {
#if WM_HAVE_BACKEND
  if (!active()) return;
  std::vector<c10::intrusive_ptr<c10d::Work>> pending;
  for (auto& tensor : tensors) {
    std::vector<at::Tensor> one{tensor};
    pending.push_back(impl_->group->allreduce(one));
  }
  for (auto& work : pending) work->wait();
#endif
}

void Group::set([[maybe_unused]] const std::string& key, [[maybe_unused]] const std::string& value) {
#if WM_HAVE_BACKEND
  if (active()) impl_->store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
#endif
}

std::string Group::get(const std::string& key, std::chrono::milliseconds timeout) {
#if WM_HAVE_BACKEND
  if (!active()) throw Error("store key '" + key + "' asked for in a single process");
  // a week stands for "no timeout": a dead rank 0 ends the wait by closing the connection
  if (timeout.count() <= 0) timeout = std::chrono::hours(24 * 7);
  impl_->store->wait({key}, timeout);
  std::vector<uint8_t> bytes = impl_->store->get(key);
  return std::string(bytes.begin(), bytes.end());
#else
  (void)timeout;
  throw Error("store key '" + key + "' asked for in a build without a distributed backend");
#endif
}

std::string Group::first_line(const std::exception& e) {
  std::string text = e.what();
  return text.substr(0, text.find('\n'));
}

//---- gradients ----

GradientSync::GradientSync(Group& group, const std::vector<std::pair<std::string, at::Tensor>>& parameters)
    : group_(group) {
  if (!group_.active()) return;
  for (const auto& named : parameters) parameters_.push_back(named.second);
  // reverse order, as backward produces them; a bucket holds one dtype
  double cap = group_.settings().first_bucket_mb * 1024 * 1024;
  for (size_t k = parameters_.size(); k-- > 0;) {
    const at::Tensor& p = parameters_[k];
    double bytes = static_cast<double>(p.numel() * p.element_size());
    bool fits = !buckets_.empty() && buckets_.back().flat.scalar_type() == p.scalar_type();
    if (fits) {
      double used = static_cast<double>(buckets_.back().flat.numel() * p.element_size());
      fits = used + bytes <= cap;
    }
    if (!fits) {
      if (!buckets_.empty()) cap = group_.settings().bucket_mb * 1024 * 1024;
      buckets_.push_back({{}, at::empty({0}, p.options().requires_grad(false))});
    }
    Bucket& bucket = buckets_.back();
    bucket.members.push_back(k);
    bucket.flat = at::empty({bucket.flat.numel() + p.numel()}, bucket.flat.options());
  }
}

double GradientSync::run() {
  if (!group_.active()) return 0;
  auto start = std::chrono::steady_clock::now();
  at::NoGradGuard no_grad;
  double share = 1.0 / group_.world();
  std::vector<at::Tensor> flats;
  for (Bucket& bucket : buckets_) {
    int64_t offset = 0;
    for (size_t k : bucket.members) {
      const at::Tensor& p = parameters_[k];
      auto slot = bucket.flat.narrow(0, offset, p.numel());
      // a parameter this step left out (no gradient) counts as zeros, as DDP does
      if (p.grad().defined()) slot.copy_(p.grad().reshape({-1})).mul_(share);
      else slot.zero_();
      offset += p.numel();
    }
    flats.push_back(bucket.flat);
  }
  group_.sum_all(flats);
  for (Bucket& bucket : buckets_) {
    int64_t offset = 0;
    for (size_t k : bucket.members) {
      at::Tensor& p = parameters_[k];
      auto slot = bucket.flat.narrow(0, offset, p.numel()).view(p.sizes());
      if (p.grad().defined()) p.mutable_grad().copy_(slot);
      else p.mutable_grad() = slot.clone();
      offset += p.numel();
    }
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::string fingerprint(const std::vector<std::pair<std::string, at::Tensor>>& state) {
  std::ostringstream text;
  for (const auto& [name, tensor] : state) {
    text << name << " [";
    for (size_t d = 0; d < tensor.sizes().size(); ++d) text << (d ? ", " : "") << tensor.size(static_cast<int64_t>(d));
    text << "] " << tensor.dtype().name() << "\n";
  }
  return text.str();
}

}  // namespace wm::dist
