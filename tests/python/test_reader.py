"""python/wmhost on a real run (tests/python_reader_check.sh makes it; WMHOST_TEST_RUN names it)."""
import math
import os
import shutil
import unittest
import zipfile
from pathlib import Path

import numpy as np
import torch

import wmhost

RUN = Path(os.environ["WMHOST_TEST_RUN"])


class RunFolder(unittest.TestCase):
    def setUp(self):
        self.run = wmhost.Run(RUN)

    def test_config_is_the_resolved_experiment(self):
        config = self.run.config
        self.assertEqual(config["experiment"], "python_reader")
        self.assertEqual(config["model"]["plugin"], "two_stream")
        self.assertEqual(config["model"]["params"]["dim"], 16)

    def test_metrics_lines(self):
        train = self.run.metrics(procedure="train", as_frame=False)
        self.assertEqual([row["step"] for row in train], [5, 10, 15, 20])
        self.assertTrue(all(math.isfinite(row["loss"]) for row in train))
        evaluate = self.run.metrics(procedure="evaluate", label="val", as_frame=False)
        self.assertEqual(len(evaluate), 1)
        # the same value in metrics.jsonl, evaluate_val.csv and status.json
        table = {row["metric"]: row["value"] for row in self.run.table("evaluate_val", as_frame=False)}
        self.assertEqual(table["psnr"], evaluate[0]["psnr"])
        self.assertEqual(self.run.summary()["evaluate[val]/psnr"], evaluate[0]["psnr"])
        self.assertEqual(self.run.status["status"], "ok")
        self.assertIn("evaluate_val", self.run.tables())

    def test_as_frame_needs_pandas(self):
        try:
            import pandas  # noqa: F401
        except ImportError:
            with self.assertRaisesRegex(ImportError, "needs pandas"):
                self.run.metrics(as_frame=True)
            self.assertIsInstance(self.run.metrics(), list)  # without pandas: dicts
        else:
            frame = self.run.metrics(procedure="train")
            self.assertEqual(list(frame["step"]), [5, 10, 15, 20])


class Checkpoints(unittest.TestCase):
    def setUp(self):
        self.run = wmhost.Run(RUN)

    def test_files_in_step_order(self):
        self.assertEqual([f.name for f in self.run.checkpoints()],
                         ["step-00000010.pt", "step-00000020.pt"])

    def test_state_dict_of_the_trained_model(self):
        last, first = self.run.state_dict("last"), self.run.state_dict(10)
        self.assertGreater(len(last), 4)
        self.assertEqual(sorted(last), sorted(first))
        for name, tensor in last.items():
            self.assertIsInstance(tensor, torch.Tensor, name)
            self.assertFalse(name.startswith("model/"), name)  # the model's own names
            self.assertTrue(torch.isfinite(tensor).all(), name)
        # training moved the weights between step 10 and step 20
        moved = [n for n in last if last[n].is_floating_point() and not torch.equal(last[n], first[n])]
        self.assertGreater(len(moved), len(last) // 2)
        # dim 16: some weight has 16 output rows
        self.assertTrue(any(t.dim() >= 2 and t.shape[0] == 16 for t in last.values()))
        # "best" falls back to the newest step when train had no eval_data
        self.assertTrue(all(torch.equal(last[n], t) for n, t in self.run.state_dict("best").items()))

    def test_torch_save_format_when_written_so(self):
        path = self.run.checkpoints()[-1]
        with zipfile.ZipFile(path) as archive:
            torchscript = any(n.split("/")[1:2] == ["code"] for n in archive.namelist())
        if torchscript:
            self.skipTest("checkpoints are still TorchScript archives in this build")
        checkpoint = torch.load(str(path), weights_only=True)
        self.assertEqual(int(checkpoint["step"]), 20)
        self.assertEqual(sorted(checkpoint["model"]), sorted(self.run.state_dict()))

    def test_earlier_torchscript_format(self):
        # the layout wmhost wrote before torch.save checkpoints: name_<i> as character codes
        class Archive(torch.nn.Module):
            def __init__(self, entries):
                super().__init__()
                for i, (name, value) in enumerate(entries):
                    self.register_buffer(f"name_{i}", torch.tensor([ord(c) for c in name]))
                    self.register_buffer(f"value_{i}", value)
                self.register_buffer("count", torch.tensor(len(entries)))

        weight = torch.randn(3, 2)
        path = Path(os.getcwd()) / "earlier.pt"
        torch.jit.save(torch.jit.script(Archive([("model/encoder.weight", weight),
                                                 ("position/step", torch.tensor(7))])), str(path))
        checkpoint = wmhost.load_checkpoint(path)
        self.assertTrue(torch.equal(checkpoint["model"]["encoder.weight"], weight))
        self.assertEqual(int(checkpoint["position"]["step"]), 7)
        self.assertEqual(list(wmhost.load_state_dict(path)), ["encoder.weight"])

    def test_a_missing_step_names_the_steps(self):
        with self.assertRaisesRegex(FileNotFoundError, r"no checkpoint of step 15 \(steps: 10, 20\)"):
            self.run.state_dict(15)


class Shards(unittest.TestCase):
    def setUp(self):
        self.episodes = list(wmhost.iter_shards(RUN / "episodes"))

    def test_episodes_in_order(self):
        self.assertEqual([e.id for e in self.episodes],
                         ["shard-000000/episode-000000", "shard-000000/episode-000001",
                          "shard-000001/episode-000002"])
        self.assertEqual(len(wmhost.shard_files(str(RUN / "episodes" / "shard-{000000..000001}.tar"))), 2)

    def test_records_frames_and_actions(self):
        for episode in self.episodes:
            frames, actions = episode.frames, episode.actions
            self.assertEqual(frames.dtype, np.uint8)
            self.assertEqual(frames.shape[1:], (3, 16, 16))
            # one record, one action row per frame; the last frame's action is zeros
            self.assertEqual(frames.shape[0], len(episode.records))
            self.assertEqual(actions.shape, (frames.shape[0], 2))
            self.assertTrue(np.all(actions[-1] == 0))
            self.assertTrue(np.all(np.abs(actions[:-1]) <= 1))
            self.assertEqual(episode.signal("reward").shape, (frames.shape[0],))
            self.assertGreater(frames.std(), 1)  # a picture, not a blank

    @unittest.skipUnless(shutil.which("ffmpeg"), "the ffmpeg tool is not installed")
    def test_both_decoders_agree(self):
        episode = self.episodes[0]
        member = episode.members[episode.video_member]
        by_tool = wmhost.decode_video(member, "a.mp4", backend="ffmpeg")
        try:
            import av  # noqa: F401
        except ImportError:
            self.skipTest("PyAV is not installed")
        by_av = wmhost.decode_video(member, "a.mp4", backend="av")
        self.assertTrue(np.array_equal(by_tool, by_av))


if __name__ == "__main__":
    unittest.main()
