#!/usr/bin/env bash
# The plugin ABI number covers the contract only: in a scratch copy of the tree, editing toolbox
# headers and sources or host sources leaves the contract's hash (sdk/abi.sha256) valid, and
# editing a contract header does not.
set -euo pipefail
source_dir=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$source_dir/sdk" "$source_dir/host" "$scratch/"
cp "$source_dir/tests/abi_guard.cmake" "$scratch/"
guard() {
  cmake -DHEADER_DIR="$scratch/sdk/include/wm" -DHASH_FILE="$scratch/sdk/abi.sha256" \
        -P "$scratch/abi_guard.cmake" > /dev/null 2>&1
}
guard || { echo "the unedited contract does not match sdk/abi.sha256"; exit 1; }
for file in sdk/nn/include/wm/nn/transformer.h sdk/io/include/wm/io/json.h sdk/video/include/wm/video/video.h \
            sdk/sim/include/wm/sim/disc_world.h sdk/io/src/tar.cpp host/engine/loader.h host/run.cpp; do
  echo "// an edit" >> "$scratch/$file"
  guard || { echo "editing $file changed the plugin ABI hash"; exit 1; }
done
echo "// an edit" >> "$scratch/sdk/include/wm/model.h"
if guard; then echo "editing the contract (wm/model.h) left the ABI hash unchanged"; exit 1; fi
echo "abi scope ok"
