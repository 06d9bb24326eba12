# PyTorch half of the cnn benchmark (bench/wasm/cnn.mjs runs it in each round): ms per AdamW train step of a
# cnn config on the CPU, one thread. The model is the parity reference, tests/torch_ref/cnn_ref.py's ResNet.
"""Usage: /usr/bin/python3 bench/torch_cnn_bench.py CONFIG.json STEPS WARMUP  ->  one JSON line on stdout.

Each step does the work ours does: a random batch drawn from an 8000-image pool (the train split's size;
random pixels, since the values do not change the work), forward in train mode (BatchNorm batch statistics
and running-statistics update), mean cross-entropy, backward, the schedule's learning rate, AdamW.
Threads: OMP/OpenBLAS/MKL_NUM_THREADS=1 before torch loads (torch.set_num_threads does not reach OpenBLAS;
docs/benchmarks.md, "PyTorch on the CPU") and torch.set_num_threads(1).
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "torch_ref"))
sys.path.insert(0, os.path.join(ROOT, "python"))
from cnn_ref import ResNet  # noqa: E402
from resnorm_torch.train import learning_rate  # noqa: E402


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.splitlines()[0])
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    steps, warmup = int(sys.argv[2]), int(sys.argv[3])
    if cfg["model"]["kind"] != "cnn":
        sys.exit("torch_cnn_bench: the config is not a cnn")
    torch.set_num_threads(1)
    torch.manual_seed(cfg["seed"])
    m, o = cfg["model"], cfg["optim"]
    side, B = cfg["data"]["resolution"], o["batch"]
    model = ResNet(m, 10).train()
    named = list(model.named_parameters())
    groups = [{"params": [p for _, p in named if p.dim() >= 2], "weight_decay": o["weight_decay"]},
              {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])
    pool_x, pool_y = torch.rand(8000, side * side), torch.randint(0, 10, (8000,))
    wall = []
    for step in range(warmup + steps):
        t0 = time.perf_counter()
        idx = torch.randint(0, pool_x.shape[0], (B,))
        for g in opt.param_groups:
            g["lr"] = learning_rate(o, step)
        opt.zero_grad(set_to_none=True)
        _, loss = model(pool_x[idx], pool_y[idx])
        loss.backward()
        opt.step()
        if step >= warmup:
            wall.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"median_ms": statistics.median(wall), "samples": wall, "steps": steps, "warmup": warmup,
                      "params": sum(p.numel() for _, p in named), "torch": torch.__version__,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
