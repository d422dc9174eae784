#!/usr/bin/env bash
# Runs every libFuzzer target in fuzz/ for SECONDS each and prints a summary (docs/fuzzing.md).
#
#   scripts/fuzz.sh SECONDS [TARGET ...]      targets: fuzz_config fuzz_tar fuzz_frame_records
#
# Builds the fuzz targets in build-asan/ first when needed (scripts/asan_build.sh: clang, every
# library compiled with ASan + UBSan and libFuzzer's coverage instrumentation; sanitize.sh uses
# the same folder). Each target runs with -timeout=5 -rss_limit_mb=2048: a crash, a sanitizer
# report, a leak, an input running longer than 5 s or one needing more than 2 GB is saved, and
# fuzzing starts again for the time left (at most 10 times per target).
#   corpus     build-asan/fuzz-corpus/<target>/    grown here, kept between runs, outside git
#   seeds      build-asan/fuzz-seeds/<name>/       remade each run by fuzz/make_seeds.py (<name>: the target without fuzz_)
#   findings   build-asan/fuzz-findings/<target>/  crash-*, leak-*, timeout-*, oom-* inputs
#   logs       build-asan/fuzz-logs/<target>.log
# Exit status: 0 when no target found anything, 1 otherwise.
# Environment: WM_ASAN_JOBS (build jobs, default: every core), WM_FUZZ_PLUGIN_DIR (the plugins
# fuzz_config validates against, default build/plugins), WM_ASAN_BUILD (the build folder).
set -euo pipefail

seconds=${1:-}
if [[ ! $seconds =~ ^[0-9]+$ ]] || (( seconds < 1 )); then
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 2
fi
shift
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WM_ASAN_BUILD:-$root/build-asan}
targets=("$@")
(( ${#targets[@]} )) || targets=(fuzz_config fuzz_tar fuzz_frame_records)

#---- build ----

source "$root/scripts/asan_build.sh"
wm_asan_configure "$root" "$build"
cmake --build "$build" -j "${WM_ASAN_JOBS:-$(nproc)}" --target "${targets[@]}"
python3 "$root/fuzz/make_seeds.py" "$build/fuzz-seeds"

#---- fuzz ----

# third-party leaks only (LibTorch, OpenMP); never wmhost code
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export OMP_NUM_THREADS=1

summary=()
failed=0
for target in "${targets[@]}"; do
  seeds=$build/fuzz-seeds/${target#fuzz_}
  corpus=$build/fuzz-corpus/$target
  findings=$build/fuzz-findings/$target
  log=$build/fuzz-logs/$target.log
  mkdir -p "$corpus" "$findings" "$(dirname "$log")"
  : >"$log"
  before=$(find "$findings" -type f | wc -l)
  echo "fuzzing $target for ${seconds}s (log: $log)"
  start=$(date +%s)
  deadline=$(( start + seconds ))
  execs=0 stops=0
  # a finding stops libFuzzer: its input is saved and fuzzing starts again for the time left
  # (in-process runs are about 3x faster than fork mode); after 10 stops the rest is skipped
  while (( stops < 10 )); do
    left=$(( deadline - $(date +%s) ))
    (( left > 0 )) || break  # -max_total_time=0 would mean no limit
    part=$build/fuzz-logs/$target.part
    status=0
    (cd "$findings" && "$build/fuzz/$target" -max_total_time="$left" \
       -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/" \
       "$corpus" "$seeds") >"$part" 2>&1 || status=$?
    cat "$part" >>"$log"
    runs=$(sed -nE 's/^stat::number_of_executed_units: ([0-9]+).*/\1/p' "$part" | tail -1)
    [[ -n $runs ]] || runs=$(sed -nE 's/^#([0-9]+)[[:space:]].*/\1/p' "$part" | tail -1)
    execs=$(( execs + ${runs:-0} ))
    rm -f "$part"
    (( status == 0 )) && break
    stops=$(( stops + 1 ))
  done
  elapsed=$(( $(date +%s) - start ))
  new=$(( $(find "$findings" -type f | wc -l) - before ))
  corpus_size=$(find "$corpus" -type f | wc -l)
  if (( execs == 0 )); then
    result="did not run (see the log)"
    failed=1
  elif (( new > 0 || stops > 0 )); then
    result="FOUND $new input(s) in $findings ($(cd "$findings" && ls -t | head -n "$new" |
      sed -E 's/-.*//' | sort | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}'))"
    failed=1
  else
    result="ok"
  fi
  rate=$(( execs / (elapsed > 0 ? elapsed : 1) ))
  summary+=("$(printf '%-20s %8s %12s %9s %8s  %s' "$target" "$elapsed" "$execs" "$rate" \
    "$corpus_size" "$result")")
done

echo
printf '%-20s %8s %12s %9s %8s  %s\n' target seconds executions "exec/s" corpus result
printf '%s\n' "${summary[@]}"
exit $failed
