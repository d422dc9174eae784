// WebDataset shards: tar files whose members are grouped into samples by key prefix
// ("clip7.mp4", "clip7.jsonl" -> sample "clip7" with members "mp4" and "jsonl"). Shard lists come
// from globs and brace ranges: "shards/shard-{000000..000499}.tar", "shards/*.tar".
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "wm/io/tar.h"

namespace wm::io {

//---- shard lists ----

// expands brace lists and numeric ranges ({a,b}, {000..123}, zero padding kept), then globs
// (*, ?, [..]); sorted, without duplicates. A pattern that names nothing throws wm::Error saying
// what was looked for.
std::vector<std::filesystem::path> expand_shard_pattern(const std::string& pattern);

// the brace step alone: "a{1..3}" -> a1, a2, a3; "x{a,b}y" -> xay, xby
std::vector<std::string> expand_braces(const std::string& pattern);

//---- samples in a shard ----

struct ShardSample {
  std::filesystem::path shard;
  std::string key;                            // the member names' shared prefix
  std::map<std::string, TarMember> members;   // by extension: "mp4", "jsonl", "seg.json", ...
  const TarMember* find(const std::string& extension) const;
};

// a member name's key and extension, split at the first dot of its file name (the WebDataset
// rule): "a/b.c.mp4" -> {"a/b", "c.mp4"}
std::pair<std::string, std::string> split_member_name(const std::string& name);

// the samples of one shard in archive order, from its headers only
std::vector<ShardSample> index_shard(const std::filesystem::path& shard);

}  // namespace wm::io
