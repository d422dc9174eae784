#!/usr/bin/env bash
# Installs the SDK from the build tree into a staging prefix, builds sdk/template out of tree
# against it with find_package(wmsdk), and checks that wmhost loads the result.
set -euo pipefail
build_dir=$1
wmhost=$2
stage=$build_dir/template_test/stage
work=$build_dir/template_test/build
rm -rf "$stage" "$work"
cmake --install "$build_dir" --prefix "$stage" > /dev/null
# no ccache here: it served an object compiled against the previous install's headers through
# the template's precompiled header (seen with ccache 4.8), which is exactly what this test checks
cmake -S "$stage/share/wmhost/template" -B "$work" -DCMAKE_PREFIX_PATH="$stage" > "$work.configure.log" 2>&1 \
  || { cat "$work.configure.log"; exit 1; }
cmake --build "$work" -j 2
"$wmhost" describe mean_abs_error --plugin-path "$work" | tee "$work.describe.txt"
grep -q "mean_abs_error (metric plugin" "$work.describe.txt"
echo "template build ok"
