# Launched with 2 processes by tests/python/test_twin.py: a small network with BatchNorm, converted by
# resnorm_torch.model.sync_batchnorm and trained under DDP (gloo) on halves of a batch, must match the
# same network trained in one process on the whole batch (the statistics are the global batch's).
# Rank 0 prints the largest relative difference of the outputs and parameters after 5 SGD steps.
import os
import sys

import torch
import torch.distributed as dist
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from resnorm_torch.model import sync_batchnorm  # noqa: E402


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))


def train(model, x, y, steps=5):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model


def main():
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(16, 3, generator=g) * 3 + 1  # a shifted batch: per-half statistics would differ
    x[8:] += 2.0
    y = torch.randint(0, 2, (16,), generator=g)
    n = 16 // world
    sync = os.environ.get("SYNCBN_PLANT") != "no-sync"
    model = net()
    if sync:
        model = sync_batchnorm(model)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    train(ddp, x[rank * n:(rank + 1) * n], y[rank * n:(rank + 1) * n])
    if rank == 0:
        ref = train(net(), x, y)
        worst = 0.0
        for (name, a), (_, b) in zip(model.state_dict().items(), ref.state_dict().items()):
            if a.is_floating_point():
                worst = max(worst, float((a - b).abs().max() / b.abs().max().clamp_min(1e-6)))
        model.eval()
        ref.eval()
        with torch.no_grad():
            worst = max(worst, float((model(x) - ref(x)).abs().max() / ref(x).abs().max()))
        print(f"syncbn worst {worst:.3e}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
