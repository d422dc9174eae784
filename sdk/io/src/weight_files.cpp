#include "wm/io/weight_files.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "wm/error.h"

namespace wm::io {

std::filesystem::path weights_dir() {
  if (const char* configured = std::getenv("WMHOST_WEIGHTS"); configured && *configured)
    return configured;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : ".") / ".cache" / "wmhost" / "weights";
}

std::filesystem::path find_weight_file(const std::string& configured, const std::string& folder,
                                       const std::vector<std::string>& names) {
  if (!configured.empty()) {
    if (!std::filesystem::is_regular_file(configured))
      throw Error("weight file " + configured + " does not exist; fix the path in the YAML "
                  "(relative paths are resolved next to the YAML file that names them)");
    return configured;
  }
  for (const auto& name : names) {
    auto candidate = weights_dir() / folder / name;
    if (std::filesystem::is_regular_file(candidate)) return candidate;
  }
  return {};
}

std::string convert_weights_command(const std::filesystem::path& file) {
  return "python3 scripts/convert_torch_weights.py " + file.string();
}

StateDict load_weight_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot read weight file " + file.string());
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string unreadable = file.string() + " is not a zip-format dict of tensors, the one format "
                           "LibTorch reads; rewrite it in place (Debian python3-torch): " +
                           convert_weights_command(file);
  // torch.save wrote a zip archive since PyTorch 1.6; older files are bare pickles
  if (bytes.size() < 4 || std::string(bytes.data(), 2) != "PK")
    throw Error(unreadable + " (it is a legacy pickle)");
  c10::IValue value;
  try {
    value = torch::jit::pickle_load(bytes);
  } catch (const std::exception& e) {
    throw Error(unreadable + " (" + std::string(e.what()).substr(0, 120) + ")");
  }
  // LibTorch 1.13 reads a pickled OrderedDict (every nn.Module.state_dict()) as None
  if (!value.isGenericDict()) throw Error(unreadable + " (it holds an OrderedDict or an object)");
  StateDict tensors;
  for (const auto& entry : value.toGenericDict()) {
    if (!entry.key().isString() || !entry.value().isTensor())
      throw Error(unreadable + " (an entry is not name -> tensor)");
    tensors[entry.key().toStringRef()] = entry.value().toTensor();
  }
  return tensors;
}

}  // namespace wm::io
