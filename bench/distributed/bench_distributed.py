#!/usr/bin/env python3
"""Data-parallel training throughput on this machine: wmhost on 1 and 2 ranks (wmhost launch,
c10d/Gloo over localhost) beside the same network in PyTorch from Python, 1 process and
DistributedDataParallel on 2 (torch.distributed, Gloo), in one run. Never run by ctest.

  /usr/bin/python3 bench/distributed/bench_distributed.py [--wmhost build/wmhost] [--rounds 2]

The model is bench/train's two_stream (the quickstart's network, 4-pixel patches); the Python side
is bench/train/pytorch_twin.py, module for module the same. Global batch 16 at every world size
(the experiment file means the same optimisation at any scale), split 16 = 2 x 8 on 2 ranks; the
machine's cores are split among the ranks on both sides (threads = cores / ranks).
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "train"))

PARAMS = ("{variant: two_stream, image_size: 32, patch: 4, dim: 96, depth: 4, heads: 4, "
          "exchange_layer: 2, change_dim: 16, decoder_dim: 96, decoder_depth: 2, max_gap: 3, "
          "sample_decay: 0.8, loss_decay: 0.5, start_from_copy: true}")
FRAMES, SIZE, GLOBAL_BATCH = 8, 32, 16


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#---- wmhost: samples/s from metrics.jsonl, the warm-up window left out ----

def wmhost_rate(wmhost, ranks, cores, warmup, steps):
    threads = max(1, cores // ranks)
    experiment = f"""experiment: bench_distributed
seed: 0
threads: {threads}
data:
  train: {{plugin: synthetic, params: {{samples: 4000, frames: {FRAMES}, size: {SIZE}}}, workers: 1}}
model:
  plugin: two_stream
  params: {PARAMS}
procedure:
  - train: {{steps: {warmup + steps}, batch_size: {GLOBAL_BATCH}, lr: 1.0e-4, warmup: 0,
            log_every: {warmup}, checkpoint_every: 1000000, tensorboard: false}}
"""
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "exp.yaml"), "w") as f:
            f.write(experiment)
        command = [wmhost, "run", "exp.yaml", "--out", "run"]
        if ranks > 1:
            command = [wmhost, "launch", "--nproc", str(ranks), "--"] + command[1:]
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit("wmhost failed:\n" + done.stdout + done.stderr)
        rates = [line["samples_per_s"] for line in map(json.loads, open(os.path.join(folder, "run", "metrics.jsonl")))
                 if line.get("procedure") == "train" and "samples_per_s" in line]
    return statistics.median(rates[1:])


#---- PyTorch from Python: one process, or DDP over Gloo ----

def python_rank(rank, world, port, cores, warmup, steps, result):
    import torch
    import torch.distributed as dist
    import pytorch_twin as twin
    torch.set_num_threads(max(1, cores // world))
    torch.manual_seed(0)
    net, task = twin.build("two_stream", twin.parse_params(PARAMS))
    net.train()
    if world > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        dist.init_process_group("gloo", rank=rank, world_size=world)
        task.net = torch.nn.parallel.DistributedDataParallel(net)
    video = torch.rand(GLOBAL_BATCH // world, FRAMES, 3, SIZE, SIZE)
    step = twin.make_step(net, task, video)
    for _ in range(warmup):
        step()
    rates = []
    for _ in range(max(1, steps // warmup)):
        if world > 1:
            dist.barrier()
        start = time.perf_counter()
        for _ in range(warmup):
            step()
        if world > 1:
            dist.barrier()
        rates.append(GLOBAL_BATCH * warmup / (time.perf_counter() - start))
    if rank == 0:
        result.put(statistics.median(rates))
    if world > 1:
        dist.destroy_process_group()


def python_rate(ranks, cores, warmup, steps):
    import torch.multiprocessing as mp
    context = mp.get_context("spawn")
    result = context.Queue()
    port = free_port()
    processes = [context.Process(target=python_rank, args=(r, ranks, port, cores, warmup, steps, result))
                 for r in range(ranks)]
    for p in processes:
        p.start()
    rate = result.get()
    for p in processes:
        p.join()
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wmhost", default=os.path.join(HERE, "..", "..", "build", "wmhost"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per cell")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up steps, also the timing window")
    args = parser.parse_args()
    cores = os.cpu_count()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning waiters ruin shared-core timings
    import torch
    print(f"{cores} cores, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, PyTorch {torch.__version__} "
          f"(Python), wmhost {os.path.abspath(args.wmhost)}")
    print(f"two_stream (bench/train), clips {FRAMES}x3x{SIZE}x{SIZE}, global batch {GLOBAL_BATCH}, "
          f"threads per rank = {cores} / ranks; best of {args.rounds} rounds, median over windows of {args.warmup} steps")
    print("wmhost: its loader builds the synthetic clips; Python: a fixed random tensor (no data work)\n")
    rows = {}
    for round_index in range(args.rounds):
        for ranks in (1, 2):
            order = [("wmhost", lambda: wmhost_rate(args.wmhost, ranks, cores, args.warmup, args.steps)),
                     ("python", lambda: python_rate(ranks, cores, args.warmup, args.steps))]
            if round_index % 2:
                order.reverse()
            for side, measure in order:
                rate = measure()
                rows[(ranks, side)] = max(rows.get((ranks, side), 0.0), rate)
    print(f"{'ranks':>5}  {'wmhost samples/s':>16}  {'Python samples/s':>16}  {'ratio':>6}  "
          f"{'wmhost speed-up':>15}  {'Python speed-up':>15}")
    for ranks in (1, 2):
        ours, theirs = rows[(ranks, "wmhost")], rows[(ranks, "python")]
        python_name = "DDP" if ranks > 1 else "eager"
        print(f"{ranks:>5}  {ours:>16.1f}  {theirs:>11.1f} ({python_name:>5})  {ours / theirs:>5.2f}x  "
              f"{ours / rows[(1, 'wmhost')]:>14.2f}x  {theirs / rows[(1, 'python')]:>14.2f}x")
    print("\nratio = wmhost / Python (> 1: wmhost faster); speed-up = samples/s over the same side's 1 rank")


if __name__ == "__main__":
    main()
