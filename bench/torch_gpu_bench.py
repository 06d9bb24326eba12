# Speed part of issue 5: PyTorch on the GPU (eager and torch.compile, fp32 with TF32 off) for the
# norm kernels and the train steps of the issue's table, beside our figures from the same run.
"""PyTorch GPU reference figures, and the side-by-side table of issue 5.

Measures on the current CUDA device, fp32, TF32 off (torch.backends.cuda.matmul.allow_tf32 = False):
  * device-to-device copy bandwidth (bytes read + written): the yardstick of the memory-bound ops;
  * LayerNorm forward / backward, residual add + LayerNorm forward, RMSNorm forward at 65536 x 768,
    in GB/s counted as the issue does (2, 3, 4 and 2 tensors of N*C floats), eager and torch.compile;
  * the train step of gpt-tiny and gpt-small (batch, forward, cross-entropy, backward, global-norm
    clipping, AdamW with the preset's schedule, loss.item()), eager and torch.compile, plus bf16 autocast
    eager; the model is python/resnorm_torch/model.py (the project's PyTorch reference of the same model).

Our figures come from files the caller made in the same run (bench/cuda/run.sh): `resnorm bench
--backend cuda --json` lines (--ours) and the kernel benchmarks' JSON lines (--kernels). The report is
JSON (--out) plus a markdown table on stdout with the issue's goals, every figure reported, met or not.
"""
import argparse
import datetime
import glob
import json
import math
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from resnorm_torch.model import ResNormModel  # noqa: E402

# The issue's reference figures (NVIDIA H200, PyTorch 2.11) and our goals.
ISSUE = {
    "layernorm_forward": {"eager": 2091, "compile": None, "goal": 3400, "unit": "GB/s"},
    "layernorm_backward": {"eager": 1112, "compile": None, "goal": 2500, "unit": "GB/s"},
    "residual_layernorm_forward": {"eager": 2451, "compile": 2737, "goal": 3400, "unit": "GB/s"},
    "rmsnorm_forward": {"eager": 3163, "compile": None, "goal": 3500, "unit": "GB/s"},
    "gpt-small": {"eager": 32.0, "compile": 30.5, "goal": 27.0, "unit": "ms"},
    "gpt-tiny": {"eager": 8.7, "compile": 5.9, "goal": 2.0, "unit": "ms"},
}
DEVICE = "cuda"  # --device cpu only smoke-tests this script's logic on a machine without a GPU
PRODUCTION_VERSION = {"layernorm_forward": 4, "layernorm_backward": 4, "residual_layernorm_forward": 3,
                      "rmsnorm_forward": 3}


def cuda_ms(fn, reps=50, warmup=5):
    """Median milliseconds of fn() timed with CUDA events."""
    for _ in range(warmup):
        fn()
    if DEVICE != "cuda":
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times)
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)


def gbps(nbytes, ms):
    return nbytes / (ms * 1e-3) / 1e9


def maybe_compile(fn, enabled):
    if not enabled:
        return None
    try:
        return torch.compile(fn)
    except Exception as e:  # noqa: BLE001 - report and go on without the compiled figure
        print(f"torch.compile unavailable: {e}", file=sys.stderr)
        return None


def op_figures(N, C, compile_on, reps):
    dev = DEVICE
    eps = 1e-5
    g = torch.Generator(device=dev).manual_seed(0)
    x = torch.randn(N, C, device=dev, generator=g)
    f = torch.randn(N, C, device=dev, generator=g)
    w = torch.rand(C, device=dev, generator=g) + 0.5
    b = torch.rand(C, device=dev, generator=g) - 0.5
    dy = torch.randn(N, C, device=dev, generator=g)
    nb = N * C * 4
    out = {}

    dst = torch.empty_like(x)
    out["copy_gbps"] = gbps(2 * nb, cuda_ms(lambda: dst.copy_(x), reps))

    def ln(t):
        return F.layer_norm(t, (C,), w, b, eps)

    def res_ln(a, c):
        return F.layer_norm(a + c, (C,), w, b, eps)

    def rms(t):
        if hasattr(F, "rms_norm"):
            return F.rms_norm(t, (C,), w, eps)
        return t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + eps) * w

    # LayerNorm backward: the aten kernel PyTorch's autograd calls (dx, dw, db), 3 tensors of N*C.
    _, mean, rstd = torch.ops.aten.native_layer_norm(x, [C], w, b, eps)
    mask = [True, True, True]
    out["layernorm_backward"] = {"eager": gbps(3 * nb, cuda_ms(
        lambda: torch.ops.aten.native_layer_norm_backward(dy, x, [C], mean, rstd, w, b, mask), reps))}
    with torch.no_grad():
        out["layernorm_forward"] = {"eager": gbps(2 * nb, cuda_ms(lambda: ln(x), reps))}
        out["residual_layernorm_forward"] = {"eager": gbps(4 * nb, cuda_ms(lambda: res_ln(x, f), reps))}
        out["rmsnorm_forward"] = {"eager": gbps(2 * nb, cuda_ms(lambda: rms(x), reps))}
        for name, fn, args, tensors in (("layernorm_forward", ln, (x,), 2), ("residual_layernorm_forward", res_ln, (x, f), 4),
                                        ("rmsnorm_forward", rms, (x,), 2)):
            cf = maybe_compile(fn, compile_on)
            if cf is not None:
                try:
                    out[name]["compile"] = gbps(tensors * nb, cuda_ms(lambda: cf(*args), reps, warmup=3))
                except Exception as e:  # noqa: BLE001
                    print(f"torch.compile of {name} failed: {e}", file=sys.stderr)
    return out


class GpuModel(ResNormModel):
    """python/resnorm_torch/model.py's model with the position ids made on the inputs' device."""

    def forward(self, inputs, targets=None):
        if self.cfg["kind"] != "gpt":
            return super().forward(inputs, targets)
        T = inputs.shape[1]
        x = self.wte(inputs) + self.wpe(torch.arange(T, device=inputs.device))
        for blk in self.blocks:
            x = blk(x)
        if hasattr(self, "norm_f"):
            x = self.norm_f(x)
        logits = self.lm_head(x)
        loss = None if targets is None else F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss


def learning_rate(o, step):
    """Mirror of cpp/core/optimizer.cpp learning_rate()."""
    if step < o["warmup"]:
        return o["lr"] * (step + 1) / o["warmup"]
    if o["schedule"] == "constant":
        return o["lr"]
    progress = min(1.0, (step - o["warmup"]) / max(1, o["steps"] - o["warmup"]))
    return o["min_lr"] + 0.5 * (o["lr"] - o["min_lr"]) * (1.0 + math.cos(math.pi * progress))


def preset_config(name, resnorm):
    if resnorm and os.access(resnorm, os.X_OK):
        return json.loads(subprocess.run([resnorm, "show", "--preset", name], capture_output=True, text=True,
                                         check=True).stdout)
    with open(os.path.join(ROOT, "cpp", "presets", name + ".json")) as fh:  # defaults of cpp/core/config.h
        cfg = json.load(fh)
    m = {"activation": "relu", "eps": 1e-5, **cfg["model"]}
    o = {"eps": 1e-8, "momentum": 0.9, "schedule": "constant", "min_lr": 1e-4, "clip": 1.0, **cfg["optim"]}
    return {"model": m, "optim": o, "seed": cfg.get("seed", 1337)}


def step_figure(cfg, data, vocab_size, mode, steps, warmup):
    """Median ms per train step. mode: eager | compile | bf16."""
    dev = DEVICE
    torch.manual_seed(cfg["seed"])
    m, o = cfg["model"], cfg["optim"]
    model = GpuModel(m, vocab_size).to(dev)
    named = list(model.named_parameters())
    groups = [{"params": [p for _, p in named if p.dim() >= 2], "weight_decay": o["weight_decay"]},
              {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])
    params = [p for _, p in named]
    fwd = torch.compile(model) if mode == "compile" else model
    B, T = o["batch"], m["context"]
    k = [0]

    def step():
        for grp in opt.param_groups:
            grp["lr"] = learning_rate(o, k[0])
        off = torch.randint(0, data.numel() - T - 1, (B,), device=dev)
        idx = off[:, None] + torch.arange(T, device=dev)[None, :]
        x, y = data[idx], data[idx + 1]
        if mode == "bf16":
            with torch.autocast(dev, dtype=torch.bfloat16):
                _, loss = fwd(x, y)
        else:
            _, loss = fwd(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, o["clip"])
        opt.step()
        loss.item()
        k[0] += 1

    for _ in range(warmup):
        step()
    if dev == "cuda":
        torch.cuda.synchronize()
    ms = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms)


def read_jsonl(paths):
    rows = []
    for p in paths:
        with open(p) as fh:
            for line in fh:
                line = line.strip()
                if line.startswith("{"):
                    rows.append(json.loads(line))
    return rows


def fmt(v, unit):
    if v is None:
        return "—"
    return f"{v:.0f}" if unit == "GB/s" else f"{v:.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "cuda", "torch_gpu.json"))
    ap.add_argument("--resnorm", default=os.path.join(ROOT, "build", "cuda", "resnorm"), help="for `resnorm show`")
    ap.add_argument("--ours", default="", help="JSON lines of `resnorm bench --backend cuda --json`")
    ap.add_argument("--kernels", default="", help="folder of the kernel benchmarks' <op>.jsonl")
    ap.add_argument("--data", default=os.path.join(ROOT, "web", "public", "data", "tinyshakespeare.txt"))
    ap.add_argument("--presets", default="gpt-tiny,gpt-small")
    ap.add_argument("--N", type=int, default=65536)
    ap.add_argument("--C", type=int, default=768)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--no-ops", action="store_true")
    ap.add_argument("--device", default="cuda", help=argparse.SUPPRESS)  # cpu: smoke test of the script only
    args = ap.parse_args()
    global DEVICE
    DEVICE = args.device
    if DEVICE == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_gpu_bench: torch.cuda.is_available() is False: no GPU, nothing measured")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if hasattr(torch, "set_float32_matmul_precision"):
        torch.set_float32_matmul_precision("highest")
    gpu = torch.cuda.get_device_name() if DEVICE == "cuda" else "cpu (smoke test, not a GPU figure)"
    report = {
        "what": "PyTorch fp32 (TF32 off) on the GPU: norm ops in GB/s (bytes read + written), train steps in median "
                "ms (host wall time, synchronised by loss.item())",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "gpu": gpu, "torch": torch.__version__, "cuda": torch.version.cuda, "device": DEVICE,
        "shape": [args.N, args.C], "ops": {}, "steps": {},
    }
    compile_on = not args.no_compile
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)

    def save():  # after every group of figures, so a run cut short keeps what it measured
        with open(args.out, "w") as fh:
            json.dump(report, fh, indent=2)
            fh.write("\n")

    if not args.no_ops:
        report["ops"] = op_figures(args.N, args.C, compile_on, args.reps)
        print(f"ops done: copy {report['ops']['copy_gbps']:.0f} GB/s", file=sys.stderr)
        save()
    with open(args.data, encoding="latin-1") as fh:
        raw = fh.read().encode("latin-1")
    vocab = sorted(set(raw))
    index = {c: i for i, c in enumerate(vocab)}
    data = torch.tensor([index[c] for c in raw[: int(len(raw) * 0.9)]], dtype=torch.long, device=DEVICE)
    presets = [p for p in args.presets.split(",") if p]
    cfgs = {p: preset_config(p, args.resnorm) for p in presets}
    modes = ["eager", "bf16"] + (["compile"] if compile_on else [])  # compiling is the slow part: last
    for mode in modes:
        for preset in presets:
            try:
                ms = step_figure(cfgs[preset], data, len(vocab), mode, args.steps, args.warmup)
                report["steps"].setdefault(preset, {})[mode] = ms
                print(f"{preset} {mode}: {ms:.2f} ms/step", file=sys.stderr)
            except Exception as e:  # noqa: BLE001 - keep the other figures
                print(f"{preset} {mode} failed: {e}", file=sys.stderr)
            if DEVICE == "cuda":
                torch.cuda.empty_cache()
            save()

    ours_steps, ours_ops = {}, {}
    if args.ours and os.path.exists(args.ours):
        for r in read_jsonl([args.ours]):
            key = r["preset"] + (" (TF32)" if "TF32" in r.get("device", "") else "")
            ours_steps[key] = r
    if args.kernels and os.path.isdir(args.kernels):
        for r in read_jsonl(sorted(glob.glob(os.path.join(args.kernels, "*.jsonl")))):
            if r.get("valid"):
                ours_ops.setdefault(r["op"], {})[r["version"]] = r
    report["ours"] = {"steps": ours_steps, "ops": ours_ops}
    save()

    copy = report["ops"].get("copy_gbps") if report["ops"] else None
    print(f"GPU: {gpu}; PyTorch {torch.__version__} (CUDA {torch.version.cuda}), fp32, TF32 off"
          + (f"; device-to-device copy {copy:.0f} GB/s (read + write)" if copy else ""))
    print()
    print("| figure | PyTorch eager | torch.compile | ours | goal | met | issue's H200 eager / compile |")
    print("|---|---:|---:|---:|---:|---|---|")
    for op in ("layernorm_forward", "layernorm_backward", "residual_layernorm_forward", "rmsnorm_forward"):
        t = report["ops"].get(op, {}) if report["ops"] else {}
        mine = ours_ops.get(op, {}).get(PRODUCTION_VERSION[op])
        best = max(ours_ops.get(op, {}).values(), key=lambda r: r["gbps"], default=None)
        ours_v = mine["gbps"] if mine else None
        goal = ISSUE[op]["goal"]
        met = "—" if ours_v is None else ("yes" if ours_v >= goal else "no")
        extra = f" (best: v{best['version']} {best['gbps']:.0f})" if best and mine and best is not mine else ""
        print(f"| {op} {args.N}x{args.C} (GB/s) | {fmt(t.get('eager'), 'GB/s')} | {fmt(t.get('compile'), 'GB/s')} | "
              f"{fmt(ours_v, 'GB/s')}{extra} | ≥ {goal} | {met} | {ISSUE[op]['eager']} / "
              f"{ISSUE[op]['compile'] or '—'} |")
    for preset in ("gpt-small", "gpt-tiny"):
        t = report["steps"].get(preset, {})
        mine = ours_steps.get(preset)
        ours_v = mine["median_ms"] if mine else None
        goal = ISSUE[preset]["goal"]
        met = "—" if ours_v is None else ("yes" if ours_v <= goal else "no")
        tf = ours_steps.get(preset + " (TF32)")
        extra = f" (TF32: {tf['median_ms']:.2f})" if tf else ""
        print(f"| `{preset}` train step (ms) | {fmt(t.get('eager'), 'ms')} | {fmt(t.get('compile'), 'ms')} | "
              f"{fmt(ours_v, 'ms')}{extra} | ≤ {goal} | {met} | {ISSUE[preset]['eager']} / {ISSUE[preset]['compile']} |")
    for preset in ("gpt-small", "gpt-tiny"):
        bf = report["steps"].get(preset, {}).get("bf16")
        if bf:
            ref = "13.1 / —" if preset == "gpt-small" else "— / —"
            print(f"| `{preset}` train step, bf16 autocast (ms) | {bf:.2f} | — | — (fp32 only) | — | — | {ref} |")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
