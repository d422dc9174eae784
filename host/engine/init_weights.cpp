#include "init_weights.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <map>
#include <regex>

#include "wm/error.h"

namespace wm {

namespace fs = std::filesystem;

//---- which file ----

namespace {

// checkpoints, checkpoints-2, ...: the folder of the run's last train step
fs::path last_checkpoint_dir(const fs::path& run) {
  fs::path best;
  int best_number = 0;
  static const std::regex pattern("checkpoints(-([0-9]+))?");
  std::smatch match;
  for (const auto& entry : fs::directory_iterator(run)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !std::regex_match(name, match, pattern)) continue;
    int number = match[2].matched ? std::stoi(match[2]) : 1;
    if (number > best_number) best_number = number, best = entry.path();
  }
  return best;
}

}  // namespace

fs::path checkpoint_file(const fs::path& path) {
  if (fs::is_regular_file(path)) return path;
  if (!fs::is_directory(path)) throw Error("no checkpoint file or run folder at " + path.string());
  fs::path dir = path.filename() == "checkpoints" || path.filename().string().rfind("checkpoints-", 0) == 0
                     ? path
                     : last_checkpoint_dir(path);
  if (dir.empty()) throw Error(path.string() + " has no checkpoints/ folder (is it a run folder?)");
  if (fs::is_regular_file(dir / "best.pt")) return dir / "best.pt";
  std::vector<fs::path> steps;
  static const std::regex step("step-[0-9]{8}\\.pt");
  for (const auto& entry : fs::directory_iterator(dir))
    if (std::regex_match(entry.path().filename().string(), step)) steps.push_back(entry.path());
  if (steps.empty()) throw Error(dir.string() + " holds neither best.pt nor a step-*.pt checkpoint");
  return *std::max_element(steps.begin(), steps.end());
}

//---- copying by name ----

std::string shape_text(const at::Tensor& tensor) {
  std::string text = "[";
  for (int64_t i = 0; i < tensor.dim(); ++i) text += (i ? ", " : "") + std::to_string(tensor.size(i));
  return text + "]";
}

InitResult init_weights(const fs::path& path, const std::string& prefix, bool strict,
                        const io::NamedTensors& into) {
  InitResult result;
  result.file = checkpoint_file(path);
  io::NamedTensors saved = io::with_prefix(io::load_tensors(result.file), prefix);
  std::string what = result.file.string();
  if (saved.empty())
    throw Error(what + " has no tensors under the prefix '" + prefix + "' (init_prefix)");
  std::map<std::string, at::Tensor> by_name(saved.begin(), saved.end());
  std::map<std::string, bool> used;

  // check everything first: a strict mismatch leaves the model as it was
  std::vector<std::pair<at::Tensor, at::Tensor>> copies;
  for (const auto& [name, target] : into) {
    auto found = by_name.find(name);
    std::string problem;
    if (found == by_name.end())
      problem = "'" + name + "' is not in the checkpoint (model " + shape_text(target) + ")";
    else if (!found->second.sizes().equals(target.sizes()))
      problem = "'" + name + "' differs: checkpoint " + shape_text(found->second) + ", model " +
                shape_text(target);
    if (found != by_name.end()) used[name] = true;
    if (problem.empty()) {
      copies.emplace_back(target, found->second);
      continue;
    }
    if (strict)
      throw Error(what + " does not fit the model (init_strict: true): first mismatch " + problem);
    result.skipped.push_back(problem);
  }
  for (const auto& [name, tensor] : saved) {
    if (used.count(name)) continue;
    std::string problem = "'" + name + "' " + shape_text(tensor) + " is not in the model";
    if (strict)
      throw Error(what + " does not fit the model (init_strict: true): first mismatch " + problem);
    result.skipped.push_back(problem);
  }
  at::NoGradGuard no_grad;
  for (auto& [target, value] : copies) const_cast<at::Tensor&>(target).copy_(value);
  result.loaded = static_cast<int64_t>(copies.size());
  return result;
}

}  // namespace wm
