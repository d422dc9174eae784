"""Checkpoints written by wmhost's `train` (checkpoints/step-*.pt, best.pt).

A checkpoint is a `torch.save` file of a dict: {"model": state_dict with the model's own
parameter names, "optimizer": ..., "step": ..., "rng": ..., "position": ..., "config": ...},
read here with `torch.load(path, weights_only=True)`. Files from wmhost versions before that
format (a TorchScript archive of `name_<i>` / `value_<i>` tensors) are read too and given the
same shape: names nest at each "/" as the new format's do (`model/<name>` is
checkpoint["model"][name], `position/step` checkpoint["position"]["step"]).
"""
import inspect
import zipfile
from pathlib import Path


def _torch():
    try:
        import torch
    except ImportError as error:  # numpy-only installs can still read runs and shards
        raise ImportError("wmhost: reading checkpoints needs PyTorch (pip install torch, or "
                          "Debian's apt install python3-torch)") from error
    return torch


def _is_torchscript_archive(path):
    # the earlier format: a TorchScript zip (code/ and constants.pkl beside data.pkl)
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.split("/")[1:2] == ["code"] for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


def _load_named_tensors(path, torch):
    """The earlier format: name_<i> holds the name as character codes, value_<i> the tensor."""
    module = torch.jit.load(str(path), map_location="cpu")
    entries = dict(module.named_parameters())
    entries.update(dict(module.named_buffers()))
    if "count" not in entries:
        raise ValueError(f"{path}: a TorchScript archive, but not a wmhost checkpoint (no 'count')")
    checkpoint = {}
    for i in range(int(entries["count"].item())):
        name = "".join(chr(int(code)) for code in entries[f"name_{i}"].tolist())
        value = entries[f"value_{i}"].detach().clone()
        *groups, key = name.split("/")
        entry = checkpoint
        for group in groups:
            entry = entry.setdefault(group, {})
        entry[key] = value
    return checkpoint


def load_checkpoint(path, map_location="cpu"):
    """The whole checkpoint dict. `path` is a .pt file or a run folder (see `find_checkpoint`)."""
    torch = _torch()
    path = Path(path)
    if path.is_dir():
        path = find_checkpoint(path)
    if not path.is_file():
        raise FileNotFoundError(f"wmhost: no checkpoint at {path}")
    if _is_torchscript_archive(path):
        return _load_named_tensors(path, torch)
    if "weights_only" not in inspect.signature(torch.load).parameters:
        raise RuntimeError(f"wmhost: PyTorch {torch.__version__} cannot load a checkpoint without "
                           "running code from it (torch.load has no weights_only before 1.13); "
                           "use PyTorch 1.13 or newer")
    checkpoint = torch.load(str(path), map_location=map_location, weights_only=True)
    if not isinstance(checkpoint, dict) or "model" not in checkpoint:
        kind = type(checkpoint).__name__
        raise ValueError(f"wmhost: {path} is not a wmhost checkpoint: torch.load gave a {kind} "
                         "without a 'model' entry")
    return checkpoint


def load_state_dict(path, map_location="cpu"):
    """The model's weights, a dict of name -> tensor, as `model.load_state_dict` takes them."""
    return load_checkpoint(path, map_location)["model"]


def _step_of(file):
    digits = "".join(c for c in file.stem if c.isdigit())
    return int(digits) if digits else -1


def _folder_number(folder):
    suffix = folder.name[len("checkpoints"):].lstrip("-")
    return int(suffix) if suffix.isdigit() else 1


def checkpoint_folders(run_dir):
    """A run's checkpoint folders in step order: checkpoints/, checkpoints-2/, ... (one per
    `train` step)."""
    folders = [p for p in Path(run_dir).glob("checkpoints*") if p.is_dir()]
    return sorted(folders, key=_folder_number)


def checkpoint_files(run_dir):
    """Every step-*.pt of a run, oldest first (by folder, then by step)."""
    files = []
    for folder in checkpoint_folders(run_dir):
        files += sorted(folder.glob("step-*.pt"), key=_step_of)
    return files


def find_checkpoint(run_dir, which="last"):
    """A run's checkpoint: "last" (the newest step-*.pt of the last train step), "best"
    (best.pt of the last train step that wrote one, else "last") or a step number."""
    run_dir = Path(run_dir)
    if which == "best":
        for folder in reversed(checkpoint_folders(run_dir)):
            if (folder / "best.pt").is_file():
                return folder / "best.pt"
        which = "last"
    files = checkpoint_files(run_dir)
    if not files:
        raise FileNotFoundError(f"wmhost: {run_dir} has no checkpoints (checkpoints/step-*.pt)")
    if which == "last":
        return files[-1]
    matches = [f for f in files if _step_of(f) == int(which)]
    if not matches:
        steps = ", ".join(str(_step_of(f)) for f in files)
        raise FileNotFoundError(f"wmhost: {run_dir} has no checkpoint of step {which} (steps: {steps})")
    return matches[-1]
