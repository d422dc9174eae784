#include "wm/io/checkpoint.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/in_memory_adapter.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/serialize.h>

#include <fstream>
#include <map>

#include "wm/error.h"
#include "wm/io/atomic_file.h"

namespace wm::io {

namespace {

using c10::impl::GenericDict;

GenericDict empty_dict() { return GenericDict(c10::StringType::get(), c10::AnyType::get()); }

//---- nesting at "/" ----

std::vector<std::string> name_parts(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t slash; (slash = name.find('/', start)) != std::string::npos; start = slash + 1)
    parts.push_back(name.substr(start, slash - start));
  parts.push_back(name.substr(start));
  for (const auto& part : parts)
    if (part.empty()) throw Error("checkpoint entry '" + name + "' has an empty part between '/'");
  return parts;
}

// puts `value` at root[a][b][c] for the name "a/b/c"
void insert_nested(GenericDict root, const std::string& name, c10::IValue value) {
  auto parts = name_parts(name);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto found = root.find(parts[i]);
    if (found == root.end()) {
      GenericDict child = empty_dict();
      root.insert(parts[i], child);
      root = child;
    } else if (found->value().isGenericDict()) {
      root = found->value().toGenericDict();
    } else {
      throw Error("checkpoint entry '" + name + "' lies under '" + parts[i] +
                  "', which is a value");
    }
  }
  if (!root.insert(parts.back(), std::move(value)).second)
    throw Error("checkpoint entry '" + name + "' is given twice (or is also a folder of entries)");
}

// a tensor as torch.save should hold it: on the CPU, no autograd, and no more storage than its
// own elements (a view would otherwise carry its whole base)
at::Tensor compact(const at::Tensor& tensor) {
  at::Tensor cpu = tensor.detach().cpu();
  bool whole = cpu.is_contiguous() && cpu.storage_offset() == 0 &&
               cpu.storage().nbytes() == static_cast<size_t>(cpu.nbytes());
  return whole ? cpu : cpu.clone(at::MemoryFormat::Contiguous);
}

// every leaf under `value`, named by its path
void flatten(const c10::IValue& value, const std::string& name, CheckpointEntries& out) {
  if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict()) {
      std::string key = entry.key().isString() ? entry.key().toStringRef()
                        : entry.key().isInt()  ? std::to_string(entry.key().toInt())
                                               : std::string();
      if (key.empty()) continue;
      flatten(entry.value(), name.empty() ? key : name + "/" + key, out);
    }
  } else if (value.isTensor()) {
    out.emplace_back(name, value.toTensor());
  } else if (value.isInt()) {
    out.emplace_back(name, value.toInt());
  } else if (value.isBool()) {
    out.emplace_back(name, static_cast<int64_t>(value.toBool()));
  } else if (value.isDouble()) {
    out.emplace_back(name, at::scalar_tensor(value.toDouble(), at::kDouble));
  } else if (value.isString()) {
    out.emplace_back(name, value.toStringRef());
  }
}

std::vector<char> read_bytes(const std::filesystem::path& file) {
  if (!std::filesystem::is_regular_file(file)) throw Error("no checkpoint at " + file.string());
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot open checkpoint " + file.string());
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  if (in.bad()) throw Error("cannot read checkpoint " + file.string());
  return bytes;
}

//---- the format before torch.save: a TorchScript archive of name_i/value_i pairs ----

// a TorchScript archive (the old format, or a scripted module) has constants.pkl; torch.save has
// not
bool is_torchscript_archive(const std::vector<char>& bytes) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(
        std::make_shared<caffe2::serialize::MemoryReadAdapter>(bytes.data(),
                                                               static_cast<off_t>(bytes.size())));
    return reader.hasRecord("constants.pkl");
  } catch (const std::exception&) {
    return false;  // not a zip: torch.load's legacy format, tried by pickle_load
  }
}

CheckpointEntries load_named_pairs(const std::vector<char>& bytes,
                                   const std::filesystem::path& file) {
  CheckpointEntries entries;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes.data(), bytes.size());
    at::Tensor count;
    archive.read("count", count);
    if (count.numel() != 1 || count.item<int64_t>() < 0)
      throw Error("its entry count is not a count");
    for (int64_t i = 0; i < count.item<int64_t>(); ++i) {
      at::Tensor name_codes, value;
      archive.read("name_" + std::to_string(i), name_codes);
      archive.read("value_" + std::to_string(i), value);
      std::string name;
      auto codes = name_codes.to(at::kLong).contiguous();
      for (int64_t c = 0; c < codes.numel(); ++c)
        name += static_cast<char>(codes.data_ptr<int64_t>()[c]);
      entries.emplace_back(name, value);
    }
  } catch (const std::exception& e) {
    throw Error("cannot read checkpoint " + file.string() +
                ": a TorchScript archive, but not a readable older wmhost checkpoint (" +
                user_message(e) + ")");
  }
  return entries;
}

}  // namespace

//---- torch.save ----

std::string checkpoint_bytes(const CheckpointEntries& entries) {
  GenericDict root = empty_dict();
  for (const auto& [name, value] : entries) {
    if (const auto* tensor = std::get_if<at::Tensor>(&value)) {
      if (!tensor->defined()) throw Error("checkpoint entry '" + name + "' is an undefined tensor");
      insert_nested(root, name, compact(*tensor));
    } else if (const auto* integer = std::get_if<int64_t>(&value)) {
      insert_nested(root, name, *integer);
    } else {
      insert_nested(root, name, std::get<std::string>(value));
    }
  }
  // untagged: torch.jit's type tags are globals that torch.load(weights_only=True) refuses
  std::vector<char> pickle;
  torch::jit::Pickler pickler(
      [&](const char* data, size_t size) { pickle.insert(pickle.end(), data, data + size); },
      /*tensor_table=*/nullptr, /*type_renamer=*/nullptr,
      /*memoized_class_types=*/nullptr, /*get_tensor_id=*/nullptr,
      /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(root);
  pickler.stop();
  std::string bytes;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  torch::jit::writeArchiveAndTensors("data", pickle.data(), pickle.size(), pickler.tensorData(),
                                     writer);
  writer.writeEndOfFile();
  return bytes;
}

void save_checkpoint(const std::filesystem::path& file, const CheckpointEntries& entries) {
  std::string bytes;
  try {
    bytes = checkpoint_bytes(entries);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error("cannot serialise checkpoint " + file.string() + ": " + user_message(e));
  }
  write_file_atomic(file, bytes);
}

CheckpointEntries load_checkpoint(const std::filesystem::path& file) {
  std::vector<char> bytes = read_bytes(file);
  if (is_torchscript_archive(bytes)) return load_named_pairs(bytes, file);
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const std::exception& e) {
    throw Error("cannot read checkpoint " + file.string() + " (" + user_message(e) +
                "): neither a torch.save file nor an older wmhost checkpoint");
  }
  if (!value.isGenericDict())
    throw Error("checkpoint " + file.string() + " holds a " + value.tagKind() + ", not a dict");
  CheckpointEntries entries;
  flatten(value, "", entries);
  return entries;
}

void save_tensors(const std::filesystem::path& file, const NamedTensors& tensors) {
  CheckpointEntries entries;
  for (const auto& [name, tensor] : tensors) entries.emplace_back(name, tensor);
  save_checkpoint(file, entries);
}

NamedTensors tensors_of(const CheckpointEntries& entries) {
  NamedTensors tensors;
  for (const auto& [name, value] : entries)
    if (const auto* tensor = std::get_if<at::Tensor>(&value)) tensors.emplace_back(name, *tensor);
  return tensors;
}

NamedTensors load_tensors(const std::filesystem::path& file) {
  return tensors_of(load_checkpoint(file));
}

std::optional<int64_t> checkpoint_integer(const CheckpointEntries& entries,
                                          const std::string& name) {
  for (const auto& [entry, value] : entries) {
    if (entry != name) continue;
    if (const auto* integer = std::get_if<int64_t>(&value)) return *integer;
    if (const auto* tensor = std::get_if<at::Tensor>(&value); tensor && tensor->numel() == 1)
      return tensor->item<int64_t>();
    throw Error("checkpoint entry '" + name + "' is not an integer");
  }
  return std::nullopt;
}

//---- by name ----

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
    if (it == given.end())
      missing.push_back(name);
    else if (!it->second.sizes().equals(target.sizes()))
      mismatched.push_back(name);
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
