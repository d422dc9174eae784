#!/usr/bin/env bash
# The CI miniature of configs/learning_curve.yaml (spec D10): the shipped config on 3 subset
# sizes and 1 seed (about a minute on 2 cores) prints its power-law table and the seed's table;
# the same analysis on a sweep truncated to one point makes `fit` refuse.
# Usage: learning_curve_check.sh WMHOST OUT_DIR
set -euo pipefail
wmhost=$1 out=$2
cd "$(dirname "$0")/.."
rm -rf "$out"
OMP_WAIT_POLICY=PASSIVE "$wmhost" run configs/learning_curve.yaml \
  'sweep={data.train.subset: [50, 200, 800], seed: [0]}' --out "$out" > "$out.log" 2>&1 ||
  { tail -40 "$out.log"; echo "learning_curve: the miniature sweep failed"; exit 1; }
fail() { echo "learning_curve: $*"; exit 1; }
[ "$(grep -c ',ok,' "$out/summary.csv")" = 3 ] || fail "expected 3 ok points in $out/summary.csv"
for file in learning_curve.md learning_curve.svg learning_curve.json seed_table.md aggregate.md; do
  [ -s "$out/analysis/$file" ] || fail "$out/analysis/$file is missing"
done
# the power-law row: a, b, c with their errors, R² and the thresholds
grep -Eq '^\| power_law \| [^|]+ ± [^|]+ \| [^|]+ ± [^|]+ \| [^|]+ ± [^|]+ \|' "$out/analysis/learning_curve.md" ||
  fail "no power_law row in analysis/learning_curve.md"
grep -q 'N80' "$out/analysis/learning_curve.md" || fail "no N80 in analysis/learning_curve.md"
# the seed's table, one row per N, "—" for the metrics without weights
grep -q '^| N | runs | LPIPS | FVD | Action Acc | hours |' "$out/analysis/seed_table.md" ||
  fail "analysis/seed_table.md lacks the seed's header"
for n in 50 200 800; do
  grep -q "^| $n | 1 | — | — | " "$out/analysis/seed_table.md" || fail "seed_table.md has no row for N = $n"
done
grep -q 'power_law' "$out.log" || fail "wmhost run did not print the fit table"
# truncated to one point, the config's fit refuses (and says why)
one="$out-one"
rm -rf "$one" && mkdir -p "$one"
head -2 "$out/summary.csv" > "$one/summary.csv"
status=0
"$wmhost" analyze "$one" --config configs/learning_curve.yaml > "$one.log" 2>&1 || status=$?
[ "$status" = 1 ] || fail "analyze on one point exited $status, expected 1"
grep -q 'needs ≥ 3 distinct N (train\[train\]/train_size), got 1' "$one.log" ||
  { cat "$one.log"; fail "fit on one point did not refuse with 'needs ≥ 3 distinct N'"; }
echo "learning curve ok"
