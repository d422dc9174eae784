#!/usr/bin/env python3
"""Seed inputs for the fuzz targets (docs/fuzzing.md): OUT/<target>/ for each target.

  config          every configs/*.yaml and configs/common/*.yaml, plus small experiments that use
                  base:, ${...} references, ${env:}, sweeps and YAML anchors
  tar             small shards as the tests and the collect procedure write them: ustar, GNU
                  long names, pax headers, webdataset samples, folders and links, cut and zeroed
  frame_records   per-frame JSON records as VPT shards, environment collection and the tests
                  hold them (mouse/yaw/keys, action/state/reward/success)

Usage: python3 fuzz/make_seeds.py OUT_DIR   (run from anywhere; reads the source tree beside it)
"""
import io
import json
import random
import shutil
import sys
import tarfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent

#---- frame records ----

def vpt_records(frames, rng):
    keys = ["key.keyboard.w", "key.keyboard.space", "key.keyboard.a"]
    out, yaw, pitch = [], 0.0, 0.0
    for _ in range(frames):
        out.append({"mouse": {"dx": rng.uniform(-20, 20), "dy": rng.uniform(-5, 5),
                              "buttons": rng.sample([0, 1, 2], rng.randint(0, 2))},
                    "yaw": yaw, "pitch": pitch,
                    "keyboard": {"keys": rng.sample(keys, rng.randint(0, 2))}})
        yaw += rng.uniform(-3, 3)
        pitch += rng.uniform(-1, 1)
    return out


def env_records(frames, rng):
    out = []
    for t in range(frames):
        record = {"state": [rng.uniform(-1, 1) for _ in range(4)], "reward": rng.random(),
                  "success": t == frames - 1}
        if t < frames - 1:
            record["action"] = [rng.uniform(-1, 1) for _ in range(2)]
        out.append(record)
    return out


def jsonl(records):
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def frame_record_seeds(rng):
    return {
        "vpt.jsonl": jsonl(vpt_records(6, rng)),
        "env.jsonl": jsonl(env_records(5, rng)),
        "nested.jsonl": jsonl([{"a": {"b": {"c": i}}, "a.b": [i, i + 1], "t": "x\u00e9\\\"\n"}
                               for i in range(3)]),
        "numbers.jsonl": b'{"x": 1e308, "y": -0.0, "z": 5e-324, "w": 123456789012345678}\n'
                         b'{"x": 2.5, "y": 1E-3, "z": 0, "w": -1}\n',
        "literals.json": b'[true, false, null, "\\u00e9\\ud83d\\ude00", {"k": []}, [], {}]',
        "bad_types.jsonl": b'{"mouse": {"dx": "1"}, "yaw": null}\n{"mouse": {"dx": []}, "yaw": true}\n',
    }

#---- tar shards ----

def shard(members, format=tarfile.GNU_FORMAT, extra=None):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=format) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                continue
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tar.addfile(info)
    # tarfile pads to 20 blocks; keep the two end blocks only (small seeds fuzz faster)
    data = buffer.getvalue().rstrip(b"\0")
    return data + bytes(-len(data) % 512 + 1024)


def tar_seeds(rng):
    sample = [("vid/clip0.mp4", b"m0" * 40), ("vid/clip0.jsonl", jsonl(vpt_records(3, rng))),
              ("vid/clip1.mp4", b"m1" * 40), ("vid/clip1.meta.json", b"{}")]
    link = tarfile.TarInfo("vid/link.mp4")
    link.type, link.linkname = tarfile.SYMTYPE, "clip0.mp4"
    long_name = "episodes/" + "long_directory_name/" * 8 + "ep0.jsonl"
    webdataset = shard(sample)
    seeds = {
        "webdataset.tar": webdataset,
        "ustar.tar": shard(sample, tarfile.USTAR_FORMAT),
        "gnu_long_name.tar": shard([(long_name, jsonl(env_records(3, rng))), ("ep0.npy", b"\x93NUMPY")]),
        "pax.tar": shard([(long_name, b"x" * 700), ("caf\u00e9.txt", b"y")], tarfile.PAX_FORMAT,
                         [tarfile.TarInfo("empty.bin")]),
        "folders_links.tar": shard([("vid", None)] + sample[:2], extra=[link]),
        "empty.tar": shard([]),
        # cut at a header boundary (no end blocks) and a zeroed header block between members
        "cut.tar": webdataset[:1536],
        "zeroed_header.tar": webdataset[:1024] + bytes(512) + webdataset[1536:],
    }
    return seeds

#---- experiments ----

EXPERIMENTS = {
    "references.yaml": """experiment: refs
seed: 1
threads: 1
global_vars:
  frames: 4
  size: 16
  name: "run_${global_vars.frames}"
  list: [1, 2, 3]
  copy: ${global_vars.list}
  text: "a ${global_vars.name} b ${env:HOME} c ${env:WM_FUZZ_UNSET,default}"
data:
  train: {plugin: synthetic, split: train, params: {samples: 8, frames: "${global_vars.frames}", size: "${global_vars.size}"}}
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
procedure:
  - evaluate: {data: train, batch_size: 2}
""",
    "sweep.yaml": """experiment: sweep
seed: 0
threads: 1
data:
  train: {plugin: synthetic, split: train, params: {samples: 8, frames: 4, size: 16}}
  val: {plugin: synthetic, split: val, params: {samples: 8, frames: 4, size: 16}}
model: {plugin: copy_last}
metrics: [{plugin: psnr}, {plugin: ssim}]
procedure:
  - evaluate: {data: val, batch_size: 2, gaps: [1, 2]}
sweep:
  seed: [0, 1]
  data.train.params.samples: [8, 16]
""",
    "anchors.yaml": """experiment: anchors
threads: 1
global_vars:
  common: &data {plugin: synthetic, params: {samples: 8, frames: 4, size: 16}}
data:
  train: *data
  val: *data
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
procedure:
  - evaluate: {data: val}
""",
    "base.yaml": """base: common/stand_ins.yaml
experiment: based
threads: 1
global_vars: {clips: 16, stand_ins: {coin: {_replace_: true, samples: 8, frames: 4, size: 16}}}
data:
  train: {plugin: synthetic, split: train, params: "${global_vars.stand_ins.coin}"}
  val: {plugin: synthetic, split: val, params: "${global_vars.stand_ins.ssv2}"}
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
procedure:
  - evaluate: {data: val}
""",
    # fuzz_config sets WM_FUZZ_SELF="${env:WM_FUZZ_SELF}", WM_FUZZ_REF="${global_vars.a}",
    # WM_FUZZ_BIG="1e999": spliced environment text must stay text
    "environment.yaml": """experiment: environment
threads: 1
global_vars: {a: "${env:WM_FUZZ_SELF}", b: "x ${env:WM_FUZZ_REF} y", c: "${env:WM_FUZZ_BIG}"}
seed: "${env:WM_FUZZ_BIG}"
data:
  train: {plugin: synthetic, params: {samples: 8, frames: 4, size: 16}}
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
procedure:
  - evaluate: {data: train}
""",
    "wrong.yaml": """experiment: wrong
seed: -1
threads: many
data: [1, 2]
model: {plugin: no_such_plugin, params: {x: .inf}}
procedure: {train: {}}
""",
}


def write(folder, name, data):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    rng = random.Random(0)
    if out.exists():
        shutil.rmtree(out)
    for path in sorted((SOURCE / "configs").glob("*.yaml")) + sorted((SOURCE / "configs" / "common").glob("*.yaml")):
        write(out / "config", path.name, path.read_bytes())
    for name, text in EXPERIMENTS.items():
        write(out / "config", name, text)
    tars = tar_seeds(rng)
    for name, data in tars.items():
        write(out / "tar", name, data)
    records = frame_record_seeds(rng)
    for name, data in records.items():
        write(out / "frame_records", name, data)
    counts = {target: len(list((out / target).iterdir())) for target in ("config", "tar", "frame_records")}
    print("seeds: " + ", ".join(f"{target} {n}" for target, n in counts.items()))


if __name__ == "__main__":
    main()
