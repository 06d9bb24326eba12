# The core's checkpoint and input checks (cpp/core/checkpoint.cpp, json.cpp, trainer.cpp Trainer::load) in
# Python, so the twin refuses exactly what the core refuses (issue 21), each refusal one line (Refused).
"""Reading a safetensors file (huggingface.co/docs/safetensors) as the core reads it:

- only a regular file (opened O_NONBLOCK: a FIFO never blocks), at least 8 bytes; the header length 2..size-8
  and at most 4 MiB (kMaxCheckpointHeader), checked before the header is read; the data section is read only
  after the header passed and the caller's cap on its size (the run's model) held;
- the header is strict RFC 8259 JSON in UTF-8: no duplicate keys, no NaN/Infinity, no number beyond a double,
  no lone surrogate (json.loads accepts all four);
- dtypes F32, and I64 only for *.num_batches_tracked; shapes of whole numbers 0..1e9; data_offsets a pair of
  whole numbers inside the data section whose length is the shape's; the ranges tile the data section
  exactly (no overlap, no gap, no trailing bytes); __metadata__ an object of strings;
- numbers in metadata read as the core's strtol / strtoull read them (C's rules: leading white space, a sign,
  and for strtoull a negated value wraps modulo 2^64 and an overflow saturates).
No pickle, no torch.load, no eval: the bytes become tensors through torch.frombuffer only.
"""
import json
import math
import os
import re
import stat

MAX_HEADER = 4 << 20  # kMaxCheckpointHeader
MAX_TEXT = 256 << 20  # the CLI's kMaxTextBytes
MAX_CONFIG = 4 << 20  # the CLI's kMaxConfigBytes


class Refused(Exception):
    """Bad input (a config, a file, an argument): printed as 'resnorm_torch: MESSAGE', exit 1."""


def printable(s):
    """cpp/core/json.cpp printable(): control characters (C0, DEL, C1), line separators and bidirectional
    overrides escaped, so a message quoting input is one line with no terminal codes."""
    out = []
    for ch in s:
        cp = ord(ch)
        if cp < 0x20 or 0x7F <= cp <= 0x9F or cp in (0x2028, 0x2029) or 0x202A <= cp <= 0x202E or 0x2066 <= cp <= 0x2069:
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\u{cp:04x}"))
        elif 0xD800 <= cp <= 0xDFFF:  # undecodable bytes (surrogateescape) or a lone surrogate
            out.append(f"\\x{cp - 0xDC00:02x}" if 0xDC80 <= cp <= 0xDCFF else f"\\u{cp:04x}")
        else:
            out.append(ch)
    return "".join(out)


def open_regular(path, what="file"):
    """Opens path for reading as the core does: a directory, FIFO, device or socket is refused at once.
    Returns (file object, size)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise Refused(f'cannot open "{printable(path)}": {e.strerror}')
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        kind = ("a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode) else
                "a character device" if stat.S_ISCHR(st.st_mode) else "a block device" if stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "a special file")
        if stat.S_ISDIR(st.st_mode):
            raise Refused(f'"{printable(path)}" is a directory, not a file')
        raise Refused(f'"{printable(path)}" is not a regular file ({kind}); give a file')
    return os.fdopen(fd, "rb"), st.st_size


def read_capped(path, max_bytes, what):
    """A whole regular file of at most max_bytes, refused from its size before it is read."""
    f, size = open_regular(path, what)
    with f:
        if size > max_bytes:
            raise Refused(f'"{printable(path)}" is over {max_bytes} bytes, the most a {what} may have')
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise Refused(f'"{printable(path)}" is over {max_bytes} bytes, the most a {what} may have')
    return raw


def _no_dups(pairs):
    seen = set()
    for k, _ in pairs:
        if k in seen:
            raise ValueError(f'duplicate key "{printable(k)}"')
        seen.add(k)
    return dict(pairs)


def _finite_float(s):
    v = float(s)
    if not math.isfinite(v):
        raise ValueError(f'number "{s[:40]}" is out of range (beyond +-1.8e308)')
    return v


def _bad_constant(s):
    raise ValueError(f"unexpected token {s}")


def _lone_surrogate(v):
    if isinstance(v, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in v)
    if isinstance(v, dict):
        return any(_lone_surrogate(k) or _lone_surrogate(x) for k, x in v.items())
    if isinstance(v, list):
        return any(_lone_surrogate(x) for x in v)
    return False


def strict_json(raw):
    """RFC 8259 JSON from bytes, as cpp/core/json.cpp parses it; raises ValueError naming the fault. Large
    integers are read as doubles, as the core holds every number."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 at byte {e.start}")
    try:
        v = json.loads(text, object_pairs_hook=_no_dups, parse_float=_finite_float,
                       parse_int=lambda s: _finite_float(s) if len(s) > 15 else int(s), parse_constant=_bad_constant)
    except json.JSONDecodeError as e:
        raise ValueError(f"invalid JSON at byte {e.pos}: {e.msg}")
    except RecursionError:
        raise ValueError("nesting too deep")
    if _lone_surrogate(v):
        raise ValueError("lone surrogate in a string")
    if _depth(v) > 64:
        raise ValueError("nesting deeper than 64")
    return v


def _depth(v):
    if isinstance(v, dict):
        return 1 + max((_depth(x) for x in v.values()), default=0)
    if isinstance(v, list):
        return 1 + max((_depth(x) for x in v), default=0)
    return 1


_WS = " \t\n\v\f\r"
_C_INT = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)")


def c_strtol_whole(s):
    """strtol(s, &end, 10) with *end == 0 required, as the core reads step and optim_t; None when it fails.
    Saturates at the long range (then the caller's range check refuses it)."""
    m = _C_INT.fullmatch(s)
    if not m:
        return None
    v = int(m.group(2)) * (-1 if m.group(1) == "-" else 1)
    return max(-(1 << 63), min((1 << 63) - 1, v))


def c_strtoull_pair(s):
    """The core's batch_rng parse: two strtoull numbers, the second running to the end. strtoull skips white
    space, takes a sign (a negated value wraps modulo 2^64) and saturates on overflow. None when it fails."""
    # The first number's digits are taken greedily (possessive ++), as strtoull does: "12345" is one number and
    # then nothing, not "1234" and "5". Without a first number the second parse starts at the same place and
    # fails too, so both must be there.
    m = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?)([0-9]++)[ \t\n\v\f\r]*([+-]?)([0-9]+)", s)
    if not m:
        return None
    out = []
    for sign, digits in ((m.group(1), m.group(2)), (m.group(3), m.group(4))):
        v = int(digits)
        v = (1 << 64) - 1 if v >= (1 << 64) else v
        if sign == "-" and int(digits) < (1 << 64):
            v = (-v) % (1 << 64)
        out.append(v)
    return out[0], out[1]


def _whole(x, lo=0.0, hi=None):
    return (isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x >= lo and
            float(x) == math.floor(x) and (hi is None or x <= hi))


def read_header(path):
    """Reads and validates a safetensors header as parse_safetensors_header. Returns (header dict without
    __metadata__, metadata, open file positioned at the data section, data size). The file is the caller's to close."""
    f, size = open_regular(path, "checkpoint")
    try:
        if size < 8:
            raise Refused(f"checkpoint: file is {size} bytes, too short for a safetensors header")
        hn = int.from_bytes(f.read(8), "little")
        if hn < 2 or hn > size - 8:
            raise Refused(f"checkpoint: header length {hn} does not fit a file of {size} bytes (truncated or not a "
                          f"safetensors file)")
        if hn > MAX_HEADER:
            raise Refused(f"checkpoint: header length {hn} is over the 4 MiB a resnorm checkpoint's header can take")
        raw = f.read(hn)
        if len(raw) < hn:
            raise Refused(f'checkpoint: "{printable(path)}" changed while it was read')
        try:
            header = strict_json(raw)
        except ValueError as e:
            raise Refused(f"checkpoint: header is not valid JSON ({e})")
        if not isinstance(header, dict):
            raise Refused("checkpoint: header must be a JSON object")
        data_size = size - 8 - hn
        meta = {}
        entries = {}
        for name, t in header.items():
            if name == "__metadata__":
                if not isinstance(t, dict):
                    raise Refused("checkpoint: __metadata__ must be an object")
                for k, v in t.items():
                    if not isinstance(v, str):
                        raise Refused(f'checkpoint: metadata "{printable(k)}" must be a string')
                    meta[k] = v
                continue
            where = f'checkpoint: tensor "{printable(name)}"'
            if not isinstance(t, dict):
                raise Refused(f"{where} must be an object")
            dtype, shape, offs = t.get("dtype"), t.get("shape"), t.get("data_offsets")
            if not isinstance(dtype, str):
                raise Refused(f"{where} has no dtype")
            counter = len(name) > 20 and name.endswith(".num_batches_tracked")
            i64 = dtype == "I64"
            if dtype != "F32" and not (i64 and counter):
                raise Refused(f"{where} has dtype {printable(dtype)} (only F32 is supported, and I64 for "
                              f"num_batches_tracked)")
            if not isinstance(shape, list):
                raise Refused(f"{where} has no shape")
            if not isinstance(offs, list) or len(offs) != 2:
                raise Refused(f"{where} has no data_offsets pair")
            count = 1
            dims = []
            for d in shape:
                if not _whole(d, 0, 1e9):
                    raise Refused(f"{where} has a bad shape entry {printable(json.dumps(d))}")
                dims.append(int(d))
                count *= int(d)
            b = offs[0] if _whole(offs[0]) else -1
            e = offs[1] if _whole(offs[1]) else -1
            if b < 0 or e < b:
                raise Refused(f"{where} has bad data_offsets {printable(json.dumps(offs))}")
            if e > data_size:
                raise Refused(f"{where} ends at byte {e} but the data section has only {data_size} bytes (truncated file)")
            if e - b != count * (8 if i64 else 4):
                raise Refused(f"{where} has {e - b} bytes for a shape of {count} {'int64 values' if i64 else 'floats'}")
            entries[name] = {"i64": i64, "shape": dims, "begin": int(b), "end": int(e)}
        pos = 0
        for name, t in sorted(entries.items(), key=lambda kv: kv[1]["begin"]):
            if t["begin"] != pos:
                raise Refused(f'checkpoint: tensor "{printable(name)}" overlaps another or leaves a gap')
            pos = t["end"]
        if pos != data_size:
            raise Refused(f"checkpoint: {data_size - pos} trailing bytes after the last tensor")
        return entries, meta, f, data_size
    except BaseException:
        f.close()
        raise


def read_data(f, data_size, path):
    raw = f.read(data_size)
    if len(raw) < data_size:
        raise Refused(f'checkpoint: "{printable(path)}" changed while it was read')
    return bytearray(raw)


def vocab_from_metadata(meta):
    """checkpoint.cpp vocab_from_metadata: the code points (or the first format's byte values), sorted, distinct."""
    if "vocab" not in meta:
        raise Refused('checkpoint: metadata has no "vocab" (not saved by resnorm?)')
    fmt = meta.get("vocab_format")
    as_bytes = fmt is None
    if not as_bytes and fmt != "codepoints":
        raise Refused(f'checkpoint: unknown vocab_format "{printable(fmt)}" (known: codepoints, or none for bytes)')
    try:
        v = strict_json(meta["vocab"])
    except ValueError:
        raise Refused("checkpoint: vocab metadata is not valid JSON")
    cap, top = (256, 255) if as_bytes else (4096, 0x10FFFF)
    if not isinstance(v, list) or not 2 <= len(v) <= cap:
        raise Refused(f"checkpoint: vocab must be 2..{cap} {'byte values' if as_bytes else 'code points'}")
    for c in v:
        if not _whole(c, 0, top) or 0xD800 <= c <= 0xDFFF:
            raise Refused(f"checkpoint: vocab holds a bad {'byte value' if as_bytes else 'code point'} "
                          f"{printable(json.dumps(c))}")
    for a, b in zip(v, v[1:]):
        if b <= a:
            raise Refused(f"checkpoint: vocab {'repeats' if a == b else 'is not sorted at'} U+{int(b):04X}")
    return "".join(chr(int(c)) for c in v)


def check_step(meta):
    if "step" not in meta:
        raise Refused('checkpoint: metadata has no "step" (not saved by resnorm?)')
    s = c_strtol_whole(meta["step"])
    if s is None or not 0 <= s <= 1000000000:
        raise Refused(f'checkpoint: bad step "{printable(meta["step"])}"')
    return s


def check_world(env=os.environ):
    """RANK, WORLD_SIZE and LOCAL_* as torchrun sets them: positive world, 0 <= rank < world."""
    def get(name, default):
        v = env.get(name, default)
        try:
            return int(v)
        except ValueError:
            raise Refused(f'{name} = "{printable(v)}" is not an integer')
    world, rank = get("WORLD_SIZE", "1"), get("RANK", "0")
    if world < 1:
        raise Refused(f"WORLD_SIZE = {world}: the number of processes must be at least 1")
    if not 0 <= rank < world:
        raise Refused(f"RANK = {rank} is outside 0..{world - 1} (WORLD_SIZE = {world})")
    lw = get("LOCAL_WORLD_SIZE", str(world))
    if lw < 1:
        raise Refused(f"LOCAL_WORLD_SIZE = {lw}: must be at least 1")
    return rank, world
