// libFuzzer target: bytes as the per-frame JSON records of a webdataset sample (a .jsonl member),
// parsed and turned into actions, scalars, vectors and multi-hot rows with the record's own field
// names, the way the webdataset plugin and fit_action_scaler use them. Malformed or unsuitable
// records may only end in wm::Error (DataError); anything else escaping, a sanitizer report, a
// leak or a hang is a finding. Strings and numbers must survive quote()/number() and parse().
#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "wm/error.h"
#include "wm/io/frame_records.h"
#include "wm/io/json.h"
#include "wm/log.h"

namespace json = wm::io::json;

namespace {

constexpr size_t kMaxFields = 8;  // field names tried per input (keeps one input fast)
constexpr int kMaxDepth = 3;      // nesting followed for dotted paths

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz_frame_records: %s\n", what.c_str());
  std::abort();
}

//---- writing and reading back ----

void check_round_trips(const json::Value& value, int depth) {
  if (depth > 64) return;  // the parser's own depth is what is fuzzed, not this walk
  switch (value.type()) {
    case json::Type::String: {
      std::string quoted = json::quote(value.as_string());
      if (json::parse(quoted, "quote").as_string() != value.as_string())
        finding("quote() does not parse back: " + quoted);
      break;
    }
    case json::Type::Number: {
      double x = value.as_number(), y = json::parse(json::number(x), "number").as_number();
      if (std::isfinite(x) && !(std::fabs(y - x) <= std::max(1e-9 * std::fabs(x), 5e-324)))
        finding("number() does not parse back: " + json::number(x));
      break;
    }
    case json::Type::Array:
      for (const auto& item : value.items()) check_round_trips(item, depth + 1);
      break;
    case json::Type::Object:
      for (const auto& [key, member] : value.members()) {
        if (json::parse(json::quote(key), "key").as_string() != key) finding("key does not parse back");
        check_round_trips(member, depth + 1);
      }
      break;
    default:
      break;
  }
  value.to_text();
}

//---- field names of a record, as a config would name them ----

struct Fields {
  std::vector<std::string> numbers, arrays;
};

void collect_fields(const json::Value& value, const std::string& prefix, int depth, Fields& out) {
  if (!value.is_object() || depth > kMaxDepth) return;
  for (const auto& [key, member] : value.members()) {
    if (out.numbers.size() + out.arrays.size() >= kMaxFields) return;
    std::string path = prefix.empty() ? key : prefix + "." + key;
    if (member.is_number()) out.numbers.push_back(path);
    else if (member.is_array()) out.arrays.push_back(path);
    else if (member.is_object()) collect_fields(member, path, depth + 1, out);
  }
}

//---- the record readers ----

template <class Read>
void attempt(Read read) {
  try {
    read();
  } catch (const wm::Error&) {
  }
}

void read_records(const std::vector<json::Value>& records) {
  const std::string source = "fuzz.jsonl";
  size_t frames = records.size();
  Fields fields;
  collect_fields(records.front(), "", 0, fields);

  std::vector<std::string> actions = fields.numbers;
  for (const auto& name : fields.numbers) actions.push_back(name + "_diff");
  for (const auto& name : fields.arrays) actions.push_back(name);
  if (!actions.empty()) {
    wm::io::ActionFields all(actions);
    attempt([&] { all.columns(records.front()); });
    attempt([&] { all.rows(records, 0, frames, source); });
    for (size_t stride : {size_t{2}, size_t{3}})
      if (frames > stride)
        attempt([&] { all.stride_sums(records, 0, (frames - 1) / stride, stride, source); });
  }
  for (const auto& name : actions) {
    attempt([&] { wm::io::ActionFields::parse(name).rows(records, 0, frames, source); });
  }
  for (const auto& name : fields.numbers)
    attempt([&] { wm::io::frame_scalars(records, 0, frames, name, source); });
  for (const auto& name : fields.arrays) {
    attempt([&] { wm::io::frame_vectors(records, 0, frames, name, source); });
    // the vocabulary: the list's own items as text, as a config would name keys
    std::vector<std::string> vocabulary{"0"};
    // a name given twice in one object finds its first value, which may not be the list
    const json::Value* list = records.front().find_path(name);
    if (list && list->is_array())
      for (const auto& item : list->items())
        if (vocabulary.size() < kMaxFields && (item.is_string() || item.is_number()))
          vocabulary.push_back(item.to_text());
    attempt([&] { wm::io::multi_hot(records, 0, frames, {name}, vocabulary, source); });
  }
  auto count = static_cast<int64_t>(frames);
  for (int64_t span : {1, 2, 3}) {
    wm::io::clip_starts(count, span, false);
    wm::io::clip_starts(count, span, true);
    wm::io::clip_starts_every(count, span, 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  wm::log().set_level(spdlog::level::off);
  at::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  attempt([&] { check_round_trips(json::parse(text, "fuzz.json"), 0); });
  std::vector<json::Value> records;
  try {
    records = json::parse_lines(text, "fuzz.jsonl");
  } catch (const wm::Error&) {
    return 0;
  }
  for (const auto& record : records) attempt([&] { check_round_trips(record, 0); });
  if (!records.empty()) read_records(records);
  return 0;
}
