# Sourced by scripts/sanitize.sh and scripts/fuzz.sh: the one instrumented build both use.
#
# build-asan/ (WM_ASAN_BUILD overrides): clang, every library and test compiled with
# AddressSanitizer + UndefinedBehaviorSanitizer (errors abort) and libFuzzer's coverage
# instrumentation (fuzzer-no-link: unused outside a fuzz target), so the
# unit tests and the fuzz targets link the same objects and the folder is compiled once.
# Plugins are not built here; LibTorch and the other system libraries are not instrumented.
# vptr checks are off: plugins are built with hidden visibility, and their type info is not
# unique across libraries.
WM_ASAN_FLAGS="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize=vptr -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

# wm_asan_configure SOURCE_DIR BUILD_DIR: configures (once) the folder with unit tests and fuzz targets
wm_asan_configure() {
  local source=$1 build=$2
  if [[ -f $build/build.ninja ]] && grep -q '^WM_FUZZ:BOOL=ON' "$build/CMakeCache.txt" &&
     grep -q '^WM_UNIT_TESTS_ONLY:BOOL=ON' "$build/CMakeCache.txt"; then
    return 0
  fi
  if ! command -v clang++ >/dev/null; then
    echo "error: the sanitizer build needs clang++ (Debian: apt install clang)" >&2
    return 1
  fi
  cmake -S "$source" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWM_FUZZ=ON -DWM_BUILD_TESTS=ON -DWM_UNIT_TESTS_ONLY=ON \
    -DWM_BUILD_BENCH=OFF "-DCMAKE_CXX_FLAGS=$WM_ASAN_FLAGS" \
    "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" \
    "-DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=address,undefined" >/dev/null
}
