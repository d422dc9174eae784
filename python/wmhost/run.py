"""A wmhost run folder (or a sweep's folder) read from Python.

    run = Run("runs/quickstart/20261207T061500Z")
    run.config, run.status, run.summary       # config.yaml, status.json, its summary values
    run.metrics(procedure="evaluate")          # metrics.jsonl lines
    run.table("evaluate_val")                  # evaluate_val.csv, a list of row dicts
    run.analysis("learning_curve")             # analysis/learning_curve.json (or .csv)
    run.state_dict("best")                     # model weights from checkpoints/
"""
import csv
import json
from pathlib import Path

from . import checkpoint as _checkpoint


#---- files ----

def _frame(rows, as_frame):
    """rows as they are, or as a pandas DataFrame (as_frame: True, False or None for "when
    pandas is installed")."""
    if as_frame is False:
        return rows
    try:
        import pandas
    except ImportError:
        if as_frame:
            raise ImportError("wmhost: as_frame=True needs pandas (pip install pandas, or "
                              "Debian's apt install python3-pandas)") from None
        return rows
    return pandas.DataFrame(rows)


def read_jsonl(path):
    """One dict per non-empty line; a broken line names the file and line number."""
    rows = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not a JSON object: {error}") from None
    return rows


def _number(text):
    """A CSV cell: an int or a float when it reads as one, None when empty (wmhost writes NaN
    as an empty cell), else the text."""
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_table(path, as_frame=None):
    """A CSV table wmhost wrote (RFC 4180), numbers converted; a .json table (a list of row
    dicts, or {"rows": [...]}) as it is."""
    path = Path(path)
    if path.suffix == ".json":
        with open(path, encoding="utf-8") as file:
            table = json.load(file)
        if isinstance(table, dict) and isinstance(table.get("rows"), list):
            table = table["rows"]
        return _frame(table, as_frame) if isinstance(table, list) else table
    with open(path, newline="", encoding="utf-8") as file:
        rows = [{key: _number(value) for key, value in row.items()} for row in csv.DictReader(file)]
    return _frame(rows, as_frame)


def _yaml(path):
    try:
        import yaml
    except ImportError:
        raise ImportError(f"wmhost: reading {path} needs PyYAML (pip install pyyaml, or Debian's "
                          "apt install python3-yaml)") from None
    with open(path, encoding="utf-8") as file:
        return yaml.safe_load(file)


#---- the run ----

class Run:
    """A finished (or running) run folder, or a sweep's folder (then `points` lists its runs)."""

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"wmhost: no run folder at {self.path}")
        if not any((self.path / name).exists() for name in ("config.yaml", "sweep.yaml", "summary.csv")):
            raise FileNotFoundError(f"wmhost: {self.path} is not a wmhost run (no config.yaml, "
                                    "sweep.yaml or summary.csv)")

    def __repr__(self):
        return f"wmhost.Run({str(self.path)!r})"

    @property
    def is_sweep(self):
        return (self.path / "sweep.yaml").exists() or (self.path / "summary.csv").exists()

    @property
    def config(self):
        """The fully resolved experiment (config.yaml; a sweep's sweep.yaml)."""
        name = "config.yaml" if (self.path / "config.yaml").exists() else "sweep.yaml"
        return _yaml(self.path / name)

    @property
    def status(self):
        """status.json: {"status": "ok" | "failed" | ..., "seconds": ..., "metrics": {...}}."""
        with open(self.path / "status.json", encoding="utf-8") as file:
            return json.load(file)

    def summary(self, as_frame=None):
        """A run: its summary values (status.json's "metrics", keys like "evaluate[val]/psnr").
        A sweep: summary.csv, one row per point."""
        if (self.path / "summary.csv").exists():
            return read_table(self.path / "summary.csv", as_frame)
        return dict(self.status.get("metrics", {}))

    def metrics(self, procedure=None, label=None, as_frame=None):
        """metrics.jsonl as a list of dicts (a DataFrame when pandas is installed and as_frame
        is not False), optionally only the lines of one procedure and/or step label."""
        rows = read_jsonl(self.path / "metrics.jsonl")
        if procedure is not None:
            rows = [row for row in rows if row.get("procedure") == procedure]
        if label is not None:
            rows = [row for row in rows if row.get("label") == label]
        return _frame(rows, as_frame)

    def tables(self):
        """The names of the run's own tables (evaluate_val, probe, rollout, ...)."""
        return sorted(p.stem for p in self.path.glob("*.csv"))

    def table(self, name, as_frame=None):
        """<run>/<name>.csv: evaluate_<data> (metric, value), probe, rollout, summary, ..."""
        return read_table(self.path / (name if name.endswith(".csv") else name + ".csv"), as_frame)

    def analysis(self, name=None, as_frame=None):
        """analysis/<name>.json (else .csv); without a name, the names there are."""
        folder = self.path / "analysis"
        if name is None:
            return sorted({p.stem for p in folder.glob("*") if p.suffix in (".json", ".csv")})
        for suffix in (".json", ".csv"):
            if (folder / (name + suffix)).exists():
                return read_table(folder / (name + suffix), as_frame)
        have = ", ".join(self.analysis()) or "none"
        raise FileNotFoundError(f"wmhost: no analysis table '{name}' in {folder} (there: {have})")

    @property
    def points(self):
        """A sweep's runs (its sub-folders with a config.yaml), in name order."""
        return [Run(p) for p in sorted(self.path.iterdir()) if (p / "config.yaml").exists()]

    def checkpoints(self):
        """Every step-*.pt of the run, oldest first."""
        return _checkpoint.checkpoint_files(self.path)

    def checkpoint(self, which="last"):
        """The whole checkpoint dict ("last", "best" or a step number)."""
        return _checkpoint.load_checkpoint(_checkpoint.find_checkpoint(self.path, which))

    def state_dict(self, which="last"):
        """The model weights of a checkpoint ("last", "best" or a step number)."""
        return self.checkpoint(which)["model"]
