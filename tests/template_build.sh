#!/usr/bin/env bash
# Installs wmhost from the build tree into a staging prefix, then for each template under
# share/wmhost/templates: builds it out of tree with find_package(wmsdk), runs its own tests,
# runs `wmhost check` on it, installs it into the prefix and checks that the installed wmhost
# lists it with no --plugin-path.
set -euo pipefail
build_dir=$1
kinds=${2:-dataset model env metric}
root=$build_dir/template_test/${kinds// /_}
stage=$root/stage
rm -rf "$root"
mkdir -p "$root"
cmake --install "$build_dir" --prefix "$stage" > /dev/null
wmhost=$stage/bin/wmhost
for kind in $kinds; do
  src=$stage/share/wmhost/templates/$kind
  work=$root/$kind
  name=$(sed -n 's/^wm_add_plugin(\([a-z_]*\) .*/\1/p' "$src/CMakeLists.txt")
  # no ccache here: it served an object compiled against the previous install's headers through
  # the template's precompiled header (seen with ccache 4.8), which is exactly what this test checks
  cmake -S "$src" -B "$work" -DCMAKE_PREFIX_PATH="$stage" > "$work.configure.log" 2>&1 \
    || { cat "$work.configure.log"; exit 1; }
  cmake --build "$work" -j 2
  ctest --test-dir "$work" --output-on-failure
  "$wmhost" check "$name" --plugin-path "$work" | tee "$work.check.txt"
  grep -q "^$name: every check passed" "$work.check.txt"
  cmake --install "$work" --prefix "$stage" > /dev/null
  "$wmhost" list | tee "$work.list.txt"
  grep -q "^  $name " "$work.list.txt" || { echo "the installed wmhost does not list $name"; exit 1; }
  echo "template $kind ($name) ok"
done
echo "template build ok"
