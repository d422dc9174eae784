#!/usr/bin/env bash
# `wmhost score` against `evaluate` on the same frames. Three lossless clips
# of 9 frames (ffmpeg's testsrc2, FFV1 RGB, so decoding returns exactly the frames encoded) are
# scored two ways: `evaluate` of copy_last (gap 1) over a manifest of the clips, which compares
# frames 0..7 with frames 1..8, and `wmhost score` of two folders holding exactly those frames
# (prediction: frames 0..7 as .mkv, target: frames 1..8 as .avi, paired by name). PSNR, SSIM and
# LPIPS (random AlexNet weights and heads written by Python's torch, as test_lpips.cpp does) must
# agree; a missing name, a frame-count and a size mismatch must fail naming the pair.
# Usage: score_check.sh WMHOST PYTHON OUT_DIR
set -euo pipefail
wmhost=$1 python=$2 out=$3
fail() { echo "score: $*"; exit 1; }
rm -rf "$out" && mkdir -p "$out/src" "$out/pred" "$out/tgt"
ff() { ffmpeg -nostdin -v error -y "$@"; }
for k in 0 1 2; do
  # clip k starts k seconds into the pattern: different content per clip
  ff -f lavfi -i "testsrc2=size=64x48:rate=10" -vf "trim=start=$k,setpts=PTS-STARTPTS" \
     -frames:v 9 -c:v ffv1 -pix_fmt bgr0 "$out/src/clip$k.mkv"
  ff -i "$out/src/clip$k.mkv" -vf "trim=start_frame=0:end_frame=8,setpts=PTS-STARTPTS" \
     -c:v ffv1 -pix_fmt bgr0 "$out/pred/clip$k.mkv"
  ff -i "$out/src/clip$k.mkv" -vf "trim=start_frame=1:end_frame=9,setpts=PTS-STARTPTS" \
     -c:v ffv1 -pix_fmt bgr0 "$out/tgt/clip$k.avi"
  echo "clip$k.mkv,0" >> "$out/src/list.csv"
done

# LPIPS weights: torchvision's AlexNet layout, random, and random non-negative heads
OMP_NUM_THREADS=1 "$python" - "$out" <<'PY'
import sys, torch, torchvision
torch.manual_seed(0)
model = torchvision.models.alexnet()
torch.save(dict(model.state_dict()), f"{sys.argv[1]}/alex_backbone.pth")
channels = [64, 192, 384, 256, 256]
torch.save({f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate(channels)},
           f"{sys.argv[1]}/alex.pth")
PY
lpips="{plugin: lpips, params: {backbone_weights: $out/alex_backbone.pth, head_weights: $out/alex.pth}}"

cat > "$out/evaluate.yaml" <<YAML
experiment: score_reference
seed: 0
threads: 1
data:
  clips: {plugin: manifest, workers: 0, params: {csv: src/list.csv, frames: 9, threads: 1}}
model: {plugin: copy_last, params: {gap: 1}}
metrics: [{plugin: psnr}, {plugin: ssim}, $lpips]
procedure:
  - evaluate: {data: clips, batch_size: 2, preview: 0}
YAML
"$wmhost" run "$out/evaluate.yaml" --out "$out/evaluate" > "$out/evaluate.log" 2>&1 ||
  { tail -20 "$out/evaluate.log"; fail "the evaluate run failed"; }

# lpips as a whole entry; an override adds a parameter (`+`: the key is new) to it
"$wmhost" score --prediction "$out/pred" --target "$out/tgt" --metric psnr --metric ssim \
  --metric "{plugin: lpips, params: {backbone_weights: $out/alex_backbone.pth}}" \
  "+metrics.2.params.head_weights=$out/alex.pth" threads=1 --out "$out/score" > "$out/score.log" 2>&1 ||
  { tail -20 "$out/score.log"; fail "wmhost score failed"; }
grep -q '^| psnr | ' "$out/score.log" || fail "wmhost score did not print its table"

# the two tables agree (PSNR and SSIM to 1e-9 relative, LPIPS's float32 network to 1e-6)
"$python" - "$out/evaluate/evaluate_clips.csv" "$out/score/score.csv" <<'PY' || fail "values differ"
import csv, sys
read = lambda path: {row["metric"]: float(row["value"]) for row in csv.DictReader(open(path))}
evaluate, score = read(sys.argv[1]), read(sys.argv[2])
assert score["samples"] == evaluate["samples"] == 3, (score["samples"], evaluate["samples"])
assert score["frames"] == 24, score["frames"]
for key, tolerance in (("psnr", 1e-9), ("psnr/mse", 1e-9), ("ssim", 1e-9), ("lpips", 1e-6)):
    a, b = evaluate[key], score[key]
    print(f"{key}: evaluate {a!r} score {b!r} difference {abs(a - b):.3g}")
    assert abs(a - b) <= tolerance * max(1.0, abs(a)), key
assert 10 < evaluate["psnr"] < 60 and evaluate["lpips"] > 0, evaluate
# and PSNR from the files by PyAV and numpy, outside wmhost: per frame, then averaged
import glob, os, av, numpy as np
folder = os.path.dirname(os.path.dirname(sys.argv[2]))
decode = lambda path: np.stack([f.to_ndarray(format="rgb24") for f in av.open(path).decode(video=0)])
mse = []
for k in range(3):
    a = decode(f"{folder}/pred/clip{k}.mkv").astype(np.float64) / 255
    b = decode(f"{folder}/tgt/clip{k}.avi").astype(np.float64) / 255
    mse += list(((a - b) ** 2).reshape(len(a), -1).mean(1))
psnr = float(np.mean(10 * np.log10(1 / np.array(mse))))
print(f"psnr by numpy {psnr!r}")
assert abs(psnr - score["psnr"]) < 1e-8 * psnr, (psnr, score["psnr"])
assert abs(float(np.mean(mse)) - score["psnr/mse"]) < 1e-8, (np.mean(mse), score["psnr/mse"])
PY

# a name on one side only: an error naming the first unmatched file
mkdir -p "$out/tgt_missing" && cp "$out/tgt/"clip*.avi "$out/tgt_missing/" && rm "$out/tgt_missing/clip1.avi"
status=0
"$wmhost" score --prediction "$out/pred" --target "$out/tgt_missing" -n > "$out/missing.log" 2>&1 || status=$?
[ "$status" = 2 ] || { cat "$out/missing.log"; fail "a missing target exited $status, expected 2"; }
grep -q "prediction $out/pred/clip1.mkv has no target named 'clip1'" "$out/missing.log" ||
  { cat "$out/missing.log"; fail "a missing target was not named"; }

# one name twice on a side: both files named
mkdir -p "$out/pred_twice" && cp "$out/pred/"clip*.mkv "$out/pred_twice/" && cp "$out/tgt/clip2.avi" "$out/pred_twice/"
status=0
"$wmhost" score --prediction "$out/pred_twice" --target "$out/tgt" -n > "$out/twice.log" 2>&1 || status=$?
[ "$status" = 2 ] || { cat "$out/twice.log"; fail "a name used twice exited $status, expected 2"; }
grep -q "prediction files $out/pred_twice/clip2.avi and $out/pred_twice/clip2.mkv share the name 'clip2'" \
  "$out/twice.log" || { cat "$out/twice.log"; fail "a name used twice was not named"; }

# frame counts that differ, then frame sizes that differ: the pair and both files are named
mkdir -p "$out/tgt_short" "$out/tgt_small"
cp "$out/tgt/"clip*.avi "$out/tgt_short/" && cp "$out/tgt/"clip*.avi "$out/tgt_small/"
ff -i "$out/src/clip2.mkv" -frames:v 7 -c:v ffv1 -pix_fmt bgr0 "$out/tgt_short/clip2.avi"
ff -i "$out/tgt/clip0.avi" -vf scale=32:24 -c:v ffv1 -pix_fmt bgr0 "$out/tgt_small/clip0.avi"
for case in short small; do
  status=0
  "$wmhost" score --prediction "$out/pred" --target "$out/tgt_$case" threads=1 \
    --out "$out/score_$case" > "$out/$case.log" 2>&1 || status=$?
  [ "$status" = 1 ] || { cat "$out/$case.log"; fail "tgt_$case exited $status, expected 1"; }
done
grep -q "pair 'clip2' differs in frame count: prediction $out/pred/clip2.mkv and target $out/tgt_short/clip2.avi hold 8 and 7 frames" \
  "$out/short.log" || { cat "$out/short.log"; fail "a frame-count mismatch was not named"; }
grep -q "pair 'clip0' differs in frame size: .* are 64x48 and 32x24" "$out/small.log" ||
  { cat "$out/small.log"; fail "a size mismatch was not named"; }
echo "score ok"
