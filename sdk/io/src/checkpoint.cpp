#include "wm/io/checkpoint.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize.h>

#include <fstream>
#include <map>

#include "wm/error.h"

namespace wm::io {

void save_tensors(const std::filesystem::path& file, const NamedTensors& tensors) {
  torch::serialize::OutputArchive archive;
  // entries are numbered: the archive nests names at each "."
  for (size_t i = 0; i < tensors.size(); ++i) {
    archive.write("name_" + std::to_string(i), at::tensor(std::vector<int64_t>(
                                                   tensors[i].first.begin(), tensors[i].first.end())));
    archive.write("value_" + std::to_string(i), tensors[i].second.detach().cpu());
  }
  archive.write("count", at::scalar_tensor(static_cast<int64_t>(tensors.size()), at::kLong));
  auto temporary = file;
  temporary += ".tmp";
  archive.save_to(temporary.string());
  std::filesystem::rename(temporary, file);
}

NamedTensors load_tensors(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) throw Error("no checkpoint at " + file.string());
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(file.string());
  } catch (const std::exception& e) {
    throw Error("cannot read checkpoint " + file.string() + ": " + e.what());
  }
  at::Tensor count;
  archive.read("count", count);
  NamedTensors tensors;
  for (int64_t i = 0; i < count.item<int64_t>(); ++i) {
    at::Tensor name_codes, value;
    archive.read("name_" + std::to_string(i), name_codes);
    archive.read("value_" + std::to_string(i), value);
    std::string name;
    for (int64_t c = 0; c < name_codes.numel(); ++c)
      name += static_cast<char>(name_codes[c].item<int64_t>());
    tensors.emplace_back(name, value);
  }
  return tensors;
}

NamedTensors with_prefix(const NamedTensors& tensors, const std::string& prefix) {
  NamedTensors found;
  for (const auto& [name, tensor] : tensors)
    if (name.rfind(prefix, 0) == 0) found.emplace_back(name.substr(prefix.size()), tensor);
  return found;
}

void copy_by_name(const NamedTensors& from, const NamedTensors& into, const std::string& what) {
  std::map<std::string, at::Tensor> by_name(from.begin(), from.end());
  at::NoGradGuard no_grad;
  for (const auto& [name, target] : into) {
    auto it = by_name.find(name);
    if (it == by_name.end()) throw Error(what + " lacks '" + name + "'");
    if (!it->second.sizes().equals(target.sizes()))
      throw Error(what + ": '" + name + "' has shape " + std::to_string(it->second.numel()) +
                  " elements, expected " + std::to_string(target.numel()));
    const_cast<at::Tensor&>(target).copy_(it->second);
  }
}

NamedTensors load_state_dict(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot open weights " + file.string());
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const std::exception& e) {
    throw Error("cannot read " + file.string() + " as a PyTorch state dict (" + user_message(e) +
                "); re-save it from Python with torch.save(state_dict, path)");
  }
  if (!value.isGenericDict()) throw Error(file.string() + " does not hold a dict of tensors");
  auto dict = value.toGenericDict();
  for (const char* wrapper : {"model", "module", "state_dict"}) {
    auto it = dict.find(wrapper);
    if (it != dict.end() && it->value().isGenericDict()) {
      dict = it->value().toGenericDict();
      break;
    }
  }
  NamedTensors tensors;
  for (const auto& entry : dict)
    if (entry.key().isString() && entry.value().isTensor())
      tensors.emplace_back(entry.key().toStringRef(), entry.value().toTensor());
  return tensors;
}

void load_matching(const NamedTensors& from, const NamedTensors& into, const std::string& what) {
  std::map<std::string, at::Tensor> given(from.begin(), from.end());
  std::vector<std::string> missing, unexpected, mismatched;
  std::map<std::string, bool> wanted;
  for (const auto& [name, target] : into) {
    wanted[name] = true;
    auto it = given.find(name);
    if (it == given.end()) missing.push_back(name);
    else if (!it->second.sizes().equals(target.sizes())) mismatched.push_back(name);
  }
  for (const auto& [name, tensor] : from)
    if (!wanted.count(name)) unexpected.push_back(name);
  if (!missing.empty() || !mismatched.empty()) {
    auto list = [](const std::vector<std::string>& names) {
      std::string text;
      for (size_t i = 0; i < names.size() && i < 5; ++i) text += (i ? ", " : "") + names[i];
      return text + (names.size() > 5 ? ", ... (" + std::to_string(names.size()) + " in all)" : "");
    };
    throw Error(what + " does not fit the model: " +
                (missing.empty() ? "" : "missing " + list(missing) + "; ") +
                (mismatched.empty() ? "" : "other shape: " + list(mismatched) + "; ") +
                (unexpected.empty() ? "" : "unexpected " + list(unexpected) + "; ") +
                "check the model's size parameters against the checkpoint");
  }
  copy_by_name(from, into, what);
}

}  // namespace wm::io
