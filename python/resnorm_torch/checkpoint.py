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
import tempfile

import torch

try:
    from .strict import Refused, check_step, c_strtol_whole, c_strtoull_pair, printable, read_data, read_header, \
        vocab_from_metadata
except ImportError:
    from strict import Refused, check_step, c_strtol_whole, c_strtoull_pair, printable, read_data, read_header, \
        vocab_from_metadata

FORMAT = "resnorm-safetensors-1"
PREFIXES = ("optim.exp_avg.", "optim.exp_avg_sq.", "optim.momentum_buffer.")


def write_checkpoint(path, cfg, vocab, step, tensors, state=None):
    """tensors: name -> float32 tensor (int64 for num_batches_tracked), parameters first. state: None or
    (optim name, t, (rng state, rng inc)). Written to a temporary of its own in path's folder (NAME.tmp.PID.XXXXXX,
    as the core), synced, then renamed over path: two writers never share one file, a full disk removes the
    temporary and raises Refused (one line), and the old file stays whole."""
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
    folder, base = os.path.split(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{base}.tmp.{os.getpid()}.")
    except OSError as e:
        raise Refused(f'cannot write "{printable(path)}": {e.strerror}')
    try:
        os.fchmod(fd, 0o644 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(h)))
            f.write(h)
            for b in blobs:
                f.write(b)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise Refused(f'writing "{printable(tmp)}" failed: {e.strerror} (disk full?)')


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m


def _tensor(raw, entry):
    """The bytes of one entry as a tensor (little-endian hosts, as the core), a copy owning its memory."""
    dtype = torch.int64 if entry["i64"] else torch.float32
    buf = raw[entry["begin"]:entry["end"]]
    t = torch.frombuffer(buf, dtype=dtype) if len(buf) else torch.empty(0, dtype=dtype)
    return t.reshape(entry["shape"]).clone()


def read_checkpoint(path, cfg, text, model, optim_name, core_config, probe):
    """Checks a checkpoint against this run and loads it into model, exactly as the core's train --load
    (check_checkpoint_fits, then Trainer::load): the model section of its config equals the run's field by
    field (after the core filled in its defaults), its vocabulary is the run's text's, the tensors are exactly
    the model's by name, shape and dtype (optimiser state: a known prefix on a known tensor, the same shape,
    never broadcast), every parameter and buffer finite, running_var >= 0, num_batches_tracked 0..2^24, step and
    optim_t 0..1e9, and the weights' forward on a fixed probe input finite (probe(model) -> bool). Nothing in
    model changes unless everything passes. Refusals are Refused, one line, starting with path.
    Returns dict: step, tensors (optimiser state), optim_t (None without state), batch_rng (increment odd)."""
    try:
        return _read(path, cfg, text, model, optim_name, core_config, probe)
    except Refused as e:
        m = str(e)
        if m.startswith("checkpoint:"):
            raise Refused(f"{printable(path)}: {m}")
        raise


def _read(path, cfg, text, model, optim_name, core_config, probe):
    entries, meta, f, data_size = read_header(path)
    with f:
        # checkpoint_info: format, config (validated by the core, without the memory cap), step, vocabulary
        if "format" not in meta:
            raise Refused('checkpoint: metadata has no "format" (not saved by resnorm?)')
        if meta["format"] != FORMAT:
            raise Refused(f'checkpoint: unknown format "{printable(meta["format"])}"')
        if "config" not in meta:
            raise Refused('checkpoint: metadata has no "config" (not saved by resnorm?)')
        try:
            theirs = core_config(config_text=meta["config"])
        except Refused as e:
            raise Refused(f"checkpoint: its config is invalid: {e}")
        step = check_step(meta)
        gpt = cfg["model"]["kind"] == "gpt"
        vocab = vocab_from_metadata(meta) if theirs["model"]["kind"] == "gpt" else None
        for k, v in cfg["model"].items():
            if json.dumps(theirs["model"].get(k)) != json.dumps(v):
                raise Refused(f"checkpoint: it was saved with model.{k} = {json.dumps(theirs['model'].get(k))}, "
                              f"this run has {json.dumps(v)}")
        if gpt:
            mine = "".join(sorted(set(text)))
            if mine != vocab:
                raise Refused(f"checkpoint: its vocabulary ({len(vocab)} characters) differs from this run's text "
                              f"({len(mine)})")
        # check_tensors: names, shapes and dtypes, from the header alone (before the data is read)
        expected = model.state_dict()
        params = dict(model.named_parameters())
        for name, t in expected.items():
            e = entries.get(name)
            if e is None:
                raise Refused(f'checkpoint: tensor "{name}" is missing')
            if e["shape"] != list(t.shape):
                raise Refused(f'checkpoint: tensor "{name}" has shape {e["shape"]}, the model expects {list(t.shape)}')
            if e["i64"] != (t.dtype == torch.int64):
                raise Refused(f'checkpoint: tensor "{name}" has dtype {"I64" if e["i64"] else "F32"}, the model '
                              f'expects {"I64" if t.dtype == torch.int64 else "F32"}')
        for name, e in entries.items():
            if name in expected:
                continue
            of = next((name[len(p):] for p in PREFIXES if name.startswith(p)), None)
            if of is None or of not in expected:
                raise Refused(f'checkpoint: unexpected tensor "{printable(name)}" (does the config match?)')
            if e["shape"] != list(expected[of].shape):
                raise Refused(f'checkpoint: tensor "{printable(name)}" has shape {e["shape"]}, its parameter has '
                              f'{list(expected[of].shape)}')
        raw = read_data(f, data_size, path)
    tensors = {name: _tensor(raw, e) for name, e in entries.items()}
    del raw
    # has_optimizer_state: this run's optimiser's tensors, all present, finite, second moments >= 0
    with_state = meta.get("optim_state") == optim_name
    state = {}
    if with_state:
        prefixes = ("optim.exp_avg.", "optim.exp_avg_sq.") if optim_name == "adamw" else ("optim.momentum_buffer.",)
        for prefix in prefixes:
            for pname, p in params.items():
                name = prefix + pname
                t = tensors.get(name)
                if t is None:
                    raise Refused(f'checkpoint: optimiser state tensor "{name}" is missing (optim_state = {optim_name})')
                if list(t.shape) != list(p.shape):
                    raise Refused(f'checkpoint: tensor "{name}" has the wrong shape')
                if not torch.isfinite(t).all():
                    raise Refused(f'checkpoint: tensor "{name}" holds a non-finite value')
                if prefix == "optim.exp_avg_sq." and (t < 0).any():
                    raise Refused(f'checkpoint: tensor "{name}" holds a negative value (a second moment is a mean '
                                  f'of squares, never negative)')
                state[name] = t
        if "batch_rng" not in meta or "optim_t" not in meta:
            key = "batch_rng" if "batch_rng" not in meta else "optim_t"
            raise Refused(f'checkpoint: it has optimiser state but no "{key}" in its metadata')
        rng = c_strtoull_pair(meta["batch_rng"])
        t_ = c_strtol_whole(meta["optim_t"])
        if rng is None or t_ is None or not 0 <= t_ <= 1000000000:
            raise Refused(f'checkpoint: bad batch_rng "{printable(meta["batch_rng"])}" or optim_t '
                          f'"{printable(meta["optim_t"])}" in its metadata')
        batch_rng, optim_t = (rng[0], rng[1] | 1), t_  # the increment forced odd, as Rng::set_state
    else:
        batch_rng, optim_t = None, None
    # load_tensors / load_buffers: finite parameters; finite buffers, running_var >= 0; counters 0..2^24
    for name, t in expected.items():
        v = tensors[name]
        if t.dtype == torch.int64:
            bad = (v < 0) | (v > (1 << 24))
            if bad.any():
                raise Refused(f'checkpoint: tensor "{name}" holds {int(v.reshape(-1)[bad.reshape(-1)][0])} '
                              f'(allowed: 0..16777216)')
        elif not torch.isfinite(v).all() or (name.endswith(".running_var") and (v < 0).any()):
            raise Refused(f'checkpoint: tensor "{name}" holds a bad value' if name not in params else
                          f'checkpoint: tensor "{name}" holds a non-finite value')
    keep = {k: v.clone() for k, v in expected.items()}
    with torch.no_grad():
        model.load_state_dict({k: tensors[k] for k in expected}, strict=True)
        if not probe(model):
            model.load_state_dict(keep, strict=True)
            raise Refused("checkpoint: its weights make the forward pass overflow to Inf/NaN")
    return {"step": step, "tensors": state, "optim_t": optim_t, "batch_rng": batch_rng, "vocab": vocab}
