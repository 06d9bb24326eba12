# The PyTorch twin's trainer: the core's config, batches, AdamW/SGD, schedule, clipping, diagnostics,
# JSONL log and safetensors checkpoints, trained data-parallel with DistributedDataParallel.
"""Usage (torchrun sets RANK, WORLD_SIZE, MASTER_ADDR ...; plain python3 runs one process):

  torchrun --nproc_per_node=N python/resnorm_torch/train.py --preset NAME | --config FILE
      [--steps N] [--log run.jsonl] [--save ckpt.safetensors] [--load ckpt.safetensors]
      [--device cpu|cuda] [--bf16] [--data TEXT_FILE] [--quiet] [--no-moments]

Data parallelism (PyTorch DDP, pytorch.org/docs/1.13/notes/ddp.html): gloo on CPU, nccl on CUDA. Every
rank draws the same global batch (the core's batch stream, data.py) and takes its contiguous share of
optim.batch / world rows; DDP averages the gradients over ranks, which equals the gradient of the global
batch's mean loss because the shares are equal. The loss, residual RMS and attention entropy are
all-reduced so that rank 0 logs the global batch's values; gradient norms, clipping and the update are
computed from the averaged gradients, identical on every rank.

Configs are validated by the core itself: `resnorm show --no-cap` (the CLI, build/native/resnorm or
$RESNORM_BIN) prints the full config or the core's own error message. The core's memory cap is for its
own machines; the twin checks instead that its device can hold the run (estimate_bytes below).
"""
import argparse
import json
import math
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from resnorm_torch.data import ROOT, Batches, decode_text, share  # noqa: E402
from resnorm_torch.model import build_model, count_params, decays, init_like_core, sync_batchnorm  # noqa: E402
from resnorm_torch.checkpoint import read_checkpoint, write_checkpoint  # noqa: E402
from resnorm_torch.strict import MAX_TEXT, Refused, check_world, printable, read_capped  # noqa: E402


def rank_env():
    return check_world()


def read_text(path, name):
    """The gpt corpus as the CLI finds and caps it (--data, $RESNORM_DATA, web/public/data/NAME.txt): a
    regular file of at most 256 MiB, refused from its size before it is read."""
    path = path or os.environ.get("RESNORM_DATA")
    if not path:
        if name == "text":
            raise Refused('config: data.name = "text" trains on a text you give: add --data TEXT_FILE')
        path = os.path.join(os.environ.get("RESNORM_DATA_DIR") or os.path.join(ROOT, "web", "public", "data"),
                            name + ".txt")
    try:
        return decode_text(read_capped(path, MAX_TEXT, "training text"), f"{printable(path)}: data: the text")
    except ValueError as e:
        raise Refused(str(e))


def check_text_splits(text, context, path):
    """data.cpp check_text_splits: both splits (the first 90%, the rest) need context + 2 characters."""
    n = len(text)
    n_train, need = n * 9 // 10, context + 2
    n_val = n - n_train
    if n_train < need or n_val < need:
        part = (f"training part (the first 90%, {n_train}" if n_train < need else
                f"validation part (the last 10%, {n_val}")
        raise Refused(f"{printable(path)}: data: the text has {n} characters: its {part} characters) is shorter than "
                      f"model.context + 2 = {need}, so no batch can be drawn; give a text of at least {need * 10} "
                      f"characters or a smaller model.context")


# ---------------------------------------------------------------- config: the core validates it
def resnorm_bin():
    b = os.environ.get("RESNORM_BIN") or os.path.join(ROOT, "build", "native", "resnorm")
    if os.path.isfile(b) and os.access(b, os.X_OK):
        return b
    found = shutil.which("resnorm")
    if found:
        return found
    raise Refused("the resnorm CLI validates configs and was not found at " + b + ": build it (cmake --preset native "
                  "&& cmake --build --preset native --target resnorm) or set RESNORM_BIN")


def core_config(preset=None, config_path=None, config_text=None):
    """The full config (defaults filled in) as the core validates it, or the core's error message."""
    args = [resnorm_bin(), "show", "--no-cap"]
    tmp = None
    if config_text is not None:
        tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        tmp.write(config_text)
        tmp.close()
        config_path = tmp.name
    args += ["--config", config_path] if config_path else ["--preset", preset]
    try:
        r = subprocess.run(args, capture_output=True, text=True)
    finally:
        if tmp:
            os.unlink(tmp.name)
    if r.returncode != 0:
        msg = r.stderr.strip().splitlines()[0] if r.stderr.strip() else f"resnorm show failed ({r.returncode})"
        if r.returncode < 0:
            msg = f"resnorm show ended by signal {-r.returncode}"
        raise Refused(msg[len("resnorm: "):] if msg.startswith("resnorm: ") else msg)
    return json.loads(r.stdout)


def learning_rate(o, step):
    """cpp/core/optimizer.cpp learning_rate(): linear warmup, then constant or cosine down to min_lr."""
    if step < o["warmup"]:
        return o["lr"] * (step + 1) / o["warmup"]
    if o["schedule"] == "constant":
        return o["lr"]
    span = max(1, o["steps"] - o["warmup"])
    progress = min(1.0, (step - o["warmup"]) / span)
    return o["min_lr"] + 0.5 * (o["lr"] - o["min_lr"]) * (1.0 + math.cos(3.141592653589793 * progress))


# ---------------------------------------------------------------- memory: what this device holds
def estimate_bytes(cfg, n_params, vocab, local_rows):
    """Parameters, gradients, two moments and DDP's gradient buckets (5 copies of the parameters), plus the
    activations autograd keeps for one local batch (float32; a deliberate overestimate by ~1.5x: residual
    stream, norms, qkv, attention scores and probabilities, the 4C MLP, logits and their softmax)."""
    m = cfg["model"]
    C, L = m["width"], m["depth"]
    if m["kind"] == "gpt":
        T, H = m["context"], m["heads"]
        per_token = L * (24 * C + 3 * H * T) + 3 * vocab + 2 * C
        acts = local_rows * T * per_token
    elif m["kind"] == "cnn":  # per stage s: (side / 2^s)^2 positions x C 2^s channels x ~12 saved tensors per block
        side = cfg["data"]["resolution"]
        acts = local_rows * sum(((side + (1 << s) - 1) >> s) ** 2 * (C << s) * (12 * L + 4) for s in range(3))
    else:
        acts = local_rows * (L * 8 * C + 4 * C + 3 * vocab)
    return 4.0 * (5 * n_params + acts)


def device_bytes_free(device, local_world):
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024 / max(1, local_world)
    return float("inf")


def check_memory(cfg, n_params, classes, local_rows, device, local_world):
    need, free = estimate_bytes(cfg, n_params, classes, local_rows), device_bytes_free(device, local_world)
    if need > 0.9 * free:
        raise Refused(f"this run needs about {need / 2**20:.0f} MiB per process ({n_params} parameters with their "
                      f"gradients and AdamW moments, activations of {local_rows} rows), more than the "
                      f"{free / 2**20:.0f} MiB this {device.type} device has free per process: use more processes, "
                      f"a smaller optim.batch, model.context, model.width or model.depth")


# ---------------------------------------------------------------- the optimiser, as the core's
class CoreOptimizer:
    """cpp/core/optimizer.cpp: AdamW (Loshchilov & Hutter 2019; decoupled decay p *= 1 - lr*wd on the decayed
    parameters, bias-corrected p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)) or SGD with momentum
    (buf = g + wd*p at the first step, then mom*buf + g + wd*p; p -= lr*buf). float32 constants as the core."""

    def __init__(self, o, named):
        self.o = o
        self.named = named  # [(name, param, decays, block or -1)]
        self.t = 0
        self.m = {n: torch.zeros_like(p) for n, p, _, _ in named}
        self.v = {n: torch.zeros_like(p) for n, p, _, _ in named} if o["name"] == "adamw" else {}

    @torch.no_grad()
    def update(self, lr, delta_sq):
        """One step at learning rate lr; adds each block's squared update norm into delta_sq[block]."""
        self.t += 1
        o, f32 = self.o, np.float32
        flr = float(f32(lr))
        for name, p, dec, block in self.named:
            g = p.grad
            old = p.detach().clone() if block >= 0 else None
            if o["name"] == "adamw":
                b1, b2 = f32(o["beta1"]), f32(o["beta2"])
                step_size = float(f32(lr / (1.0 - o["beta1"] ** self.t)))
                bc2_sqrt = float(f32(math.sqrt(1.0 - o["beta2"] ** self.t)))
                m, v = self.m[name], self.v[name]
                if dec and o["weight_decay"] > 0:
                    p.mul_(float(f32(1.0) - f32(flr) * f32(o["weight_decay"])))
                m.mul_(float(b1)).add_(g, alpha=float(f32(1.0) - b1))
                v.mul_(float(b2)).addcmul_(g, g, value=float(f32(1.0) - b2))
                p.sub_((m * step_size).div_(v.sqrt().div_(bc2_sqrt).add_(float(f32(o["eps"])))))
            else:
                buf, wd = self.m[name], float(f32(o["weight_decay"])) if dec else 0.0
                d = g + wd * p if wd else g.clone()
                if self.t == 1 or o["momentum"] == 0:
                    buf.copy_(d)
                else:
                    buf.mul_(float(f32(o["momentum"]))).add_(d)
                p.add_(buf * -flr)
            if old is not None:
                delta_sq[block] += float((p.double() - old.double()).pow(2).sum())

    # Checkpoint names, the same in the core (cpp/core/checkpoint.h): optim.exp_avg.<param>,
    # optim.exp_avg_sq.<param> (AdamW), optim.momentum_buffer.<param> (SGD).
    def state_tensors(self):
        out = {}
        if self.o["name"] == "adamw":
            for n in self.m:
                out["optim.exp_avg." + n] = self.m[n]
                out["optim.exp_avg_sq." + n] = self.v[n]
        else:
            for n in self.m:
                out["optim.momentum_buffer." + n] = self.m[n]
        return out

    def load_state(self, tensors, t):
        missing = [k for k in self.state_tensors() if k not in tensors]
        if missing:
            raise Refused(f'checkpoint: optimiser state tensor "{missing[0]}" is missing')
        with torch.no_grad():
            for k, dst in self.state_tensors().items():
                dst.copy_(tensors[k].to(dst.device))
        self.t = t


# ---------------------------------------------------------------- one process's run
def parse_args(argv):
    ap = argparse.ArgumentParser(prog="train.py", description="Train a ResNorm config in PyTorch, data-parallel "
                                 "under torchrun (python/resnorm_torch/train.py).")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--preset")
    g.add_argument("--config")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--log")
    ap.add_argument("--save")
    ap.add_argument("--load")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast for the forward pass (weights, "
                    "gradients and optimiser state stay float32)")
    ap.add_argument("--data", help="gpt: the training text (default $RESNORM_DATA or tinyshakespeare)")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--no-moments", action="store_true", help="--save without the optimiser state")
    a = ap.parse_args(argv)
    if a.steps is not None and not 1 <= a.steps <= 10000000:
        ap.error(f"--steps must be an integer in 1..10000000, got {a.steps}")
    return a


def check_writable(path):
    """checkpoint.cpp check_writable: a directory, a FIFO or socket (an open could block forever), or a
    missing or read-only folder is refused before any work; a character device (/dev/null) is a valid log."""
    d = os.path.dirname(os.path.abspath(path))
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise Refused(f'"{printable(path)}" is a directory, not a file')
    if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISCHR(st.st_mode)):
        raise Refused(f'"{printable(path)}" is not a regular file or a character device; give a file')
    if st is not None and not os.access(path, os.W_OK):
        raise Refused(f'cannot write "{printable(path)}": permission denied')
    if st is None and (not os.path.isdir(d) or not os.access(d, os.W_OK)):
        raise Refused(f'cannot write "{printable(path)}": its folder is missing or read-only')


def setup(a):
    rank, world = rank_env()
    cfg = core_config(preset=a.preset or ("mlp-spiral" if not a.config else None), config_path=a.config)
    if a.steps is not None:
        cfg["optim"]["steps"] = a.steps
    B = cfg["optim"]["batch"]
    if B % world:
        raise Refused(f"optim.batch = {B} does not divide by the {world} processes: the global batch is split "
                      f"evenly across them; use a batch that is a multiple of {world}, or --nproc_per_node that "
                      f"divides {B}")
    if a.device == "cuda" and not torch.cuda.is_available():
        raise Refused("--device cuda: this PyTorch has no CUDA device (torch.cuda.is_available() is False)")
    if a.bf16 and a.device == "cpu" and not hasattr(torch, "autocast"):
        raise Refused("--bf16 needs torch.autocast")
    for p in (a.save, a.log):
        if p:
            check_writable(p)
    return cfg, rank, world


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    rank = 0
    try:
        rank, world = rank_env()
        cfg, rank, world = setup(a)
        return run(a, cfg, rank, world)
    except Refused as e:
        if rank == 0:
            print(f"resnorm_torch: {printable(str(e))}", file=sys.stderr)
        return 1
    except MemoryError:
        print("resnorm_torch: out of memory", file=sys.stderr)
        return 1


def run(a, cfg, rank, world):
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    if a.device == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    distributed = "WORLD_SIZE" in os.environ and world >= 1 and "MASTER_ADDR" in os.environ
    if distributed:
        dist.init_process_group("nccl" if a.device == "cuda" else "gloo")
    try:
        return train(a, cfg, rank, world, device, local_world, distributed)
    finally:
        if distributed:
            dist.destroy_process_group()


def all_sum(t, distributed):
    if distributed:
        dist.all_reduce(t)
    return t


def train(a, cfg, rank, world, device, local_world, distributed):
    m, o = cfg["model"], cfg["optim"]
    gpt = m["kind"] == "gpt"
    try:
        text = read_text(a.data, cfg["data"]["name"]) if gpt else None
    except (OSError, ValueError) as e:
        raise Refused(str(e))
    if gpt:
        check_text_splits(text, m["context"], a.data or cfg["data"]["name"])  # before step 1, as the core
    try:
        batches = Batches(cfg, text, None)
    except ValueError as e:
        raise Refused(str(e))
    classes = batches.classes()
    local_rows = o["batch"] // world
    n_params = count_params(m, classes)  # every kind: checked before anything is allocated
    check_memory(cfg, n_params, classes, local_rows, device, local_world)
    model = build_model(m, classes)
    init_like_core(model, m, cfg["seed"])
    ck = None
    if a.load:  # the core's checks (checkpoint.py), then the tensors into model; a refusal changes nothing
        ck = read_checkpoint(a.load, cfg, text, model, o["name"], core_config, lambda mod: probe(mod, cfg, batches))
    named = []
    for name, p in model.named_parameters():
        block = int(name.split(".")[1]) if name.startswith("blocks.") else -1
        named.append((name, p, decays(name, p), block))
    opt = CoreOptimizer(o, named)
    step = 0
    if ck:
        step = ck["step"]
        if ck["optim_t"] is not None:
            opt.load_state(ck["tensors"], ck["optim_t"])
        if ck["batch_rng"] is not None:
            batches.rng.state, batches.rng.inc = ck["batch_rng"]
        if step >= o["steps"]:
            raise Refused(f"{a.load}: the checkpoint is at step {step} and this run ends at step {o['steps']} "
                          f"(optim.steps): nothing to train; give --steps above {step}")
    if distributed:
        model = sync_batchnorm(model, device.type)  # any BatchNorm (cnn) sees the global batch's statistics
    model.to(device)
    # sync_batchnorm may have replaced modules: the parameters are taken afresh, in the same order.
    named = [(n, p, d, b) for (n, p), (_, _, d, b) in zip(model.named_parameters(), named)]
    opt.named = named
    opt.m = {n: t.to(device) for n, t in opt.m.items()}
    opt.v = {n: t.to(device) for n, t in opt.v.items()}
    core = model
    net = model
    if distributed and world > 1:
        # Constant buffers (the causal masks, bool, which gloo cannot broadcast) are the same everywhere.
        torch.nn.parallel.DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(
            model, [n for n, buf in model.named_buffers() if buf.dtype == torch.bool])
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    L = len(core.blocks)  # mlp and gpt: model.depth blocks; cnn: 3 stages of model.depth
    acts, act_n = [None] * L, [1] * L

    def hook(i):
        def f(_mod, _inp, out):
            acts[i] = out.detach().float().double().pow(2).sum()
            act_n[i] = out.numel()  # this rank's elements: rows x width, or B x H x W x C for a cnn stage
        return f
    for i, blk in enumerate(core.blocks):
        blk.register_forward_hook(hook(i))
    if gpt:
        core.keep_attention()
    amp = torch.autocast(device_type=device.type, dtype=torch.bfloat16) if a.bf16 else None

    def forward(net_, x, y):
        if amp:
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
                return net_(x, y)
        return net_(x, y)

    def to_dev(x, y):
        xt = torch.from_numpy(np.ascontiguousarray(x)).to(device)
        return xt, torch.from_numpy(np.ascontiguousarray(y)).to(device)

    def evaluate():
        core.eval()
        if gpt:
            core.keep_attention(False)
        out = {}
        with torch.no_grad():
            if gpt:
                B, T = o["batch"], m["context"]
                for split in (0, 1):
                    total = 0.0
                    for x, y in batches.eval_batches(split):
                        xt, yt = to_dev(share(x, rank, world), share(y, rank, world))
                        logits, _ = forward(core, xt, None)
                        s = F.cross_entropy(logits.float().reshape(-1, classes), yt.reshape(-1), reduction="sum")
                        total += float(all_sum(s.double().reshape(1), distributed)) / (B * T)
                    out["val_loss" if split else "train_loss"] = total / cfg["eval"]["batches"]
            else:  # the whole dataset on every rank (no communication), in chunks as the core's evaluate
                for split, (x, y) in enumerate(((batches.x_train, batches.y_train), (batches.x_test, batches.y_test))):
                    loss_sum, correct = 0.0, 0
                    for start in range(0, len(y), 1024):
                        xt, yt = to_dev(x[start:start + 1024], y[start:start + 1024])
                        logits, _ = forward(core, xt, None)
                        logits = logits.float()
                        loss_sum += float(F.cross_entropy(logits, yt, reduction="sum"))
                        # the first largest probability, as the core (two classes: 1 only when above 0)
                        correct += int((logits.argmax(dim=1) == yt).sum())
                    out["val_loss" if split else "train_loss"] = loss_sum / len(y)
                    out["accuracy" if split else "train_accuracy"] = correct / len(y)
        core.train()
        if gpt:
            core.keep_attention(True)
        return out

    try:  # line-buffered: a write error (a full disk, /dev/full) shows at the step that hit it
        log = open(a.log, "w", buffering=1) if (a.log and rank == 0) else None
    except OSError as e:
        raise Refused(f'cannot write "{printable(a.log)}": {e.strerror}')
    failure = None  # a write error on the log: training stops, the checkpoint is still saved (as the core)
    quiet = a.quiet or rank != 0
    if not quiet:
        name = a.config or a.preset or "mlp-spiral"
        print(f"training {name}: {m['kind']}, depth {m['depth']}, width {m['width']}, residual {m['residual']}, norm "
              f"{m['norm']} ({m['placement']}), {n_params} parameters, {o['steps']} steps; {world} process"
              f"{'es' if world > 1 else ''} on {device.type}{' (bf16 autocast)' if a.bf16 else ''}, "
              f"{local_rows} rows each", file=sys.stderr)
    rows_per_step = o["batch"] * (m["context"] if gpt else 1)
    unit = "tokens" if gpt else "samples"
    start = time.perf_counter()
    last_print, first_step, diverged_in_a_row, ev = start, step, 0, {}
    # Ctrl-C or SIGTERM, as the core (cpp/tools/resnorm.cpp): the step under way finishes, its log line is
    # written whole, the checkpoint is saved (with --save), exit 128 + the signal; a second signal ends at once.
    stop = {"sig": 0}

    def on_signal(sig, _frame):
        if stop["sig"]:
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
            return
        stop["sig"] = sig
    old_handlers = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        old = signal.getsignal(sig)
        if old != signal.SIG_IGN:  # started ignored (nohup, a background job): stays ignored
            old_handlers[sig] = signal.signal(sig, on_signal)
    # With --save: the parameters before the step under way, and the last ones a step found finite; exit 3
    # saves those (the update before a diverged step may already make every forward overflow), as the core.
    pending, good, good_step = None, None, -1
    gave_up = False
    while step < o["steps"] and not stop["sig"]:
        if a.save:
            pending = [p.detach().clone() for _, p, _, _ in named]
        t0 = time.perf_counter()
        x, y = batches.next_train()
        xt, yt = to_dev(share(x, rank, world), share(y, rank, world))
        for p in core.parameters():
            p.grad = None
        _, loss = forward(net, xt, yt)
        loss.backward()
        # Global values from the local ones: loss and entropy are means over equal shares; RMS from sums.
        red = [loss.detach().double().reshape(1) / world, torch.stack(acts).reshape(-1)]
        ent_n = 0
        if gpt:
            ent = []
            for att in core.attention_probs():  # [b, H, T, T]
                ent.append(-(att * att.clamp_min(1e-30).log()).double().sum(dim=(0, 2, 3)))
            red.append(torch.cat(ent))
            ent_n = len(red[-1])
        flat = all_sum(torch.cat([r.to(device) for r in red]), distributed).cpu()
        loss_v = float(flat[0])
        rows = o["batch"] * (m["context"] if gpt else 1)
        act_rms = [math.sqrt(float(v) / (n * world)) for v, n in zip(flat[1:1 + L], act_n)]
        entropy = [float(v) / rows for v in flat[1 + L:1 + L + ent_n]]
        # Gradient norms (the averaged gradients: the same on every rank) and weight norms, float64.
        block_sq, weight_sq, total = [0.0] * L, [0.0] * L, 0.0
        with torch.no_grad():
            for name, p, _, b in named:
                sq = float(p.grad.double().pow(2).sum()) if p.grad is not None else 0.0
                total += sq
                if b >= 0:
                    block_sq[b] += sq
                    weight_sq[b] += float(p.double().pow(2).sum())
        lr = learning_rate(o, step)
        rec = {"step": step + 1, "loss": loss_v, "lr": lr, "grad_norm": math.sqrt(total),
               "block_grad_norm": [math.sqrt(s) for s in block_sq], "block_act_rms": act_rms,
               "update_ratio": [0.0] * L}
        if gpt:
            rec["attn_entropy"] = entropy
        divergence = None
        if not math.isfinite(loss_v):
            divergence = f"loss is not finite at step {step + 1}"
        elif not math.isfinite(total):
            where = next((b for b in range(L) if not math.isfinite(block_sq[b])), -1)
            divergence = ("gradient is not finite" + (f" in block {where}" if where >= 0 else " outside the blocks") +
                          f" at step {step + 1}")
        if divergence is None:
            if o["clip"] > 0:  # torch.nn.utils.clip_grad_norm_'s rule, as the core
                coef = o["clip"] / (rec["grad_norm"] + 1e-6)
                if coef < 1.0:
                    with torch.no_grad():
                        for _, p, _, _ in named:
                            if p.grad is not None:
                                p.grad.mul_(float(np.float32(coef)))
            delta_sq = [0.0] * L
            opt.update(lr, delta_sq)
            rec["update_ratio"] = [math.sqrt(d) / (math.sqrt(w) + 1e-12) for d, w in zip(delta_sq, weight_sq)]
        step += 1
        if a.save and divergence is None:
            good, good_step = pending, step - 1
        if device.type == "cuda":
            torch.cuda.synchronize()
        rec["ms"] = (time.perf_counter() - t0) * 1000.0
        if divergence:
            rec["diverged"], rec["divergence"] = True, divergence
        last = step == o["steps"]
        eval_now = last or (cfg["eval"]["every"] > 0 and step % cfg["eval"]["every"] == 0)
        if eval_now:
            ev = evaluate()
            rec["train_loss"], rec["val_loss"] = ev["train_loss"], ev["val_loss"]
            if not gpt:
                rec["accuracy"] = ev["accuracy"]
        if log:
            try:
                log.write(json.dumps(_finite(rec), separators=(",", ":")) + "\n")
            except OSError as e:
                failure = f'writing "{printable(a.log)}" failed at step {step} ({e.strerror})'
                break
        if divergence:
            if not quiet:
                print(f"diverged: {divergence} (update skipped; continuing from the last good parameters)",
                      file=sys.stderr)
            diverged_in_a_row += 1
            if diverged_in_a_row >= 20:
                if not quiet:
                    print("stopping: 20 diverged steps in a row; try a smaller optim.lr or a warmup", file=sys.stderr)
                gave_up = True
                break
        else:
            diverged_in_a_row = 0
        now = time.perf_counter()
        if not quiet and (eval_now or now - last_print > 1.0):
            el = now - start
            rate = (step - first_step) * rows_per_step / max(el, 1e-9)
            line = (f"step {step:6d}/{o['steps']}  loss {loss_v:.4f}  lr {lr:.2e}  |g| {rec['grad_norm']:.3f}  "
                    f"{rec['ms']:.2f} ms/step  {rate:.0f} {unit}/s")
            if eval_now:
                line += f"  val_loss {ev['val_loss']:.4f}" + ("" if gpt else f"  test_acc {100 * ev['accuracy']:.1f}%")
            print(line, file=sys.stderr)
            last_print = now
    if log:
        try:
            log.close()
        except OSError as e:
            failure = failure or f'writing "{printable(a.log)}" failed ({e.strerror})'
    if stop["sig"] and not quiet:
        print(f"interrupted ({'SIGINT' if stop['sig'] == signal.SIGINT else 'SIGTERM'}) after step {step}", file=sys.stderr)
    rewind = False
    if rank == 0:
        if not stop["sig"] and failure is None and not gave_up:
            summary = {"steps": step, "train_loss": ev.get("train_loss"), "val_loss": ev.get("val_loss")}
            if not gpt:
                summary["train_accuracy"], summary["accuracy"] = ev.get("train_accuracy"), ev.get("accuracy")
            print(json.dumps(summary, separators=(",", ":")))
        if a.save:
            rewind = gave_up and good is not None  # the moments saw the diverged steps: left out
            if rewind:
                with torch.no_grad():
                    for (_, p, _, _), g in zip(named, good):
                        p.copy_(g)
                step = good_step
            tensors = {n: p.detach() for n, p, _, _ in named}
            # BatchNorm's running statistics (persistent buffers; the causal masks are not), as the core saves them
            persistent = core.state_dict()
            tensors.update({n: b.detach() for n, b in core.named_buffers() if n in persistent})
            moments = not a.no_moments and not rewind
            if moments:
                tensors.update(opt.state_tensors())
            held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})  # no signal mid-save
            try:
                write_checkpoint(a.save, cfg, batches.vocab, step, tensors,
                                 (o["name"], opt.t, (batches.rng.state, batches.rng.inc)) if moments else None)
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
            print(f"saved {printable(a.save)} (step {step}"
                  f"{': the last parameters whose loss was finite, without the optimiser' + chr(39) + 's moments' if rewind else ''})",
                  file=sys.stderr)
    for sig, old in old_handlers.items():
        signal.signal(sig, old)
    if failure:
        raise Refused(failure)
    if gave_up:
        return 3
    return 128 + stop["sig"] if stop["sig"] else 0


def probe(model, cfg, batches):
    """Trainer::load's probe (cpp/core/trainer.cpp): one forward on a fixed small input must be finite: four
    points of the plane (mlp), the first min(context, 8) token ids (gpt), the first held-out digit (cnn)."""
    m = cfg["model"]
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            if m["kind"] == "gpt":
                T = min(m["context"], 8)
                x = torch.tensor([[t % batches.classes() for t in range(T)]])
            elif m["kind"] == "cnn":
                x = torch.from_numpy(np.ascontiguousarray(batches.x_test[:1]))
            else:
                x = torch.tensor([[-1.0, -1.0], [1.0, 1.0], [0.5, -0.25], [-0.75, 0.5]])
            logits, _ = model(x, None)
            return bool(torch.isfinite(logits).all())
    finally:
        model.train(was)


def _finite(rec):
    """JSON has no NaN/Inf: the core's log writes null for them."""
    def f(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, list):
            return [f(x) for x in v]
        return v
    return {k: f(v) for k, v in rec.items()}


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    sys.exit(main())
