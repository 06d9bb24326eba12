# Checkpoints in the core's format (cpp/core/checkpoint.cpp): safetensors (huggingface.co/docs/safetensors:
# 8-byte little-endian header length, a JSON header of dtype/shape/data_offsets per tensor, raw bytes), F32
# tensors named as the core's parameters, "__metadata__" with format, config, step and (gpt) vocab.
"""Optional optimiser state, read and written by both sides (cpp/core/checkpoint.h documents the same):

  tensors   optim.exp_avg.<param>, optim.exp_avg_sq.<param>   AdamW first and second moments
            optim.momentum_buffer.<param>                      SGD momentum buffer
  metadata  optim_state  "adamw" | "sgd"   which optimiser the tensors belong to
            optim_t      updates applied so far (the bias corrections' t; diverged steps skip one)
            batch_rng    "STATE INC": the training batch generator's PCG32 state and increment, decimal,
                         so a resumed run draws the batches the uninterrupted run would have

A checkpoint without them (older ones, --no-moments) loads with fresh moments and the batch stream
restarted at the seed, as before.
"""
import json
import os
import struct

import torch

try:
    from .model import load_safetensors
except ImportError:
    from model import load_safetensors

FORMAT = "resnorm-safetensors-1"


def write_checkpoint(path, cfg, vocab, step, tensors, state=None):
    """tensors: name -> float32 tensor (int64 for num_batches_tracked), parameters first. state: None or
    (optim name, t, (rng state, rng inc)). Written to path.tmp, then renamed over path."""
    meta = {"format": FORMAT, "config": json.dumps(cfg, separators=(",", ":")), "step": str(step)}
    if vocab is not None:  # code points, as the core writes them since its Unicode vocabulary
        meta["vocab"] = json.dumps([ord(c) for c in vocab], separators=(",", ":"))
        meta["vocab_format"] = "codepoints"
    if state is not None:
        meta["optim_state"], meta["optim_t"] = state[0], str(state[1])
        meta["batch_rng"] = f"{state[2][0]} {state[2][1]}"
    header = {"__metadata__": meta}
    blobs, off = [], 0
    for name, t in tensors.items():
        i64 = t.dtype == torch.int64  # BatchNorm's num_batches_tracked, I64 as PyTorch and the core keep it
        a = t.detach().to("cpu", torch.int64 if i64 else torch.float32).contiguous().numpy()
        a = a.astype("<i8" if i64 else "<f4", copy=False)
        header[name] = {"dtype": "I64" if i64 else "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Refused(Exception):
    """Bad input (a config, a file, an argument): train.py prints 'resnorm_torch: MESSAGE' and exits 1."""


def read_checkpoint(path, cfg, text=None):
    """Reads a checkpoint for a run of cfg. The rule is the core's (check_checkpoint_fits): the checkpoint's
    model section must equal the run's field by field, its vocabulary the run's text's; optim, data, eval
    and seed are the run's own. Returns a dict: params, tensors, step, vocab, optim_name, optim_t, batch_rng."""
    try:
        tensors, meta = load_safetensors(path)
    except (OSError, ValueError, KeyError) as e:
        raise Refused(f"{path}: checkpoint: {e}")
    if meta.get("format") != FORMAT:
        raise Refused(f'{path}: checkpoint: unknown format "{meta.get("format")}" (not saved by resnorm?)')
    try:
        theirs = json.loads(meta["config"])
        step = int(meta["step"])
    except (KeyError, ValueError) as e:
        raise Refused(f"{path}: checkpoint: bad config or step in its metadata ({e})")
    for k, v in cfg["model"].items():
        if theirs.get("model", {}).get(k) != v:
            raise Refused(f"{path}: checkpoint: it was saved with model.{k} = {json.dumps(theirs['model'].get(k))}, "
                          f"this run has {json.dumps(v)}")
    vocab = None
    if cfg["model"]["kind"] == "gpt":
        fmt = meta.get("vocab_format")
        if fmt not in (None, "codepoints"):
            raise Refused(f'{path}: checkpoint: unknown vocab_format "{fmt}" (known: codepoints, or none for bytes)')
        try:  # no vocab_format: the first format's byte values, read as Latin-1 code points (as the core)
            vocab = "".join(map(chr, json.loads(meta["vocab"])))
        except (KeyError, ValueError, TypeError) as e:
            raise Refused(f"{path}: checkpoint: bad vocab in its metadata ({e})")
        if text is not None:
            mine = "".join(sorted(set(text)))
            if mine != vocab:
                raise Refused(f"{path}: checkpoint: its vocabulary ({len(vocab)} characters) differs from this run's "
                              f"text ({len(mine)})")
    for name, t in tensors.items():
        if not torch.isfinite(t).all():
            raise Refused(f'{path}: checkpoint: tensor "{name}" holds a non-finite value')
    rng = None
    if "batch_rng" in meta:
        s, i = meta["batch_rng"].split()
        rng = (int(s), int(i))
    return {"params": {k: v for k, v in tensors.items() if not k.startswith("optim.")}, "tensors": tensors,
            "step": step, "vocab": vocab, "optim_name": meta.get("optim_state"),
            "optim_t": int(meta["optim_t"]) if "optim_t" in meta else None, "batch_rng": rng}
