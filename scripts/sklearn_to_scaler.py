#!/usr/bin/env python3
"""scikit-learn StandardScaler pickle (joblib) -> wmhost action scaler (.yaml or .json).

    scripts/sklearn_to_scaler.py vpt_action_scaler.pkl action_scaler.yaml [--names a,b,c,d]

Names come from --names, else the pickle's `wm_names` (written by scaler_to_sklearn.py) or
`feature_names_in_`, else the seed's four dimensions when there are four, else x0, x1, ...
The std written is the pickle's scale_ (a zero-variance feature has scale_ 1 in sklearn; wmhost
divides a zero std by 1 too, so apply() agrees either way). Needs python3-sklearn.
"""
import argparse
import json

import joblib
import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pickle")
    parser.add_argument("output", help="a .yaml, .yml or .json file")
    parser.add_argument("--names", help="comma-separated feature names")
    args = parser.parse_args()
    scaler = joblib.load(args.pickle)
    if not hasattr(scaler, "mean_") or not hasattr(scaler, "scale_"):
        raise SystemExit(f"{args.pickle}: not a fitted StandardScaler (no mean_/scale_)")
    mean = np.asarray(scaler.mean_, dtype=np.float64)
    std = np.asarray(scaler.scale_, dtype=np.float64)
    if args.names:
        names = [n.strip() for n in args.names.split(",") if n.strip()]
    elif getattr(scaler, "wm_names", None):
        names = list(scaler.wm_names)
    elif hasattr(scaler, "feature_names_in_"):
        names = [str(n) for n in scaler.feature_names_in_]
    elif mean.size == 4:
        names = ["mouse.dx", "mouse.dy", "yaw_diff", "pitch_diff"]
    else:
        names = [f"x{i}" for i in range(mean.size)]
    if len(names) != mean.size:
        raise SystemExit(f"{len(names)} names for {mean.size} features")
    count = int(np.max(getattr(scaler, "n_samples_seen_", 0)))
    converged = bool(getattr(scaler, "wm_converged", False))
    if args.output.endswith(".json"):
        doc = {"names": names, "mean": [float(v) for v in mean], "std": [float(v) for v in std],
               "count": count, "converged": converged}
        text = json.dumps(doc, indent=2) + "\n"
    else:
        fmt = lambda values: "[" + ", ".join(repr(float(v)) for v in values) + "]"
        text = (f"names: [{', '.join(json.dumps(n) for n in names)}]\n"
                f"mean: {fmt(mean)}\nstd: {fmt(std)}\ncount: {count}\n"
                f"converged: {'true' if converged else 'false'}\n")
    with open(args.output, "w") as f:
        f.write(text)
    print(f"wrote {args.output}: {mean.size} features ({', '.join(names)})")


if __name__ == "__main__":
    main()
