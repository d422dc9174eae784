#!/usr/bin/env bash
# Configures and builds wmhost in ./build (Ninja, ccache when installed). Extra arguments are
# build targets, e.g. `scripts/build.sh wmhost wm_plugins`; none builds everything, tests too.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${WM_BUILD_DIR:-build}
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
targets=()
for target in "$@"; do targets+=(--target "$target"); done
start=$(date +%s)
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
echo "build: done in $(( $(date +%s) - start ))s ($build_dir)"
