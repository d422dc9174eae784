// The bounds every experiment file is held to, so that no config (a colleague's, a fuzzer's) can
// crash or hang wmhost: each is far above what a real experiment needs, and going past one is a
// ConfigError that names the limit.
#pragma once
#include <cstddef>
#include <cstdint>

namespace wm {

//---- files ----

// an experiment or `base:` file: a regular file of at most this many bytes
inline constexpr std::uintmax_t kMaxConfigFileBytes = 16u << 20;
// `base:` files read for one experiment, repeats included (a base listed ten times at each of
// ten levels would otherwise be read ten billion times)
inline constexpr size_t kMaxBaseFiles = 256;

//---- the tree ----

// values (maps, lists, scalars) one file may expand to through YAML aliases, or interpolation
// may produce through `${}` copies
inline constexpr size_t kMaxConfigNodes = 1000000;
// levels of maps and lists, counting the levels each alias (`*name`) copies: the YAML reader
// bounds nesting as written (at this many levels too), not what aliases reach, and an anchor
// that holds its own alias (`a: &a [*a]`) nests without end
inline constexpr size_t kMaxConfigDepth = 500;
// links in a chain of `${}` references (a -> b -> c ...)
inline constexpr size_t kMaxReferenceDepth = 256;

//---- sweeps ----

// points of a sweep grid (every point is validated before any runs)
inline constexpr size_t kMaxSweepPoints = 10000;

}  // namespace wm
