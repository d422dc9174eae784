#!/usr/bin/env bash
# Builds wmhost against PyPI's PyTorch 2.x (its wheel carries LibTorch, CUDA build) in
# ./build-torch2 and runs the test suite there on CPU, beside the Debian build (./build, LibTorch
# 1.13), which stays the default and is left alone.
#
# usage: bash scripts/build_torch2.sh [ctest arguments...]     e.g. -R checkpoint
#   WM_TORCH2_VENV     the virtual environment holding torch (default build-torch2/venv; made with
#                      `python3 -m venv` when missing, about 5.5 GB with the CUDA libraries)
#   WM_TORCH2_VERSION  the torch version to install, e.g. 2.15.0 (default: the newest on PyPI, or
#                      the one the virtual environment already has)
#   WM_TORCH2_BUILD    the build folder (default build-torch2)
#   WM_TORCH2_TESTS    0: build only, no ctest
#   CUDA_HOME          the CUDA toolkit (default: nvcc on PATH, else /usr/local/cuda)
#   CMAKE_BUILD_PARALLEL_LEVEL  compile jobs (default: every core)
# Needs the Debian packages of scripts/setup.sh (run first, as scripts/test.sh does), python3
# with venv and pip (Debian: python3-venv), and the CUDA toolkit: the wheel's TorchConfig.cmake
# enables CMake's CUDA language and looks for nvcc and the CUDA runtime even for a CPU-only run.
# ccache is used when installed, through the top CMakeLists.txt (with its PCH settings; passing
# -DCMAKE_CXX_COMPILER_LAUNCHER=ccache instead would drop them).
set -euo pipefail
cd "$(dirname "$0")/.."

# tests that run in the Debian build (scripts/test.sh) only: the quickstart check (~4 minutes),
# the four out-of-tree template builds (1-2 minutes each, a second install and compile of the SDK)
# and the study miniatures (~1 minute each) exercise the host's training and study plumbing,
# which the unit tests of this build cover against LibTorch 2.x; keeping them out keeps .ci/run
# inside its time
long_tests='^(quickstart_beats_copy_last|sdk_template_.*_builds_out_of_tree|.*_miniature)$'

build_dir=${WM_TORCH2_BUILD:-build-torch2}
venv=${WM_TORCH2_VENV:-$build_dir/venv}
version=${WM_TORCH2_VERSION:-}
jobs=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}

# tools
for tool in cmake ninja python3; do
  command -v "$tool" > /dev/null || {
    echo "build_torch2: $tool not found (Debian: bash scripts/setup.sh)" >&2; exit 1; }
done
cuda_home=${CUDA_HOME:-}
if [ -z "$cuda_home" ]; then
  if command -v nvcc > /dev/null; then
    cuda_home=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")
  else
    cuda_home=/usr/local/cuda
  fi
fi
if [ ! -x "$cuda_home/bin/nvcc" ]; then
  echo "build_torch2: no nvcc in $cuda_home/bin: PyPI's torch is a CUDA build, and its CMake" \
       "files need the CUDA toolkit (nvcc, runtime headers) even for CPU use; install the CUDA" \
       "toolkit or set CUDA_HOME" >&2
  exit 1
fi
export PATH="$cuda_home/bin:$PATH"

# the virtual environment and torch
if [ ! -x "$venv/bin/python" ]; then
  python3 -c 'import venv, ensurepip' 2> /dev/null || {
    echo "build_torch2: python3 cannot make a virtual environment (Debian: apt install python3-venv)" >&2
    exit 1; }
  echo "build_torch2: making the virtual environment $venv"
  python3 -m venv "$venv"
fi
have=$("$venv/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])' 2> /dev/null || true)
if [ -z "$have" ] || { [ -n "$version" ] && [ "$have" != "$version" ]; }; then
  echo "build_torch2: installing torch${version:+ $version} into $venv${have:+ (it has $have)}"
  start=$(date +%s)
  "$venv/bin/pip" install --quiet "torch${version:+==$version}" numpy
  echo "build_torch2: torch installed in $(( $(date +%s) - start ))s"
fi
torch_cmake=$("$venv/bin/python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
read -r torch_version torch_cuda < <("$venv/bin/python" -c \
  'import torch; print(torch.__version__, torch.version.cuda or "none")')
echo "build_torch2: torch $torch_version (CUDA $torch_cuda), CUDA toolkit $cuda_home," \
     "CMake files in $torch_cmake"

# configure: LibTorch from the wheel (wm_dependencies.cmake pins its libraries over Debian's)
if [ ! -f "$build_dir/CMakeCache.txt" ] || ! grep -qF "$torch_cmake" "$build_dir/CMakeCache.txt"; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_PREFIX_PATH=$torch_cmake" "-DTorch_DIR=$torch_cmake/Torch" \
    "-DCaffe2_DIR=$torch_cmake/Caffe2" \
    "-DCMAKE_CUDA_COMPILER=$cuda_home/bin/nvcc" "-DCUDAToolkit_ROOT=$cuda_home" \
    "-DCUDA_TOOLKIT_ROOT_DIR=$cuda_home" "-DWM_TORCH_PYTHON=$(cd "$venv" && pwd)/bin/python"
fi

# build
start=$(date +%s)
cmake --build "$build_dir" -j "$jobs"
echo "build_torch2: built in $(( $(date +%s) - start ))s ($build_dir, torch $torch_version)"

# test, on CPU
if [ "${WM_TORCH2_TESTS:-1}" = 0 ]; then
  exit 0
fi
echo "build_torch2: ctest without the long end-to-end tests (-E '$long_tests')"
ctest --test-dir "$build_dir" -j "$jobs" --output-on-failure --timeout 1200 -E "$long_tests" "$@"
