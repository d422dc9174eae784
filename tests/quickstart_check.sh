#!/usr/bin/env bash
# Runs configs/quickstart.yaml as shipped and checks its promise: at every evaluated gap the model
# beats copying the last frame in both MSE and per-frame PSNR, and the run wrote what the README
# says it writes. Usage: quickstart_check.sh WMHOST PYTHON OUT_DIR
set -euo pipefail
wmhost=$1 python=$2 out=$3
cd "$(dirname "$0")/.."
rm -rf "$out"
OMP_WAIT_POLICY=PASSIVE "$wmhost" run configs/quickstart.yaml --out "$out"
for file in config.yaml log.txt metrics.jsonl status.json loss.svg preview_val_gap1.gif; do
  [ -s "$out/$file" ] || { echo "quickstart: $out/$file is missing"; exit 1; }
done
"$python" - "$out/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
scores = [r for r in rows if r.get("procedure") == "evaluate"][-1]
gaps = sorted({k.split("/")[0] for k in scores if k.startswith("gap")})
failed = []
for gap in gaps:
    for metric, better in (("psnr/mse", min), ("psnr", max)):
        model, copy = scores[f"{gap}/{metric}"], scores[f"baseline/{gap}/{metric}"]
        print(f"{gap} {metric}: model {model:.6g}, copy-last {copy:.6g}")
        if better(model, copy) != model or model == copy:
            failed.append(f"{gap} {metric}")
if not gaps or failed:
    sys.exit("quickstart does not beat copy-last: " + ", ".join(failed or ["no gaps evaluated"]))
print("quickstart beats copy-last at", ", ".join(gaps))
PY
