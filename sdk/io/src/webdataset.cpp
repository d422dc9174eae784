#include "wm/io/webdataset.h"

#include <glob.h>

#include <algorithm>
#include <set>

#include "wm/error.h"

namespace wm::io {

//---- shard lists ----

namespace {

// "{000..123}" -> 000, 001, ..., 123: numbers keep the first bound's width
bool numeric_range(const std::string& body, std::vector<std::string>& out) {
  size_t dots = body.find("..");
  if (dots == std::string::npos || dots == 0 || dots + 2 >= body.size()) return false;
  std::string low = body.substr(0, dots), high = body.substr(dots + 2);
  auto digits = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(low) || !digits(high)) return false;
  // bounds of at most 18 digits fit in 64 bits; a range names at most a million shards
  constexpr long long kMaxRangeNames = 1000000;
  if (low.size() > 18 || high.size() > 18)
    throw Error("brace range {" + body + "}: numbers of more than 18 digits");
  long long from = std::stoll(low), to = std::stoll(high);
  if (to < from) throw Error("brace range {" + body + "} runs backwards");
  if (to - from >= kMaxRangeNames)
    throw Error("brace range {" + body + "} names more than " + std::to_string(kMaxRangeNames) +
                " shards");
  size_t width = low.size();
  for (long long n = from; n <= to; ++n) {
    std::string text = std::to_string(n);
    if (text.size() < width) text.insert(0, width - text.size(), '0');
    out.push_back(text);
  }
  return true;
}

}  // namespace

std::vector<std::string> expand_braces(const std::string& pattern) {
  size_t open = pattern.find('{');
  if (open == std::string::npos) return {pattern};
  // the matching close brace (nested braces inside a list are expanded later)
  size_t close = open, depth = 0;
  for (; close < pattern.size(); ++close) {
    if (pattern[close] == '{') ++depth;
    if (pattern[close] == '}' && --depth == 0) break;
  }
  if (close >= pattern.size()) throw Error("unbalanced '{' in shard pattern '" + pattern + "'");
  std::string head = pattern.substr(0, open), body = pattern.substr(open + 1, close - open - 1),
              tail = pattern.substr(close + 1);
  std::vector<std::string> choices;
  if (!numeric_range(body, choices)) {
    size_t start = 0, level = 0;
    for (size_t i = 0; i <= body.size(); ++i) {
      if (i < body.size() && body[i] == '{') ++level;
      if (i < body.size() && body[i] == '}') --level;
      if (i == body.size() || (body[i] == ',' && level == 0)) {
        choices.push_back(body.substr(start, i - start));
        start = i + 1;
      }
    }
  }
  std::vector<std::string> expanded;
  for (const auto& choice : choices)
    for (auto& rest : expand_braces(choice + tail)) expanded.push_back(head + rest);
  return expanded;
}

std::vector<std::filesystem::path> expand_shard_pattern(const std::string& pattern) {
  std::set<std::string> found;
  std::vector<std::string> missing;
  for (const auto& candidate : expand_braces(pattern)) {
    bool wild = candidate.find_first_of("*?[") != std::string::npos;
    if (!wild) {
      if (std::filesystem::is_regular_file(candidate)) found.insert(candidate);
      else missing.push_back(candidate);
      continue;
    }
    glob_t matches{};
    if (::glob(candidate.c_str(), 0, nullptr, &matches) == 0)
      for (size_t i = 0; i < matches.gl_pathc; ++i)
        if (std::filesystem::is_regular_file(matches.gl_pathv[i])) found.insert(matches.gl_pathv[i]);
    ::globfree(&matches);
  }
  if (found.empty())
    throw Error("no shards match '" + pattern + "' (expected tar files such as shard-000000.tar;" +
                " use a glob like shards/*.tar or a range like shard-{000000..000009}.tar)");
  if (!missing.empty())
    throw Error(std::to_string(missing.size()) + " shard(s) named by '" + pattern +
                "' do not exist, first: " + missing.front());
  return {found.begin(), found.end()};
}

//---- samples in a shard ----

const TarMember* ShardSample::find(const std::string& extension) const {
  auto it = members.find(extension);
  return it == members.end() ? nullptr : &it->second;
}

std::pair<std::string, std::string> split_member_name(const std::string& name) {
  size_t slash = name.rfind('/');
  size_t dot = name.find('.', slash == std::string::npos ? 0 : slash + 1);
  if (dot == std::string::npos) return {name, ""};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

std::vector<ShardSample> index_shard(const std::filesystem::path& shard) {
  TarReader reader(shard);
  std::vector<ShardSample> samples;
  TarMember member;
  while (reader.next(member)) {
    auto [key, extension] = split_member_name(member.name);
    // a key's members are adjacent in a shard; a key seen again starts a new sample
    if (samples.empty() || samples.back().key != key) {
      samples.emplace_back();
      samples.back().shard = shard;
      samples.back().key = key;
    }
    samples.back().members[extension] = member;
  }
  return samples;
}

}  // namespace wm::io
