# The PyTorch twin of the C++ core's models (mlp and char-level gpt with residual x norm x placement
# blocks), built from our config JSON with the same parameter names, plus our safetensors reader/writer.
# The parity tests (tests/torch_ref/parity.py) and the data-parallel trainer (train.py) both use it.
"""Models of ResNorm Playground in PyTorch, written against cpp/core/model.cpp's stated semantics.

Every sublayer (the mlp block's Linear + activation, the transformer's attention and MLP) is
wrapped by one routine:
    pre:      y = R(x, F(Norm(x)))        Xiong et al. 2020, "On Layer Normalization in the
                                          Transformer Architecture" (final norm before the head)
    post:     y = Norm(R(x, F(x)))        Vaswani et al. 2017
    sandwich: y = R(x, Norm(F(Norm(x))))  Ding et al. 2021, CogView
with R(x, f) = f | x + f | x + a*f (ReZero, Bachlechner et al. 2020, a learned, starts at 0)
| alpha*x + f (DeepNorm, Wang et al. 2022, alpha = (2N)^(1/4), N = depth).

Norms: LayerNorm (Ba et al. 2016) through F.layer_norm (biased variance, eps inside the sqrt);
RMSNorm (Zhang & Sennrich 2019) as x * rsqrt(mean(x^2) + eps) * w. GELU is PyTorch's tanh
approximation. Attention is causal multi-head self-attention over a packed qkv Linear whose
output per token is [q | k | v], head h owning columns h*hd:(h+1)*hd of each part.

Safetensors (huggingface.co/docs/safetensors): 8-byte little-endian header length, a JSON header
(dtype, shape, data_offsets per tensor; "__metadata__" holds string pairs), then raw bytes. There is
no safetensors package on this machine, so the format is read here directly.

Model kinds: MODEL_KINDS maps config model.kind to a builder (model config, vocab or classes) ->
nn.Module whose forward(inputs, targets) returns (logits, loss) and which has a `blocks` ModuleList
(the per-block diagnostics hook into it). A new kind (e.g. cnn) registers its builder there;
init_like_core() and decays() follow the core's rules by parameter name, and sync_batchnorm() makes
any BatchNorm layer synchronise its batch statistics across data-parallel processes.

Run as a script it is the "load our checkpoint into PyTorch" example:
    /usr/bin/python3 python/resnorm_torch/model.py run.safetensors [--prompt TEXT] [--tokens N]
"""
import argparse
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

try:  # run as a script (python/resnorm_torch/model.py) or imported as resnorm_torch.model
    from .cnn import ResNet
    from .rng import Rng
except ImportError:
    from cnn import ResNet
    from rng import Rng

_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64}


def load_safetensors(path):
    """Reads a safetensors file. Returns (state_dict: name -> tensor, metadata: dict of str). For the reference
    tests (tests/torch_ref) reading files the core just wrote; loading a checkpoint for use goes through
    from_checkpoint or checkpoint.read_checkpoint, which make every check the core makes."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes, too short for a safetensors header")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file ({len(raw)} bytes)")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, entry in header.items():
        dtype = _DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has unsupported dtype {entry['dtype']}")
        begin, end = entry["data_offsets"]
        if not 0 <= begin <= end <= len(data):
            raise ValueError(f"{path}: tensor {name!r} byte range {begin}..{end} outside the data section")
        buf = bytearray(data[begin:end])  # a writable copy, so frombuffer does not warn
        t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(entry["shape"]).clone()
    return tensors, metadata


class Norm(nn.Module):
    """LayerNorm (weight, bias) or RMSNorm (weight only) over the last dimension."""

    def __init__(self, kind, width, eps):
        super().__init__()
        self.kind, self.width, self.eps = kind, width, eps
        self.weight = nn.Parameter(torch.ones(width))
        if kind == "layernorm":
            self.bias = nn.Parameter(torch.zeros(width))

    def forward(self, x):
        # Under bf16 autocast the statistics are taken in float32, as CUDA autocast does for layer_norm
        # (PyTorch's autocast op lists); CPU autocast in 1.13 would hand layer_norm bf16 input with float32
        # weights and fail. Outside autocast x is already float32 and this changes nothing.
        x = x.float()
        if self.kind == "layernorm":
            return F.layer_norm(x, (self.width,), self.weight, self.bias, self.eps)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class BatchNorm(nn.BatchNorm1d):
    """The mlp's BatchNorm over the batch (PyTorch's BatchNorm1d, momentum 0.1, as the core), statistics in
    float32 under bf16 autocast as the other norms."""

    def forward(self, x):
        return super().forward(x.float())


def make_norm(kind, width, eps):
    return BatchNorm(width, eps=eps, momentum=0.1) if kind == "batchnorm" else Norm(kind, width, eps)


class Sublayer(nn.Module):
    """One branch F wrapped by the residual/norm/placement settings. branch: act | attn | ffn."""

    keep_attention = False  # attn: keep the last forward's softmax probabilities in last_att

    def __init__(self, m, branch):
        super().__init__()
        C = m["width"]
        self.branch, self.m = branch, m
        has_norm = m["norm"] != "none"
        self.placement, self.residual = m["placement"], m["residual"]
        if has_norm and self.placement != "post":
            self.norm_in = make_norm(m["norm"], C, m["eps"])
        if branch == "act":
            self.fc = nn.Linear(C, C)
        elif branch == "attn":
            self.heads = m["heads"]
            self.qkv = nn.Linear(C, 3 * C)
            self.proj = nn.Linear(C, C)
            T = m["context"]
            self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)), persistent=False)
        else:  # ffn
            self.fc = nn.Linear(C, 4 * C)
            self.proj = nn.Linear(4 * C, C)
        if has_norm and self.placement != "pre":
            self.norm_out = make_norm(m["norm"], C, m["eps"])
        if self.residual == "rezero":
            self.rezero = nn.Parameter(torch.zeros(1))
        self.alpha = (2.0 * m["depth"]) ** 0.25  # DeepNorm, decoder-only (Wang et al. 2022)

    def attention(self, h):
        B, T, C = h.shape
        H = self.heads
        hd = C // H
        q, k, v = self.qkv(h).split(C, dim=2)
        q, k, v = (t.view(B, T, H, hd).transpose(1, 2) for t in (q, k, v))  # [B,H,T,hd]
        s = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        s = s.masked_fill(~self.mask[:T, :T], float("-inf"))
        att = F.softmax(s, dim=-1)  # [B,H,T,T]; masked entries are exactly 0
        if self.keep_attention:  # opt-in (ResNormModel.keep_attention), so benchmarks store nothing
            self.last_att = att.detach()
        y = att @ v  # [B,H,T,hd]
        return self.proj(y.transpose(1, 2).reshape(B, T, C))

    def f(self, h):
        if self.branch == "act":
            u = self.fc(h)
            act = self.m["activation"]
            if act == "relu":
                return F.relu(u)
            if act == "tanh":
                return torch.tanh(u)
            return F.gelu(u, approximate="tanh")
        if self.branch == "attn":
            return self.attention(h)
        return self.proj(F.gelu(self.fc(h), approximate="tanh"))

    def forward(self, x):
        h = self.norm_in(x) if hasattr(self, "norm_in") else x
        f = self.f(h)
        if self.placement == "sandwich" and hasattr(self, "norm_out"):
            f = self.norm_out(f)
        if self.residual == "none":
            y = f
        elif self.residual == "identity":
            y = x + f
        elif self.residual == "rezero":
            y = x + self.rezero * f
        elif self.residual == "doubled":  # the article's `return x + x`: F(x) + F(x), no shortcut
            y = f + f
        else:  # deepnorm
            y = self.alpha * x + f
        if self.placement == "post" and hasattr(self, "norm_out"):
            y = self.norm_out(y)
        return y


class Block(nn.Module):
    def __init__(self, m):
        super().__init__()
        if m["kind"] == "gpt":
            self.attn = Sublayer(m, "attn")
            self.mlp = Sublayer(m, "ffn")
        else:
            self.mlp = Sublayer(m, "act")

    def forward(self, x):
        if hasattr(self, "attn"):
            x = self.attn(x)
        return self.mlp(x)


class ResNormModel(nn.Module):
    """mlp: points [B,2] -> logits [B,classes]. gpt: tokens [B,T] -> logits [B,T,vocab].

    Initial values are placeholders: the parameters are meant to be loaded from our checkpoint.
    """

    def __init__(self, model_cfg, vocab):
        super().__init__()
        m = dict(model_cfg)
        self.cfg, self.vocab = m, vocab
        C = m["width"]
        if m["kind"] == "gpt":
            self.wte = nn.Embedding(vocab, C)
            self.wpe = nn.Embedding(m["context"], C)
        else:
            self.stem = nn.Linear(2, C)
        self.blocks = nn.ModuleList(Block(m) for _ in range(m["depth"]))
        if m["norm"] != "none" and m["placement"] != "post":
            self.norm_f = make_norm(m["norm"], C, m["eps"])
        if m["kind"] == "gpt":
            self.lm_head = nn.Linear(C, vocab, bias=False)
        else:
            self.head = nn.Linear(C, vocab)

    def keep_attention(self, on=True):
        """gpt: from now on each forward keeps its attention probabilities; see attention_probs()."""
        for b in self.blocks:
            if hasattr(b, "attn"):
                b.attn.keep_attention = on

    def attention_probs(self):
        """gpt, after keep_attention() and a forward: per layer the softmax probabilities [B,H,T,T]."""
        return [b.attn.last_att for b in self.blocks if hasattr(b, "attn")]

    def forward(self, inputs, targets=None):
        if self.cfg["kind"] == "gpt":
            T = inputs.shape[1]
            x = self.wte(inputs) + self.wpe(torch.arange(T, device=inputs.device))
        else:
            x = self.stem(inputs)
        for b in self.blocks:
            x = b(x)
        if hasattr(self, "norm_f"):
            x = self.norm_f(x)
        logits = self.lm_head(x) if self.cfg["kind"] == "gpt" else self.head(x)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss


def _build_resnorm(model_cfg, vocab):
    return ResNormModel(model_cfg, vocab)


# model.kind -> builder(model config dict, vocab or classes) -> nn.Module (see the module docstring).
MODEL_KINDS = {"mlp": _build_resnorm, "gpt": _build_resnorm, "cnn": lambda m, classes: ResNet(m, classes)}


def count_params(model_cfg, vocab):
    """Parameters of the model a config builds, without building it (the twin checks its device's memory
    first). None for a kind without a formula here: then the model is built to count them."""
    m = model_cfg
    kind, C, L = m.get("kind"), m["width"], m["depth"]
    if kind == "cnn":  # cnn.py ResNet, module by module
        def nrm(c):
            return {"layernorm": 2 * c, "batchnorm": 2 * c, "rmsnorm": c}.get(m["norm"], 0)
        pre, post = m["placement"] == "pre", m["placement"] == "post"
        n, cin = 9 * C + (nrm(C) if post else 0), C
        for stage in range(3):
            cout = C << stage
            for i in range(L):
                stride = 2 if stage > 0 and i == 0 else 1
                n += 9 * cin * cout + nrm(cin if pre else cout) + 9 * cout * cout + nrm(cout)
                if m["residual"] in ("identity", "rezero") and (stride != 1 or cin != cout):
                    n += cin * cout + (0 if pre else nrm(cout))
                n += m["residual"] == "rezero"
                cin = cout
        return n + (nrm(cin) if pre else 0) + cin * vocab + vocab
    if kind not in ("mlp", "gpt"):
        return None
    norm = {"layernorm": 2 * C, "batchnorm": 2 * C, "rmsnorm": C}.get(m["norm"], 0)
    per_sub = norm * ((m["placement"] != "post") + (m["placement"] != "pre")) + (m["residual"] == "rezero")
    final = norm if m["placement"] != "post" else 0
    if kind == "gpt":
        block = (3 * C * C + 3 * C + C * C + C) + (4 * C * C + 4 * C + 4 * C * C + C) + 2 * per_sub
        return vocab * C + m["context"] * C + L * block + final + vocab * C
    return 3 * C + L * (C * C + C + per_sub) + final + vocab * C + vocab


def build_model(model_cfg, vocab):
    kind = model_cfg.get("kind")
    if kind not in MODEL_KINDS:
        raise ValueError(f"model.kind = {kind!r} has no PyTorch builder (known: {', '.join(sorted(MODEL_KINDS))})")
    return MODEL_KINDS[kind](model_cfg, vocab)


def decays(name, p):
    """Whether the core's optimiser applies weight decay to this parameter (cpp/core/model.cpp make_plan):
    matrices and embeddings do; biases, norm gains and ReZero gates do not."""
    return p.dim() >= 2


def init_like_core(model, model_cfg, seed):
    """Model::init (cpp/core/model.cpp) on the same Rng stream, in the core's parameter order (which is
    the module's registration order): the same seed gives the same initial weights, bit for bit.
    nn.Linear U(-1/sqrt(fan_in), 1/sqrt(fan_in)); embeddings N(0, 1); norm gains 1, biases 0; ReZero 0;
    DeepNorm (Wang et al. 2022) scales branch weights by beta = (8N)^(-1/4)."""
    rng = Rng(seed, 0x1417)
    deepnorm = model_cfg.get("residual") == "deepnorm"
    gpt = model_cfg.get("kind") == "gpt"
    beta = float(torch.tensor((8.0 * model_cfg["depth"]) ** -0.25, dtype=torch.float32))
    fan_in = 1
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm_" in name:
                p.fill_(1.0 if name.endswith(".weight") else 0.0)
                continue
            if name.endswith(".rezero"):
                p.zero_()
                continue
            if name in ("wte.weight", "wpe.weight"):
                vals = rng.normal_many(p.numel())
            else:
                if not name.endswith(".bias"):  # a bias follows its weight; a conv's fan_in is IC * K * K
                    fan_in = int(np.prod(p.shape[1:]))
                k = np.float32(1.0) / np.sqrt(np.float32(fan_in))
                vals = rng.uniform_many(-k, k, p.numel())
            t = torch.from_numpy(np.ascontiguousarray(vals, dtype=np.float32)).view(p.shape)
            if deepnorm:
                if name.endswith("mlp.fc.weight") or (gpt and name.endswith(".proj.weight")):
                    t *= beta
                if name.endswith("attn.qkv.weight"):
                    t.view(-1)[2 * t.numel() // 3:] *= beta
            p.copy_(t.to(p.device))


class _GlooSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm whose training statistics are the whole global batch's, over any process group
    backend: per-channel sum, sum of squares and count are all-reduced with the differentiable
    torch.distributed.nn.functional.all_reduce (PyTorch 1.13's nn.SyncBatchNorm runs on CUDA only).
    Biased variance normalises, the unbiased one goes into the running estimate, as nn.BatchNorm."""

    def _check_input_dim(self, x):
        if x.dim() < 2:
            raise ValueError(f"expected at least 2-D input, got {x.dim()}-D")

    def forward(self, x):
        x = x.float()  # statistics in float32 under bf16 autocast, as the unsynchronised norms
        if not self.training or not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce
        dims = [d for d in range(x.dim()) if d != 1]
        n = torch.tensor([x.numel() / x.shape[1]], dtype=x.dtype, device=x.device)
        stats = all_reduce(torch.cat([x.sum(dims), (x * x).sum(dims), n]))
        C = x.shape[1]
        count = stats[-1]
        mean = stats[:C] / count
        var = (stats[C:2 * C] / count - mean * mean).clamp_min(0)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                mom = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(1 - mom).add_(mom * mean.detach())
                self.running_var.mul_(1 - mom).add_(mom * var.detach() * count / max(count - 1, 1))
        shape = [1, C] + [1] * (x.dim() - 2)
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y


def sync_batchnorm(model, device_type="cpu"):
    """Replaces every BatchNorm (1d/2d/3d, any _BatchNorm) by one that synchronises its statistics
    across processes, keeping the parameter and buffer names (so checkpoints are unchanged): PyTorch's
    nn.SyncBatchNorm on CUDA (nccl), _GlooSyncBatchNorm elsewhere. Without BatchNorm it changes nothing."""
    if device_type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)

    def convert(mod):
        out = mod
        if isinstance(mod, nn.modules.batchnorm._BatchNorm) and not isinstance(mod, _GlooSyncBatchNorm):
            out = _GlooSyncBatchNorm(mod.num_features, mod.eps, mod.momentum, mod.affine, mod.track_running_stats)
            with torch.no_grad():
                if mod.affine:
                    out.weight.copy_(mod.weight)
                    out.bias.copy_(mod.bias)
                if mod.track_running_stats:
                    out.running_mean.copy_(mod.running_mean)
                    out.running_var.copy_(mod.running_var)
                    out.num_batches_tracked.copy_(mod.num_batches_tracked)
            out.train(mod.training)
        for name, child in mod.named_children():
            out.add_module(name, convert(child))
        return out

    return convert(model)


def from_checkpoint(path):
    """Builds the model described by a resnorm checkpoint and loads its tensors with every check the core's
    loader makes (checkpoint.py read_checkpoint: a strict header, the config validated by the core, finite
    weights, the forward probe); a refusal raises strict.Refused with one line.

    Returns (model, config dict, vocab string or None).
    """
    try:
        from .checkpoint import read_checkpoint
        from .strict import Refused, read_header, vocab_from_metadata
        from .train import core_config
    except ImportError:
        from checkpoint import read_checkpoint
        from strict import Refused, read_header, vocab_from_metadata
        from train import core_config
    entries, meta, f, _ = read_header(path)
    f.close()
    if "config" not in meta:
        raise Refused(f"{path}: checkpoint: metadata has no \"config\" (not saved by resnorm?)")
    try:
        cfg = core_config(config_text=meta["config"])
    except Refused as e:
        raise Refused(f"{path}: checkpoint: its config is invalid: {e}")
    vocab = None
    if cfg["model"]["kind"] == "gpt":
        try:
            vocab = vocab_from_metadata(meta)
        except Refused as e:
            raise Refused(f"{path}: {e}")
        classes = len(vocab)
    else:
        head = entries.get("head.weight")
        classes = head["shape"][0] if head and len(head["shape"]) == 2 else (10 if cfg["model"]["kind"] == "cnn" else 2)
    n = count_params(cfg["model"], classes)
    if n is not None and n > (1 << 31):
        raise Refused(f"{path}: checkpoint: its model has {n} parameters, more than this loader takes")
    model = build_model(cfg["model"], classes)

    def probe(mod):
        m = cfg["model"]
        mod.eval()
        with torch.no_grad():
            if m["kind"] == "gpt":
                x = torch.tensor([[t % classes for t in range(min(m["context"], 8))]])
            elif m["kind"] == "cnn":
                r = cfg["data"]["resolution"]
                x = torch.zeros(1, r * r)
            else:
                x = torch.tensor([[-1.0, -1.0], [1.0, 1.0], [0.5, -0.25], [-0.75, 0.5]])
            ok = bool(torch.isfinite(mod(x, None)[0]).all())
        mod.train()
        return ok
    read_checkpoint(path, cfg, vocab, model, None, core_config, probe)
    return model, cfg, vocab


def _main():
    ap = argparse.ArgumentParser(description="Load a resnorm checkpoint into PyTorch and use it.")
    ap.add_argument("checkpoint")
    ap.add_argument("--prompt", default="\n", help="gpt: text to continue")
    ap.add_argument("--tokens", type=int, default=200, help="gpt: characters to sample")
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=1337)
    args = ap.parse_args()
    try:
        model, cfg, vocab = from_checkpoint(args.checkpoint)
    except Exception as e:  # strict.Refused: one line, no traceback
        if type(e).__name__ != "Refused":
            raise
        sys.exit(f"resnorm_torch: {e}")
    model.eval()
    n = sum(p.numel() for p in model.parameters())
    m = cfg["model"]
    print(f"{m['kind']}: depth {m['depth']}, width {m['width']}, residual {m['residual']}, norm {m['norm']}, "
          f"placement {m['placement']}; {n} parameters loaded")
    torch.manual_seed(args.seed)
    with torch.no_grad():
        if m["kind"] == "gpt":
            index = {c: i for i, c in enumerate(vocab)}
            bad = [c for c in args.prompt if c not in index]
            if bad:
                sys.exit(f"prompt character {bad[0]!r} is not in the checkpoint's vocabulary")
            ids = [index[c] for c in args.prompt]
            out = []
            for _ in range(args.tokens):
                ctx = torch.tensor([ids[-m["context"]:]])
                logits, _ = model(ctx)
                p = F.softmax(logits[0, -1] / max(args.temperature, 1e-6), dim=-1)
                ids.append(int(torch.multinomial(p, 1)))
                out.append(vocab[ids[-1]])
            print(args.prompt + "".join(out))
        else:
            pts = torch.tensor([[0.0, 0.0], [0.5, 0.5], [-0.5, 0.5], [1.0, -1.0]])
            logits, _ = model(pts)
            for p, pr in zip(pts.tolist(), F.softmax(logits, -1)[:, 1].tolist()):
                print(f"P(class 1 | x={p[0]:+.2f}, y={p[1]:+.2f}) = {pr:.4f}")


if __name__ == "__main__":
    _main()
