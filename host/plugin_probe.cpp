#include "plugin_probe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/dll/shared_library.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include "wm/abi.h"
#include "wm/log.h"
#include "wm/plugin.h"

namespace wm {

namespace {

//---- the child ----

void say(int fd, char what, size_t index) {
  std::string line = what + std::to_string(index) + "\n";
  ssize_t ignored = ::write(fd, line.data(), line.size());
  (void)ignored;
}

// loads files[first..] as the host would, announcing each; never returns
[[noreturn]] void child_loads(const std::vector<std::filesystem::path>& files, size_t first,
                              int status_fd) {
  for (size_t i = first; i < files.size(); ++i) {
    say(status_fd, 'S', i);
    try {
      boost::dll::shared_library library(files[i].string(), boost::dll::load_mode::rtld_now);
      if (library.has("wm_plugin_info")) {
        using InfoFunction = const PluginInfo&();
        const PluginInfo& info = library.get_alias<InfoFunction>("wm_plugin_info")();
        info.schema();
      }
      // the library stays loaded: unloading would run its destructors in the child as well
      new boost::dll::shared_library(std::move(library));
    } catch (...) {
      // an ordinary load error or a throwing schema: the host's own load reports it
    }
    say(status_fd, 'D', i);
  }
  ::_exit(0);
}

//---- the parent ----

std::string signal_text(int signal) {
  const char* name = sigabbrev_np(signal);
  const char* description = strsignal(signal);
  return std::string("SIG") + (name ? name : std::to_string(signal)) + " (" +
         (description ? description : "signal") + ")";
}

// the last lines of what the child printed, for the message
std::string tail_of(const std::string& output) {
  std::string text = output;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.size() > 600) text = "..." + text.substr(text.size() - 600);
  return text;
}

// one child from files[first]; returns the index it stopped at (files.size() when all loaded)
// and fills `failure` for the file that killed it
size_t run_child(const std::vector<std::filesystem::path>& files, size_t first,
                 int seconds_per_file, std::string& failure) {
  int status_pipe[2], output_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) return files.size();
  if (::pipe2(output_pipe, O_CLOEXEC) != 0) {
    ::close(status_pipe[0]), ::close(status_pipe[1]);
    return files.size();
  }
  std::fflush(nullptr);
  pid_t child = ::fork();
  if (child < 0) {  // no child to be had: the host loads the files directly
    for (int fd : {status_pipe[0], status_pipe[1], output_pipe[0], output_pipe[1]}) ::close(fd);
    return files.size();
  }
  if (child == 0) {
    // the host's stop handlers are not the child's: a signal ends it as it would end any process
    for (int stop : {SIGINT, SIGTERM, SIGHUP}) ::signal(stop, SIG_DFL);
    ::close(status_pipe[0]), ::close(output_pipe[0]);
    ::dup2(output_pipe[1], STDOUT_FILENO);
    ::dup2(output_pipe[1], STDERR_FILENO);
    child_loads(files, first, status_pipe[1]);
  }
  ::close(status_pipe[1]), ::close(output_pipe[1]);

  // follow the child: which file it is in, what it prints, and how long each file takes
  using Clock = std::chrono::steady_clock;
  std::string status, output;
  long started = -1;  // the file being loaded, -1 between files
  size_t done = first;
  auto deadline = Clock::now() + std::chrono::seconds(seconds_per_file);
  bool status_open = true, output_open = true, hung = false;
  while (status_open || output_open) {
    pollfd fds[2] = {{status_pipe[0], POLLIN, 0}, {output_pipe[0], POLLIN, 0}};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      hung = true;
      ::kill(child, SIGKILL);
      break;
    }
    int ready = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    char chunk[4096];
    if (status_open && (fds[0].revents & (POLLIN | POLLHUP))) {
      ssize_t n = ::read(status_pipe[0], chunk, sizeof chunk);
      if (n <= 0) status_open = false;
      else status.append(chunk, static_cast<size_t>(n));
      for (size_t end; (end = status.find('\n')) != std::string::npos; status.erase(0, end + 1)) {
        long index = std::strtol(status.c_str() + 1, nullptr, 10);
        if (status[0] == 'S') {
          started = index, output.clear();
          deadline = Clock::now() + std::chrono::seconds(seconds_per_file);
        } else {
          started = -1, done = static_cast<size_t>(index) + 1;
        }
      }
    }
    if (output_open && (fds[1].revents & (POLLIN | POLLHUP))) {
      ssize_t n = ::read(output_pipe[0], chunk, sizeof chunk);
      if (n <= 0) output_open = false;
      else output.append(chunk, static_cast<size_t>(n));
      if (output.size() > 64 * 1024) output.erase(0, output.size() - 4096);
    }
  }
  ::close(status_pipe[0]), ::close(output_pipe[0]);
  int wait_status = 0;
  while (::waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
  }
  // clean: every file announced done (a constructor calling exit(0) ends the child early)
  bool clean = !hung && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0 &&
               done == files.size();
  if (clean || started < 0) return std::max(done, clean ? files.size() : done);

  std::string printed = tail_of(output);
  if (hung)
    failure = "its code did not finish loading within " + std::to_string(seconds_per_file) +
              " s (a static constructor or its schema hangs)";
  else if (WIFSIGNALED(wait_status))
    failure = "its code crashed while loading: " + signal_text(WTERMSIG(wait_status)) +
              " in a static constructor or its schema";
  else
    failure = "its code ended the process while loading (exit " +
              std::to_string(WEXITSTATUS(wait_status)) +
              ") in a static constructor or its schema";
  if (!printed.empty()) failure += "; it printed: " + printed;
  failure += "; wmhost skipped it (remove it from the plugin folder, or rebuild it)";
  return static_cast<size_t>(started);
}

//---- files already probed ----

// Files that loaded cleanly in a child, by identity (device, inode, size, modification time in
// ns) and this host's ABI: they are not probed again. One line per file in
// $XDG_CACHE_HOME/wmhost/plugin_probes (or ~/.cache/...); a file that cannot be read or written
// only means probing again.
std::filesystem::path cache_file() {
  if (const char* dir = std::getenv("XDG_CACHE_HOME"); dir && *dir)
    return std::filesystem::path(dir) / "wmhost" / "plugin_probes";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".cache" / "wmhost" / "plugin_probes";
  return {};
}

// "<abi> <dev> <ino> <size> <mtime ns> <path>", or "" when the file cannot be stat'ed
std::string identity(const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) return "";
  return std::to_string(WM_SDK_ABI_VERSION) + " " + std::to_string(info.st_dev) + " " +
         std::to_string(info.st_ino) + " " + std::to_string(info.st_size) + " " +
         std::to_string(int64_t(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec) + " " +
         std::filesystem::absolute(file).lexically_normal().string();
}

std::set<std::string> read_cache(const std::filesystem::path& cache) {
  std::set<std::string> lines;
  std::ifstream in(cache);
  for (std::string line; std::getline(in, line) && lines.size() < 100000;) lines.insert(line);
  return lines;
}

// adds `lines` to the cache, written whole (a temporary renamed over it)
void add_to_cache(const std::filesystem::path& cache, const std::vector<std::string>& lines) {
  if (cache.empty() || lines.empty()) return;
  std::error_code error;
  std::filesystem::create_directories(cache.parent_path(), error);
  auto known = read_cache(cache);
  known.insert(lines.begin(), lines.end());
  auto temporary = cache;
  temporary += ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(temporary);
    for (const auto& line : known) out << line << "\n";
    if (!out) {
      std::filesystem::remove(temporary, error);
      return;
    }
  }
  std::filesystem::rename(temporary, cache, error);
  if (error) std::filesystem::remove(temporary, error);
}

}  // namespace

// a forked child may only run code such as dlopen and malloc when the parent had one thread
// (another thread may hold a lock the child would wait on forever): a process that already has
// threads (a program embedding the host) loads its plugins directly
static bool single_threaded() {
  std::error_code error;
  auto tasks = std::filesystem::directory_iterator("/proc/self/task", error);
  if (error) return false;
  return std::distance(tasks, std::filesystem::directory_iterator()) == 1;
}

bool plugin_probe_enabled() {
  const char* setting = std::getenv("WMHOST_PLUGIN_PROBE");
  return !setting || std::string(setting) != "0";
}

std::vector<PluginProbe> probe_plugin_files(const std::vector<std::filesystem::path>& files,
                                            int seconds_per_file) {
  std::vector<PluginProbe> probes;
  for (const auto& file : files) probes.push_back({file, ""});
  if (!plugin_probe_enabled() || !single_threaded()) return probes;
  // only files not seen loading cleanly before
  auto cache = cache_file();
  auto known = cache.empty() ? std::set<std::string>() : read_cache(cache);
  std::vector<std::filesystem::path> fresh;
  std::vector<std::string> identities;
  std::vector<size_t> where;
  for (size_t i = 0; i < files.size(); ++i) {
    std::string id = identity(files[i]);
    if (!id.empty() && known.count(id)) continue;
    fresh.push_back(files[i]), identities.push_back(id), where.push_back(i);
  }
  if (fresh.empty()) return probes;
  log().debug("loading {} new plugin file(s) in a child process first", fresh.size());
  // a child per run of good files: a file that kills it is marked, the next child starts after it
  std::vector<bool> failed(fresh.size(), false);
  for (size_t first = 0; first < fresh.size();) {
    std::string failure;
    size_t stopped = run_child(fresh, first, seconds_per_file, failure);
    if (stopped >= fresh.size()) break;
    if (!failure.empty()) {
      probes[where[stopped]].failure = failure;
      failed[stopped] = true;
      first = stopped + 1;
    } else {
      first = std::max(stopped, first + 1);
    }
  }
  std::vector<std::string> clean;
  for (size_t i = 0; i < fresh.size(); ++i)
    if (!failed[i] && !identities[i].empty()) clean.push_back(identities[i]);
  add_to_cache(cache, clean);
  return probes;
}

}  // namespace wm
