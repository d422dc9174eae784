#!/usr/bin/env python3
"""The DDP (NCCL) side of gpu_scaling.sh: bench/train's two_stream twin, per-GPU batch fixed,
started by torchrun; prints the median samples/s over all GPUs on its last line."""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
import pytorch_twin as twin  # noqa: E402

PARAMS = ("{variant: two_stream, image_size: 32, patch: 4, dim: 96, depth: 4, heads: 4, "
          "exchange_layer: 2, change_dim: 16, decoder_dim: 96, decoder_depth: 2, max_gap: 3, "
          "sample_decay: 0.8, loss_decay: 0.5, start_from_copy: true}")

parser = argparse.ArgumentParser()
parser.add_argument("--per-gpu", type=int, default=32)
parser.add_argument("--bucket-mb", type=float, default=25)
args = parser.parse_args()
dist.init_process_group("nccl")
local = int(os.environ["LOCAL_RANK"])
torch.cuda.set_device(local)
torch.manual_seed(0)
net, task = twin.build("two_stream", twin.parse_params(PARAMS))
net = net.cuda().train()
task.net = torch.nn.parallel.DistributedDataParallel(net, device_ids=[local], bucket_cap_mb=args.bucket_mb)
video = torch.rand(args.per_gpu, 8, 3, 32, 32, device="cuda")
step = twin.make_step(net, task, video)
for _ in range(20):
    step()
rates = []
for _ in range(10):
    torch.cuda.synchronize()
    dist.barrier()
    start = time.perf_counter()
    for _ in range(10):
        step()
    torch.cuda.synchronize()
    rates.append(args.per_gpu * dist.get_world_size() * 10 / (time.perf_counter() - start))
if dist.get_rank() == 0:
    print(round(statistics.median(rates), 1))
dist.destroy_process_group()
