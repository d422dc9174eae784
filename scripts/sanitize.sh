#!/usr/bin/env bash
# The unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (docs/fuzzing.md).
#
#   scripts/sanitize.sh [GTEST_ARGS ...]      e.g. --gtest_filter='Tar*'
#
# Builds unit_tests in build-asan/ (scripts/asan_build.sh: clang, ASan + UBSan with errors
# aborting, the same folder scripts/fuzz.sh uses) and runs it with leak detection on. Exits
# non-zero on any sanitizer report, leak or failing test; the output is in build-asan/sanitize.log.
#
# "Unit tests" are the in-process tests of the host and the SDK that need no plugin and no wmhost
# binary: config resolution, sweeps, parameters, splits, JSON, tar and webdataset shards, action
# scalers, the loader, statistics, curve fits, Lucas-Kanade flow (the list: tests/CMakeLists.txt,
# WM_UNIT_TESTS_ONLY). Tests that load plugins or run the wmhost binary are left out: plugins are
# not built here. Tests that compare with Python run Python as usual. LibTorch is not
# instrumented; scripts/lsan.supp is where a third-party library's process-lifetime allocations
# would be suppressed (none need it with LibTorch 1.13), never wmhost code.
# Environment: WM_ASAN_JOBS (build jobs, default: every core), WM_ASAN_BUILD (the build folder).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${WM_ASAN_BUILD:-$root/build-asan}
start=$(date +%s)

source "$root/scripts/asan_build.sh"
wm_asan_configure "$root" "$build"
cmake --build "$build" -j "${WM_ASAN_JOBS:-$(nproc)}" --target unit_tests
built=$(date +%s)

export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export OMP_NUM_THREADS=1
log=$build/sanitize.log
status=0
(cd "$build" && "$build/tests/unit_tests" --gtest_color=no "$@") >"$log" 2>&1 || status=$?
finished=$(date +%s)

reports=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log" || true)
tail -n 5 "$log"
echo "sanitize: build $((built - start)) s, tests $((finished - built)) s; exit $status," \
     "$reports sanitizer report(s); log: $log"
if (( status != 0 || reports > 0 )); then
  grep -E -A 12 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|\[  FAILED  \]' "$log" | head -n 60
  exit 1
fi
echo "sanitize: clean"
