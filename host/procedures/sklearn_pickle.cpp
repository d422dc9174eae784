// The scikit-learn bridge of fit_action_scaler: a StandardScaler pickle written by
// scripts/scaler_to_sklearn.py (declared in scaler_report.h).
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "procedures/scaler_report.h"
#include "wm/error.h"

namespace wm {

namespace {

// the command's exit code and its output (stdout and stderr)
std::pair<int, std::string> run_command(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, "could not start: " + command};
  std::array<char, 4096> buffer;
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::filesystem::path scripts_dir() {
  if (const char* dir = std::getenv("WM_SCRIPTS_DIR"); dir && *dir) return dir;
  std::filesystem::path source = WM_SOURCE_SCRIPTS_DIR;
  if (std::filesystem::exists(source / "scaler_to_sklearn.py")) return source;
  return WM_INSTALL_SCRIPTS_DIR;
}

std::string sklearn_python() {
  // $WM_PYTHON, then python3 on PATH, then the system's (Debian's python3-sklearn lives there
  // when PATH starts with a pyenv or venv python3 without it)
  static const std::string found = [] {
    std::vector<std::string> candidates;
    if (const char* python = std::getenv("WM_PYTHON"); python && *python) candidates.push_back(python);
    candidates.insert(candidates.end(), {"python3", "/usr/bin/python3"});
    for (const auto& python : candidates)
      if (run_command(quoted(python) + " -c 'import sklearn, joblib, yaml'").first == 0) return python;
    return std::string();
  }();
  return found;
}

std::string sklearn_missing() {
  if (!sklearn_python().empty()) return "";
  auto [code, output] = run_command("python3 -c 'import sklearn, joblib, yaml'");
  return "format pkl needs python3 with scikit-learn, joblib and PyYAML (Debian/Ubuntu: apt install "
         "python3-sklearn python3-yaml; elsewhere: pip install scikit-learn pyyaml; or name the "
         "interpreter in $WM_PYTHON); python3 said: " +
         output.substr(0, output.find_last_not_of("\n") + 1);
}

void write_sklearn_pickle(const std::filesystem::path& scaler_file,
                          const std::filesystem::path& pickle) {
  auto script = scripts_dir() / "scaler_to_sklearn.py";
  if (!std::filesystem::exists(script))
    throw Error("fit_action_scaler: " + script.string() + " not found (set WM_SCRIPTS_DIR to the "
                "folder holding scaler_to_sklearn.py)");
  if (sklearn_python().empty()) throw Error("fit_action_scaler: " + sklearn_missing());
  auto [code, output] = run_command(quoted(sklearn_python()) + " " + quoted(script.string()) + " " +
                                    quoted(scaler_file.string()) + " " + quoted(pickle.string()));
  if (code != 0)
    throw Error("fit_action_scaler: " + script.filename().string() + " failed (exit " +
                std::to_string(code) + "): " + output);
}

}  // namespace wm
