// wmhost launch: N ranks of one command on this machine, with torchrun's variables (RANK,
// WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT). Rank 0's output goes
// through; the other ranks' lines are prefixed "[rank k]". Stop signals are forwarded. The first
// rank that fails ends the others: SIGTERM (and SIGCONT, for a stopped one), SIGKILL after 30 s.
#include "launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "options.h"
#include "wm/error.h"

namespace wm {
namespace {

std::atomic<int> forwarded_signal{0};
extern "C" void remember_signal(int number) { forwarded_signal = number; }

// a TCP port free on this machine now (the kernel's choice for port 0)
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0)
    throw Error(std::string("launch: no free TCP port on 127.0.0.1: ") + std::strerror(errno));
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string signal_text(int number) {
  return "signal " + std::to_string(number) + " (" + ::strsignal(number) + ")";
}

// one rank's process and, for ranks above 0, the pipes its output comes through
struct Rank {
  pid_t pid = -1;
  int out = -1, err = -1;
  std::string out_line, err_line;  // partial lines
  bool running = true;
};

// writes the complete lines of `chunk` with the rank's prefix; keeps the partial last one
void forward_lines(int rank, std::string& pending, const char* chunk, size_t size, std::ostream& to) {
  pending.append(chunk, size);
  for (size_t end; (end = pending.find('\n')) != std::string::npos; pending.erase(0, end + 1))
    to << "[rank " << rank << "] " << pending.substr(0, end + 1);
  to.flush();
}

pid_t start_rank(const std::vector<std::string>& command, int rank, int world, int port, Rank& slot) {
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (rank > 0 && (::pipe(out) != 0 || ::pipe(err) != 0))
    throw Error(std::string("launch: pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) throw Error(std::string("launch: fork: ") + std::strerror(errno));
  if (pid == 0) {
    // its own process group: a terminal's Ctrl-C reaches the launcher, which forwards it once
    ::setpgid(0, 0);
    if (rank > 0) {
      ::dup2(out[1], STDOUT_FILENO), ::dup2(err[1], STDERR_FILENO);
      ::close(out[0]), ::close(out[1]), ::close(err[0]), ::close(err[1]);
    }
    auto set = [](const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); };
    set("RANK", std::to_string(rank));
    set("LOCAL_RANK", std::to_string(rank));
    set("GROUP_RANK", "0");
    set("WORLD_SIZE", std::to_string(world));
    set("LOCAL_WORLD_SIZE", std::to_string(world));
    set("MASTER_ADDR", "127.0.0.1");
    set("MASTER_PORT", std::to_string(port));
    if (!std::getenv("OMP_NUM_THREADS"))
      set("OMP_NUM_THREADS", std::to_string(std::max(1u, std::thread::hardware_concurrency() / world)));
    std::vector<char*> argv;
    for (const auto& word : command) argv.push_back(const_cast<char*>(word.c_str()));
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    std::fprintf(stderr, "launch: cannot start wmhost: %s\n", std::strerror(errno));
    ::_exit(127);
  }
  if (rank > 0) {
    ::close(out[1]), ::close(err[1]);
    slot.out = out[0], slot.err = err[0];
  }
  return pid;
}

}  // namespace

int launch(const std::vector<std::string>& args) {
  int nproc = 0, port = 0;
  size_t i = 0;
  auto number = [&](const std::string& flag) {
    if (i + 1 >= args.size()) throw UsageError("launch: " + flag + " needs a number");
    try {
      size_t used = 0;
      int value = std::stoi(args[++i], &used);
      if (used != args[i].size()) throw std::invalid_argument("");
      return value;
    } catch (const std::exception&) {
      throw UsageError("launch: " + flag + " needs a whole number, got '" + args[i] + "'");
    }
  };
  for (; i < args.size() && args[i] != "--"; ++i) {
    if (args[i] == "--nproc") nproc = number("--nproc");
    else if (args[i] == "--port") port = number("--port");
    else throw UsageError("launch: unknown option '" + args[i] + "'; usage: wmhost launch --nproc N [--port P] -- run EXP.yaml ...");
  }
  if (nproc < 1 || nproc > 1024) throw UsageError("launch: --nproc N (1 to 1024) is required");
  if (port < 0 || port > 65535) throw UsageError("launch: --port must be a TCP port (1-65535)");
  if (i + 1 >= args.size())
    throw UsageError("launch: the wmhost command goes after `--`: wmhost launch --nproc 2 -- run EXP.yaml");
  std::vector<std::string> command{"wmhost"};
  command.insert(command.end(), args.begin() + static_cast<long>(i) + 1, args.end());
  if (port == 0) port = free_port();

  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  for (int number : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(number, &action, nullptr);

  std::vector<Rank> ranks(static_cast<size_t>(nproc));
  for (int k = 0; k < nproc; ++k) {
    ranks[static_cast<size_t>(k)].pid = start_rank(command, k, nproc, port, ranks[static_cast<size_t>(k)]);
    std::cerr << "launch: rank " << k << " is pid " << ranks[static_cast<size_t>(k)].pid << "\n";
  }
  std::cerr << "launch: " << nproc << " ranks, MASTER_ADDR=127.0.0.1 MASTER_PORT=" << port << "\n";

  int exit_code = 0, running = nproc, forwarded = 0;
  bool ending = false, killed = false;  // a rank failed or stopped: the rest are being ended
  auto ending_since = std::chrono::steady_clock::now();
  auto signal_all = [&](int number) {
    for (auto& rank : ranks)
      if (rank.running) ::kill(rank.pid, number);
  };
  while (running > 0 || std::any_of(ranks.begin(), ranks.end(), [](const Rank& r) { return r.out >= 0 || r.err >= 0; })) {
    // the ranks' output, in lines
    std::vector<pollfd> fds;
    std::vector<std::pair<size_t, bool>> owners;  // rank, is stderr
    for (size_t k = 1; k < ranks.size(); ++k)
      for (bool is_err : {false, true}) {
        int fd = is_err ? ranks[k].err : ranks[k].out;
        if (fd >= 0) fds.push_back({fd, POLLIN, 0}), owners.emplace_back(k, is_err);
      }
    if (!fds.empty()) ::poll(fds.data(), fds.size(), 100);
    else std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (size_t f = 0; f < fds.size(); ++f) {
      if (!(fds[f].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto [k, is_err] = owners[f];
      char chunk[4096];
      ssize_t n = ::read(fds[f].fd, chunk, sizeof chunk);
      std::string& pending = is_err ? ranks[k].err_line : ranks[k].out_line;
      if (n > 0) {
        forward_lines(static_cast<int>(k), pending, chunk, static_cast<size_t>(n), is_err ? std::cerr : std::cout);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (!pending.empty()) forward_lines(static_cast<int>(k), pending, "\n", 1, is_err ? std::cerr : std::cout);
      ::close(fds[f].fd);
      (is_err ? ranks[k].err : ranks[k].out) = -1;
    }
    // stop signals go to every rank, once each
    if (int number = forwarded_signal.exchange(0)) {
      std::cerr << "launch: " << signal_text(number) << "; passing it to the ranks\n";
      signal_all(number);
      if (++forwarded > 1) signal_all(SIGKILL);
      exit_code = exit_code ? exit_code : 3;
    }
    // ranks that ended; one ended by a signal goes first, since the ranks that lost contact with
    // it exit at about the same moment and would otherwise be named as the cause
    std::vector<std::pair<size_t, int>> ended;  // rank, wait status
    int raw = 0;
    for (pid_t pid; (pid = ::waitpid(-1, &raw, WNOHANG)) > 0;) {
      size_t k = 0;
      while (k < ranks.size() && ranks[k].pid != pid) ++k;
      if (k < ranks.size()) ended.emplace_back(k, raw);
    }
    std::stable_partition(ended.begin(), ended.end(), [](const auto& e) { return WIFSIGNALED(e.second); });
    for (auto [k, status] : ended) {
      ranks[k].running = false;
      --running;
      int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
      if (code == 0 || ending) continue;
      ending = true;
      ending_since = std::chrono::steady_clock::now();
      exit_code = code;
      if (code == 3 && WIFEXITED(status)) {
        std::cerr << "launch: rank " << k << " stopped (exit 3); waiting for the other ranks\n";
        continue;
      }
      std::cerr << "launch: rank " << k << " "
                << (WIFSIGNALED(status) ? "was ended by " + signal_text(WTERMSIG(status))
                                        : "exited with code " + std::to_string(code))
                << "; stopping the other ranks\n";
      signal_all(SIGTERM);
      signal_all(SIGCONT);  // a stopped rank handles SIGTERM only once it runs
    }
    if (ending && !killed && running > 0 &&
        std::chrono::steady_clock::now() - ending_since > std::chrono::seconds(30)) {
      std::cerr << "launch: " << running << " rank(s) still running 30 s later; killing them\n";
      signal_all(SIGKILL);
      killed = true;
    }
  }
  return exit_code;
}

}  // namespace wm
