#!/usr/bin/env python3
"""Rewrites PyTorch weight files into the one format wmhost's LibTorch reads without Python:
a zip-format torch.save of a plain {name: tensor} dict.

The official LPIPS heads (lpips/weights/v0.1/*.pth) are legacy (non-zip) pickles, and every
nn.Module.state_dict() is an OrderedDict, which LibTorch 1.13 unpickles as None; both need this.
Checkpoints that wrap the weights ({"state_dict": ...} or {"model": ...}) are unwrapped.

    python3 scripts/convert_torch_weights.py FILE [FILE ...]           # rewrite in place
    python3 scripts/convert_torch_weights.py FILE [FILE ...] --out DIR # write DIR/<name>

Files are unpickled with torch.load(weights_only=True), which runs no code from the file; a
checkpoint that also pickles other objects (training arguments, say) needs --trust, for files
whose origin you trust.

Needs Debian's python3-torch (scripts/setup.sh installs it).
"""
import argparse
import os
import pickle
import sys
import tempfile

import torch


def plain_tensors(checkpoint, source):
    """the {name: tensor} dict inside a checkpoint"""
    for wrapper in ("state_dict", "model", "net"):
        if isinstance(checkpoint, dict) and isinstance(checkpoint.get(wrapper), dict):
            checkpoint = checkpoint[wrapper]
    if not isinstance(checkpoint, dict):
        sys.exit(f"{source}: holds a {type(checkpoint).__name__}, not a dict of tensors")
    tensors = {}
    for name, value in checkpoint.items():
        if not torch.is_tensor(value):
            sys.exit(f"{source}: entry {name!r} is a {type(value).__name__}, not a tensor")
        tensors[str(name)] = value.detach().cpu().contiguous()
    return tensors


def load(source, trust):
    try:
        return torch.load(source, map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as error:
        reason = str(error).split("WeightsUnpickler error: ")[-1].strip()  # PyTorch's own advice is long
        sys.exit(f"{source}: holds more than tensors ({reason}); if you trust where it came from, "
                 f"run again with --trust")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="weight files to convert")
    parser.add_argument("--out", help="folder for the converted files (default: in place)")
    parser.add_argument("--trust", action="store_true",
                        help="unpickle any object in the files (runs code they name)")
    args = parser.parse_args()
    for source in args.files:
        tensors = plain_tensors(load(source, args.trust), source)
        target = os.path.join(args.out, os.path.basename(source)) if args.out else source
        os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
        # write next to the target, then rename: a killed conversion never leaves half a file
        handle, partial = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(target)))
        os.close(handle)
        torch.save(tensors, partial, _use_new_zipfile_serialization=True)
        os.replace(partial, target)
        print(f"{source} -> {target}: {len(tensors)} tensors")


if __name__ == "__main__":
    main()
