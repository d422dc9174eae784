#!/usr/bin/env bash
# The CI miniatures of configs/transfer_pretrain.yaml + configs/transfer.yaml and
# configs/augmentation.yaml (spec D10): the shipped configs on a few small subsets, 1 seed and
# 1-2 epochs (about a minute on 2 cores together) write and print their tables in the shape
# the README shows; transfer.yaml without its pretrained run fails naming the folder.
# Usage: study_configs_check.sh WMHOST OUT_DIR
set -euo pipefail
wmhost=$1 out=$2
cd "$(dirname "$0")/.."
rm -rf "$out" && mkdir -p "$out"
out=$(cd "$out" && pwd)
fail() { echo "study configs: $*"; exit 1; }
run() {  # run NAME ARGS...: wmhost run, its output in $out/NAME.log
  local name=$1; shift
  OMP_WAIT_POLICY=PASSIVE "$wmhost" run "$@" --out "$out/$name" > "$out/$name.log" 2>&1 ||
    { tail -40 "$out/$name.log"; fail "wmhost run $* failed"; }
}
row() {  # row FILE REGEX WHAT: FILE has a line matching REGEX
  grep -Eq "$2" "$1" || { cat "$1"; fail "$3 (in $1)"; }
}

#---- transfer: pretrain once, then scratch vs pretrained over 3 target sizes ----
run pretrain configs/transfer_pretrain.yaml +data.train.subset=64 procedure.0.train.epochs=1
[ -s "$out/pretrain/evaluate_test.md" ] || fail "the pretraining run did not score the target test split"
run transfer configs/transfer.yaml "global_vars.pretrained=$out/pretrain" procedure.0.train.epochs=1 \
  'sweep={global_vars.init: ["${global_vars.inits.none}", "${global_vars.inits.pretrained}"], data.train.subset: [16, 32, 64], seed: [0]}'
[ "$(grep -c ',ok,' "$out/transfer/summary.csv")" = 6 ] || fail "expected 6 ok points in transfer/summary.csv"
grep -q "train: [0-9]* tensors of the model from $out/pretrain/checkpoints/" "$out/transfer/global_vars.init=pretrained,data.train.subset=16,seed=0/log.txt" ||
  fail "the pretrained points did not load the pretraining run's weights"
for file in transfer_matrix.md transfer_matrix.json transfer_matrix.csv transfer_matrix.svg transfer_action.md; do
  [ -s "$out/transfer/analysis/$file" ] || fail "analysis/$file is missing"
done
md="$out/transfer/analysis/transfer_matrix.md"
row "$md" '^\| source \| N \| scratch \| pretrained \| efficiency \| p \| negative transfer \|$' "no transfer header"
for n in 16 32 64; do
  row "$md" "^\| pretrained \| $n \| -?[0-9.e+-]+ \| -?[0-9.e+-]+ \| -?[0-9.e+-]+ \| — \| (yes|no) \|$" "no row for N = $n"
done
row "$md" '^\| pretrained \| -?[0-9.e+-]+ \(reduction (-?[0-9.e+-]+|—)\) \|$' "no matrix row"
python3 - "$out/transfer/analysis/transfer_matrix.json" <<'PY' || fail "transfer_matrix.json is malformed"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["step"] == "transfer_matrix"
assert [r["n"] for r in doc["rows"]] == [16, 32, 64], doc["rows"]
assert all(r["source"] == "pretrained" and isinstance(r["efficiency"], (int, float)) for r in doc["rows"])
assert len(doc["matrix"]) == 1 and doc["matrix"][0]["n_max"] == 64
PY
grep -q 'analysis transfer_matrix' "$out/transfer.log" || fail "wmhost run did not print the transfer table"

# without the pretrained run the sweep refuses before training, naming the folder it expected
status=0
"$wmhost" run configs/transfer.yaml "global_vars.pretrained=$out/no_such_run" --dry-run \
  > "$out/missing.log" 2>&1 || status=$?
[ "$status" != 0 ] || fail "transfer.yaml without its pretrained run was accepted"
grep -q "no checkpoint file or run folder at $out/no_such_run" "$out/missing.log" ||
  { cat "$out/missing.log"; fail "the missing pretrained run is not named"; }

#---- augmentation: a 3-point baseline curve and two presets at its middle N ----
run augmentation configs/augmentation.yaml procedure.0.train.epochs=2 \
  'sweep=[{global_vars.augment: ["${global_vars.presets.none}"], data.train.subset: [16, 32, 64], seed: [0]},
          {global_vars.augment: ["${global_vars.presets.both}", "${global_vars.presets.mixup}"], data.train.subset: [32], seed: [0]}]'
[ "$(grep -c ',ok,' "$out/augmentation/summary.csv")" = 5 ] || fail "expected 5 ok points in augmentation/summary.csv"
md="$out/augmentation/analysis/augmentation.md"
[ -s "$md" ] && [ -s "$out/augmentation/analysis/augmentation.svg" ] || fail "analysis/augmentation.{md,svg} missing"
row "$md" '^\| global_vars.augment \| N \| mean \| N_equiv \| multiplier \| > 1.5× \|$' "no multiplier header with the > 1.5× column"
for preset in both mixup; do
  row "$md" "^\| $preset \| 32 \| -?[0-9.e+-]+ \| (-?[0-9.e+-]+|—) \| (-?[0-9.e+-]+|—) \| (pass|fail) \|$" "no row for $preset"
done
[ "$(grep -c '^| none ' "$md")" = 0 ] || fail "the baseline is listed as a condition"
grep -q 'analysis augmentation' "$out/augmentation.log" || fail "wmhost run did not print the multiplier table"
echo "study configs ok"
