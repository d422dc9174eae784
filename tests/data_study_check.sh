#!/usr/bin/env bash
# The CI miniature of configs/data_sources.yaml and configs/min_viable.yaml (spec D10): the shipped
# configs on tiny subsets, 1 seed, 1 epoch (about a minute on 2 cores) still run end to end over
# the three stand-in domains and print their tables: the 3x3 train x test matrix with its OOD drop
# column, and the minimum-N table with the minimal point's config copied beside it.
# Usage: data_study_check.sh WMHOST OUT_DIR
set -euo pipefail
wmhost=$1 out=$2
cd "$(dirname "$0")/.."
fail() { echo "data study: $*"; exit 1; }
rm -rf "$out-sources" "$out-minimum"

# data_sources: each domain trains on 40 (crosstask-like 16) clips and is scored on all three
OMP_WAIT_POLICY=PASSIVE "$wmhost" run configs/data_sources.yaml global_vars.clips=300 \
  procedure.0.train.epochs=1 \
  'sweep=[{global_vars.domain: ["${global_vars.stand_ins.ssv2}"], data.train.subset: [40], seed: [0]},
          {global_vars.domain: ["${global_vars.stand_ins.coin}"], data.train.subset: [40], seed: [0]},
          {global_vars.domain: ["${global_vars.stand_ins.crosstask}"], data.train.subset: [16], seed: [0]}]' \
  --out "$out-sources" > "$out-sources.log" 2>&1 ||
  { tail -40 "$out-sources.log"; fail "the data_sources miniature failed"; }
[ "$(grep -c ',ok,' "$out-sources/summary.csv")" = 3 ] || fail "expected 3 ok points in $out-sources/summary.csv"
for matrix in data_sources data_sources_action; do
  md="$out-sources/analysis/$matrix.md"
  grep -q '^| global_vars.domain \\ test | ssv2 | coin | crosstask | runs | OOD drop % |' "$md" ||
    fail "$md lacks the 3x3 header"
  for domain in ssv2 coin crosstask; do  # one row per training domain, its own test set in bold
    grep -Eq "^\| $domain \|.*\*\*[0-9.]+\*\*" "$md" || fail "$md has no row for $domain with a bold diagonal"
  done
done
grep -q 'OOD drop' "$out-sources.log" || fail "wmhost run did not print the matrix"

# min_viable: 3 nested sizes, 1 seed; some point is reported, met or not
OMP_WAIT_POLICY=PASSIVE "$wmhost" run configs/min_viable.yaml global_vars.clips=400 \
  procedure.0.train.epochs=1 'sweep={data.train.subset: [20, 40, 80], seed: [0]}' \
  --out "$out-minimum" > "$out-minimum.log" 2>&1 ||
  { tail -40 "$out-minimum.log"; fail "the min_viable miniature failed"; }
md="$out-minimum/analysis/min_viable.md"
for n in 20 40 80; do grep -q "^| $n | 1 |" "$md" || fail "$md has no row for N = $n"; done
grep -Eq '^\*\*(minimum viable train\[train\]/train_size: (20|40|80)|no train\[train\]/train_size meets every criterion)' "$md" ||
  fail "$md states no verdict"
if grep -q '^\*\*minimum viable' "$md"; then
  [ -s "$out-minimum/analysis/min_viable.yaml" ] || fail "min_viable.yaml was not copied"
fi
echo "data study ok"
