#!/usr/bin/env python3
"""wmhost action scaler (.yaml/.json) -> scikit-learn StandardScaler pickle (joblib).

    scripts/scaler_to_sklearn.py run/action_scaler.yaml vpt_action_scaler.pkl

The pickle is what the seed's Python training stack loads: joblib.load(path).transform(x) gives
the same values as wmhost's ActionScaler::apply (population std; a zero std divides by 1).
Feature names are kept in a `wm_names` attribute. Needs python3-sklearn and python3-yaml.
"""
import json
import sys

import joblib
import numpy as np
from sklearn.preprocessing import StandardScaler


def load_scaler(path):
    with open(path) as f:
        text = f.read()
    if path.endswith(".json"):
        doc = json.loads(text)
    else:
        import yaml
        doc = yaml.safe_load(text)
    for field in ("mean", "std"):
        if field not in doc:
            sys.exit(f"{path}: no '{field}' field (is this an action scaler file?)")
    return doc


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: scaler_to_sklearn.py in.yaml out.pkl")
    source, target = sys.argv[1], sys.argv[2]
    doc = load_scaler(source)
    mean = np.asarray(doc["mean"], dtype=np.float64)
    std = np.asarray(doc["std"], dtype=np.float64)
    if mean.shape != std.shape:
        sys.exit(f"{source}: mean has {mean.size} values, std {std.size}")
    scaler = StandardScaler()
    scaler.mean_ = mean
    scaler.var_ = std * std
    # sklearn's rule: a zero variance is scaled by 1
    scaler.scale_ = np.where(std == 0, 1.0, std)
    scaler.n_samples_seen_ = np.int64(doc.get("count", 0))
    scaler.n_features_in_ = mean.size
    scaler.wm_names = list(doc.get("names", []))
    scaler.wm_converged = bool(doc.get("converged", False))
    joblib.dump(scaler, target)
    print(f"wrote {target}: StandardScaler over {mean.size} features ({', '.join(scaler.wm_names)})")


if __name__ == "__main__":
    main()
