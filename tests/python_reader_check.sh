#!/usr/bin/env bash
# python/wmhost reads a run: a tiny experiment (train 20 steps with two
# checkpoints, evaluate, collect 3 disc_push episodes into 2 shards, about 20 seconds), then
# tests/python/test_reader.py reads its config, metrics, tables, checkpoints and shards with
# Debian's python3 and PYTHONPATH=python, the package as it is in the tree.
# Usage: python_reader_check.sh WMHOST PYTHON OUT_DIR
set -euo pipefail
wmhost=$1 python=$2 out=$3
root="$(cd "$(dirname "$0")/.." && pwd)"
rm -rf "$out" && mkdir -p "$out"
cat > "$out/tiny.yaml" <<'YAML'
experiment: python_reader
seed: 0
threads: 1
data:
  train: {plugin: synthetic, split: train, workers: 0, params: {samples: 64, frames: 4, size: 16}}
  val: {plugin: synthetic, split: val, workers: 0, params: {samples: 64, frames: 4, size: 16}}
model:
  plugin: two_stream
  params: {image_size: 16, patch: 8, dim: 16, depth: 1, heads: 2, change_dim: 8, decoder_dim: 16,
           decoder_depth: 1, max_gap: 1}
env: {plugin: disc_push, params: {size: 16}}
metrics: [{plugin: psnr}]
procedure:
  - train: {data: train, steps: 20, batch_size: 8, log_every: 5, checkpoint_every: 10}
  - evaluate: {data: val, batch_size: 16, preview: 0}
  - collect: {episodes: 3, episodes_per_shard: 2, max_steps: 5, policy: random, frame_key: video,
              crf: 0}
YAML
OMP_NUM_THREADS=1 "$wmhost" run "$out/tiny.yaml" --out "$out/run" > "$out/run.log" 2>&1 ||
  { tail -20 "$out/run.log"; echo "python reader: the tiny run failed"; exit 1; }
cd "$out"
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$root/python" OMP_NUM_THREADS=1 WMHOST_TEST_RUN="$out/run" \
  "$python" "$root/tests/python/test_reader.py" -v 2>&1
echo "python reader ok"
