#!/usr/bin/env bash
# Installs dependencies, builds everything and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
cd "${WM_BUILD_DIR:-build}"
ctest -j "$(nproc)" --output-on-failure --timeout 1200
