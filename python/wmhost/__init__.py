"""Read what wmhost writes, from Python: run folders, checkpoints and webdataset shards.

    import wmhost
    run = wmhost.Run("runs/quickstart/20261207T061500Z")
    run.config["model"]["plugin"]          # the resolved experiment (config.yaml)
    run.metrics(procedure="train")         # metrics.jsonl lines (a DataFrame when pandas is installed)
    state = run.state_dict()               # the newest checkpoint's model weights (torch)
    for episode in wmhost.iter_shards(run.path / "episodes"): ...

Needs numpy; PyYAML for config.yaml, torch for checkpoints, pandas for DataFrames, and PyAV
(or the ffmpeg tool) to decode videos, each only where it is used.
"""
from .checkpoint import load_checkpoint, load_state_dict
from .run import Run, read_jsonl, read_table
from .shards import Episode, decode_video, iter_shards, shard_files

__all__ = [
    "Run",
    "read_jsonl",
    "read_table",
    "load_checkpoint",
    "load_state_dict",
    "Episode",
    "iter_shards",
    "shard_files",
    "decode_video",
]
__version__ = "0.1.0"
