#!/usr/bin/env bash
# G1-G4 of docs/distributed.md on a GPU machine: wmhost under torchrun on 1, 2, 4, 8 GPUs beside
# PyTorch DDP (Python) with the same network and per-GPU batch (weak scaling), the bucket-size
# sweep, start-up time, and a killed rank recovered by --max-restarts. Prints a table; asserts
# nothing. Needs a CUDA build of wmhost (scripts/build_torch2.sh) and torchrun on PATH.
#   bash bench/distributed/gpu_scaling.sh [WMHOST] [PER_GPU_BATCH] [BACKEND]
# BACKEND is wmhost's distributed.backend: nccl (the default; `wmhost --version` must list it)
# or gloo (what the ranks cost without NCCL); DDP always uses NCCL.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wmhost=${1:-$here/../../build-torch2/wmhost}
per_gpu=${2:-32}
backend=${3:-nccl}
gpus=$(nvidia-smi -L | wc -l)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "$(nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1) x $gpus; per-GPU batch $per_gpu;" \
     "wmhost over $backend ($("$wmhost" --version | grep distributed))"

experiment() {  # world, bucket_mb -> exp.yaml for that world size
  cat > "$work/exp.yaml" <<YAML
experiment: gpu_scaling
seed: 0
device: cuda
distributed: {backend: $backend, bucket_mb: $2}
data:
  train: {plugin: synthetic, params: {samples: 20000, frames: 8, size: 32}, workers: 4}
model:
  plugin: two_stream
  params: {image_size: 32, patch: 4, dim: 96, depth: 4, heads: 4, change_dim: 16, decoder_dim: 96,
           decoder_depth: 2, max_gap: 3}
procedure:
  - train: {steps: 210, batch_size: $(($1 * per_gpu)), log_every: 10, checkpoint_every: 100,
            tensorboard: false, resume: true}
YAML
}

rate() {  # the median samples/s after the first two windows of a run folder
  python3 -c "import json,statistics,sys; r=[l['samples_per_s'] for l in map(json.loads, open(sys.argv[1])) if 'samples_per_s' in l]; print(round(statistics.median(r[2:]),1))" "$1/metrics.jsonl"
}

printf '%-6s %-10s %-16s %-16s %-8s\n' gpus bucket_mb "wmhost samples/s" "DDP samples/s" "E(N) wmhost/DDP"
declare -A base
for n in 1 2 4 8; do
  [ "$n" -le "$gpus" ] || break
  for bucket in 1 5 25 100; do
    [ "$bucket" = 25 ] || [ "$n" = "$gpus" ] || continue  # the bucket sweep (G3) at the largest N only
    experiment "$n" "$bucket"
    start=$(date +%s.%N)
    torchrun --nproc-per-node "$n" --no-python "$wmhost" run "$work/exp.yaml" --out "$work/w$n-$bucket" > "$work/w$n-$bucket.log" 2>&1
    ours=$(rate "$work/w$n-$bucket")
    theirs=$(torchrun --nproc-per-node "$n" "$here/ddp_twin_gpu.py" --per-gpu "$per_gpu" --bucket-mb "$bucket" | tail -n 1)
    [ "$n" = 1 ] && base[w]=$ours base[p]=$theirs
    eff=$(python3 -c "print('%.2f / %.2f' % ($ours / ($n * ${base[w]}), $theirs / ($n * ${base[p]})))")
    printf '%-6s %-10s %-16s %-16s %-8s\n' "$n" "$bucket" "$ours" "$theirs" "$eff"
  done
done
# G4: launch to first step, and a killed rank under --max-restarts 1 finishing the run
n=$gpus; experiment "$n" 25
grep -m1 -h "train: batch_size" "$work/w$n-25/log.txt" || true
torchrun --nproc-per-node "$n" --max-restarts 1 --no-python "$wmhost" run "$work/exp.yaml" --out "$work/restart" > "$work/restart.log" 2>&1 &
runner=$!
while [ ! -e "$work/restart/checkpoints/step-00000100.pt" ]; do sleep 1; done
pkill -9 -f "wmhost run $work/exp.yaml --out $work/restart" -n || true
wait "$runner" && echo "G4: a killed rank was restarted and the run finished: $(rate "$work/restart") samples/s"
