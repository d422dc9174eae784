#!/usr/bin/env bash
# The newcomer's first command: install dependencies, build wmhost and its plugins, and run the
# quickstart experiment. Prints where the run's outputs are.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh wmhost wm_plugins
./build/wmhost run configs/quickstart.yaml "$@"
