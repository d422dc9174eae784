"""Webdataset shards as `collect` writes them (docs/data_contract.md): tar files whose members
are grouped by key, per episode `<key>.mp4` (the frames) and `<key>.jsonl` (one JSON record per
frame: `action` taken after the frame, `state`, `reward`, `success`).

    for episode in iter_shards("runs/x/<time>/episodes"):
        episode.frames      # uint8 [T, 3, H, W] RGB (wmhost's layout; .transpose(0, 2, 3, 1) for HWC)
        episode.actions     # float32 [T, A]: row t acts between frames t and t+1 (the last is zeros)
        episode.signal("state"), episode.records
"""
import glob
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np

VIDEO_EXTENSIONS = ("mp4", "webm", "mkv", "avi", "mov")


#---- which shards ----

def _expand_braces(pattern):
    """{a,b} lists and {000..123} ranges (zero padding kept), as wmhost expands shard lists."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if not match:
        return [pattern]
    head, tail, body = pattern[:match.start()], pattern[match.end():], match.group(1)
    numeric = re.fullmatch(r"(\d+)\.\.(\d+)", body)
    if numeric:
        first, last = numeric.groups()
        width = len(first) if first.startswith("0") else 0
        choices = [str(i).zfill(width) for i in range(int(first), int(last) + 1)]
    else:
        choices = body.split(",")
    return [expanded for choice in choices for expanded in _expand_braces(head + choice + tail)]


def shard_files(where):
    """The shards named by a folder (its *.tar), a file, a glob or brace pattern, or a list of
    any of those; sorted, without duplicates."""
    if isinstance(where, (list, tuple)):
        return sorted({f for item in where for f in shard_files(item)})
    where = str(where)
    if os.path.isdir(where):
        files = sorted(Path(where).glob("*.tar"))
        if not files:
            raise FileNotFoundError(f"wmhost: no *.tar shards in {where}")
        return files
    files = sorted({Path(f) for pattern in _expand_braces(where) for f in glob.glob(pattern)})
    if not files:
        raise FileNotFoundError(f"wmhost: no shards match {where}")
    return files


#---- decoding ----

def _decode_with_av(data):
    import av
    with av.open(io.BytesIO(data)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return frames


def _decode_with_ffmpeg(data, name):
    if not shutil.which("ffmpeg") or not shutil.which("ffprobe"):
        raise ImportError("wmhost: decoding videos needs PyAV (pip install av, or Debian's apt "
                          "install python3-av) or the ffmpeg tool on PATH")
    suffix = os.path.splitext(name)[1] or ".mp4"
    with tempfile.NamedTemporaryFile(suffix=suffix) as file:
        file.write(data)
        file.flush()
        size = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                               "stream=width,height", "-of", "csv=p=0", file.name],
                              check=True, capture_output=True, text=True).stdout.split(",")
        width, height = int(size[0]), int(size[1])
        raw = subprocess.run(["ffmpeg", "-v", "error", "-i", file.name, "-f", "rawvideo",
                              "-pix_fmt", "rgb24", "pipe:1"], check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, height, width, 3)
    return list(frames)


def decode_video(data, name="video.mp4", backend=None):
    """Every frame of a video file's bytes as uint8 [T, 3, H, W] RGB. backend: "av" (PyAV),
    "ffmpeg" (the command-line tool) or None (PyAV when installed, else ffmpeg)."""
    if backend is None:
        try:
            import av  # noqa: F401
            backend = "av"
        except ImportError:
            backend = "ffmpeg"
    frames = _decode_with_av(data) if backend == "av" else _decode_with_ffmpeg(data, name)
    if not frames:
        raise ValueError(f"wmhost: {name} holds no video frames")
    return np.ascontiguousarray(np.stack(frames).transpose(0, 3, 1, 2))


#---- episodes ----

def _field(record, dotted):
    value = record
    for part in dotted.split("."):
        value = value[part]
    return value


class Episode:
    """One sample of a shard: its members' bytes by extension, its records and frames."""

    def __init__(self, shard, key, members, video_backend=None):
        self.shard, self.key, self.members = Path(shard), key, members
        self._backend = video_backend
        self._records = self._frames = None

    def __repr__(self):
        return f"wmhost.Episode({self.shard.name}/{self.key}: {', '.join(sorted(self.members))})"

    @property
    def id(self):
        """`<shard>/<key>`, the id wmhost's webdataset dataset gives the episode."""
        return f"{self.shard.stem}/{self.key}"

    @property
    def records(self):
        """The per-frame JSON records (<key>.jsonl), one dict per frame."""
        if self._records is None:
            if "jsonl" not in self.members:
                raise KeyError(f"wmhost: {self.id} has no .jsonl member (it has: {', '.join(self.members)})")
            lines = self.members["jsonl"].decode("utf-8").splitlines()
            self._records = [json.loads(line) for line in lines if line.strip()]
        return self._records

    def signal(self, name, dtype=np.float32):
        """A per-frame field of the records (a dotted path: "state", "mouse.dx") as an array,
        one row per frame."""
        return np.asarray([_field(record, name) for record in self.records], dtype=dtype)

    @property
    def actions(self):
        """float32 [T, A]: the records' `action` arrays (row t acts between frames t and t+1)."""
        return self.signal("action")

    @property
    def video_member(self):
        """The extension of the video member ("mp4", ...), or None (a state-only episode)."""
        return next((ext for ext in VIDEO_EXTENSIONS if ext in self.members), None)

    @property
    def frames(self):
        """uint8 [T, 3, H, W] RGB, decoded once."""
        if self._frames is None:
            ext = self.video_member
            if ext is None:
                raise KeyError(f"wmhost: {self.id} has no video member (a state-only episode; "
                               f"it has: {', '.join(self.members)})")
            self._frames = decode_video(self.members[ext], f"{self.key}.{ext}", self._backend)
        return self._frames


def _split_member_name(name):
    """"a/b.c.mp4" -> ("a/b", "c.mp4"): the key ends at the first dot of the file name."""
    folder, _, base = name.rpartition("/")
    stem, dot, extension = base.partition(".")
    return (folder + "/" if folder else "") + stem, extension


def iter_shards(where, video_backend=None):
    """Every episode (sample) of the shards in order: shard by shard, in archive order."""
    for shard in shard_files(where):
        with tarfile.open(shard) as archive:
            samples = {}
            for member in archive:
                if not member.isfile():
                    continue
                key, extension = _split_member_name(member.name)
                data = archive.extractfile(member).read()
                if key not in samples:
                    samples[key] = {}
                samples[key][extension] = data
            for key, members in samples.items():
                yield Episode(shard, key, members, video_backend)
