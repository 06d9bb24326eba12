# Generates the hostile corpus of issue 21: configs and checkpoints that each break one rule the core's
# loader enforces (or, as controls, break none), written from two checkpoints the core itself saved.
"""Usage: make_corpus.py OUT_DIR MLP.safetensors GPT.safetensors

Writes OUT_DIR/configs/*.json and OUT_DIR/checkpoints/{mlp,gpt}/*.safetensors plus OUT_DIR/manifest.json
(file -> kind, group, what it breaks). Nothing here decides a verdict: tests/hostile/run.sh asks the core
(resnorm check / show), the PyTorch twin (resnorm_torch.check) and the page's wasm engine (verdicts.mjs), and
fails unless all three agree. Standard library only; the bytes are built with struct and json.
"""
import json
import os
import struct
import sys


def parse(raw):
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    return header, raw[8 + n:]


def build(header, data, pad=True, header_bytes=None):
    h = header_bytes if header_bytes is not None else json.dumps(header, separators=(",", ":")).encode("utf-8")
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def set_f32(header, data, name, index, value):
    d = bytearray(data)
    struct.pack_into("<f", d, header[name]["data_offsets"][0] + 4 * index, value)
    return bytes(d)


def first(header, prefix="", suffix=""):
    names = sorted(k for k in header if k != "__metadata__" and k.startswith(prefix) and k.endswith(suffix))
    return names[0]


def params(header):
    return sorted(k for k in header if k != "__metadata__" and not k.startswith("optim.") and
                  not k.endswith((".running_mean", ".running_var", ".num_batches_tracked")))


def copy(h):
    return json.loads(json.dumps(h))


def drop_tensor(header, data, name):
    """The header and data without one tensor, the others moved down so the ranges still tile."""
    h = copy(header)
    b, e = h[name]["data_offsets"]
    del h[name]
    for k, t in h.items():
        if k != "__metadata__" and t["data_offsets"][0] >= e:
            t["data_offsets"] = [t["data_offsets"][0] - (e - b), t["data_offsets"][1] - (e - b)]
    return h, data[:b] + data[e:]


def checkpoint_cases(header, data, gpt):
    """(name, bytes, what) for one base checkpoint."""
    raw = build(header, data)
    meta = header["__metadata__"]
    w = first(header, suffix=".weight")
    sq = first(header, "optim.exp_avg_sq.")
    m1 = first(header, "optim.exp_avg.")
    out = [("ok-original", raw, "control: the core's own file")]

    def with_meta(**kv):
        h = copy(header)
        for k, v in kv.items():
            if v is None:
                h["__metadata__"].pop(k, None)
            else:
                h["__metadata__"][k] = v
        return build(h, data)

    def with_entry(name, **kv):
        h = copy(header)
        h[name].update(kv)
        return build(h, data)

    # The file itself
    out += [("empty", b"", "0 bytes"), ("seven-bytes", raw[:7], "shorter than the length field"),
            ("cut-in-header", raw[:8 + 20], "truncated inside the header"), ("cut-at-data", raw[:len(raw) - len(data)],
            "no data section"), ("cut-last-byte", raw[:-1], "one byte short"), ("one-extra-byte", raw + b"\0", "a trailing byte"),
            ("length-zero", struct.pack("<Q", 0) + raw[8:], "header length 0"),
            ("length-huge", struct.pack("<Q", 1 << 62) + raw[8:], "header length 2^62"),
            ("length-past-end", struct.pack("<Q", len(raw)) + raw[8:], "header length past the end"),
            ("length-short", struct.pack("<Q", 16) + raw[8:], "header length cuts the JSON"),
            ("header-over-4mib", build({"__metadata__": {"pad": "x" * (4 << 20)}}, b""), "a 4 MiB header"),
            ("zeros-1mib", b"\0" * (1 << 20), "1 MiB of zeros")]
    hj = json.dumps(header, separators=(",", ":")).encode()
    out += [("header-array", build(None, data, header_bytes=b"[" + hj + b"]"), "header is an array"),
            ("header-not-json", build(None, data, header_bytes=hj[:-1]), "header JSON cut"),
            ("header-trailing-comma", build(None, data, header_bytes=hj[:-1] + b",}"), "a trailing comma"),
            ("header-bom", build(None, data, header_bytes=b"\xef\xbb\xbf" + hj), "a UTF-8 BOM before the JSON"),
            ("header-nan", build(None, data, header_bytes=hj[:-1] + b',"x":NaN}'), "NaN literal"),
            ("header-leading-zero", build(None, data, header_bytes=hj.replace(b'"data_offsets":[0,', b'"data_offsets":[00,', 1)),
             "0 written 00"),
            ("header-1dot", build(None, data, header_bytes=hj.replace(b'"data_offsets":[0,', b'"data_offsets":[0.,', 1)), "0 written 0."),
            ("header-1e999", build(None, data, header_bytes=hj[:-1] + b',"__x":1e999}'), "1e999"),
            ("header-lone-surrogate", build(None, data, header_bytes=hj[:-1] + b',"\\udc00":1}'), "a lone low surrogate"),
            ("header-bad-utf8", build(None, data, header_bytes=hj[:-1] + b',"\xff":1}'), "a byte that is not UTF-8"),
            ("header-overlong-utf8", build(None, data, header_bytes=hj[:-1] + b',"\xc0\xaf":1}'), "an overlong UTF-8 form"),
            ("header-dup-tensor", build(None, data, header_bytes=hj[:-1] + b"," + json.dumps({w: header[w]})[1:-1].encode() + b"}"),
             "a tensor named twice"),
            ("header-nested-65", build(None, data, header_bytes=hj[:-1] + b',"__x":' + b"[" * 65 + b"]" * 65 + b"}"), "nesting 65"),
            ("header-nested-40", build(None, data, header_bytes=hj[:-1] + b',"__metadata__x":' + b"[" * 40 + b"]" * 40 + b"}"),
             "nesting 40 in an unknown key (unexpected tensor)"),
            ("ok-header-extra-spaces", build(None, data, header_bytes=hj + b" " * 64), "control: trailing spaces in the header")]
    # dtypes, shapes, offsets
    for dt in ("I32", "F16", "F64", "BF16", "f32", "I64"):
        out.append((f"dtype-{dt.lower()}", with_entry(w, dtype=dt), f"{w} as {dt}"))
    out += [("dtype-missing", build({k: ({kk: vv for kk, vv in v.items() if kk != "dtype"} if k == w else v)
                                     for k, v in header.items()}, data), "no dtype"),
            ("dtype-number", with_entry(w, dtype=32), "dtype 32"),
            ("shape-negative", with_entry(w, shape=[-1] + header[w]["shape"][1:]), "a negative dimension"),
            ("shape-fraction", with_entry(w, shape=[header[w]["shape"][0] + 0.5] + header[w]["shape"][1:]), "a fractional dimension"),
            ("shape-string", with_entry(w, shape=["8"] + header[w]["shape"][1:]), "a dimension as a string"),
            ("shape-bool", with_entry(w, shape=[True] * len(header[w]["shape"])), "dimensions as booleans"),
            ("shape-extra-dim", with_entry(w, shape=header[w]["shape"] + [1]), "an extra dimension of 1"),
            ("shape-flat", with_entry(w, shape=[int.__mul__(*header[w]["shape"])] if len(header[w]["shape"]) == 2 else [1]),
             "flattened"),
            ("shape-huge", with_entry(w, shape=[10 ** 10]), "10^10 elements"),
            ("offsets-reversed", with_entry(w, data_offsets=header[w]["data_offsets"][::-1]), "end before begin"),
            ("offsets-three", with_entry(w, data_offsets=header[w]["data_offsets"] + [0]), "three offsets"),
            ("offsets-strings", with_entry(w, data_offsets=[str(x) for x in header[w]["data_offsets"]]), "offsets as strings"),
            ("offsets-negative", with_entry(w, data_offsets=[-4, header[w]["data_offsets"][1] - header[w]["data_offsets"][0] - 4]),
             "a negative offset"),
            ("offsets-beyond", with_entry(w, data_offsets=[len(data), len(data) + header[w]["data_offsets"][1] -
                                                           header[w]["data_offsets"][0]]), "past the data section"),
            ("offsets-fraction", with_entry(w, data_offsets=[header[w]["data_offsets"][0] + 0.5, header[w]["data_offsets"][1] + 0.5]),
             "fractional offsets")]
    h = copy(header)
    b0, e0 = h[w]["data_offsets"]
    h[w]["data_offsets"] = [b0 + 4, e0 + 4] if e0 + 4 <= len(data) else [b0 - 4, e0 - 4]
    out.append(("offsets-overlap", build(h, data), "a range moved by 4 bytes onto its neighbour"))
    h = copy(header)
    for k, t in h.items():
        if k != "__metadata__":
            t["data_offsets"] = [t["data_offsets"][0] + 4, t["data_offsets"][1] + 4]
    out.append(("offsets-gap", build(h, b"\0" * 4 + data), "a 4-byte gap before the first tensor"))
    # metadata
    out += [("meta-missing", build({k: v for k, v in header.items() if k != "__metadata__"}, data), "no __metadata__"),
            ("meta-array", build(dict(header, __metadata__=[1]), data), "__metadata__ an array"),
            ("meta-number-value", with_meta(step=None) if False else build(dict(header, __metadata__=dict(meta, step=5)), data),
             "step as a number"),
            ("meta-no-format", with_meta(format=None), "no format"), ("meta-bad-format", with_meta(format="resnorm-safetensors-9"), "format 9"),
            ("meta-no-config", with_meta(config=None), "no config"), ("meta-config-not-json", with_meta(config="{"), "config cut"),
            ("meta-config-depth0", with_meta(config=meta["config"].replace('"depth":', '"depth":0,"x":', 1)), "an unknown key in the config"),
            ("meta-config-other-width", with_meta(config=meta["config"].replace('"width":', '"width":1', 1)), "another width"),
            ("meta-config-escape", with_meta(config=meta["config"].replace('"kind":"', '"kind":"\\u001b[31m', 1)), "ESC in the config"),
            ("meta-no-step", with_meta(step=None), "no step")]
    for v, what in (("-1", "step -1"), ("-1000000", "step -10^6"), ("1000000001", "step 10^9 + 1"), ("abc", "step abc"),
                    ("5 ", "a space after"), ("9223372036854775808", "step 2^63"), ("", "empty step")):
        out.append((f"step-{len(out)}", with_meta(step=v), what))
    out += [("ok-step-leading-space", with_meta(step=" 5"), "control: strtol skips leading space"),
            ("ok-step-plus", with_meta(step="+5"), "control: strtol takes a + sign"),
            ("ok-step-1e9", with_meta(step="1000000000"), "control: the largest step"),
            ("ok-meta-extra-key", with_meta(note="\u001b[2J hi"), "control: an unknown metadata key is ignored")]
    # optimiser state
    out += [("optim-t-negative", with_meta(optim_t="-1"), "optim_t -1"), ("optim-t-huge", with_meta(optim_t="10000000000"), "optim_t 10^10"),
            ("optim-t-missing", with_meta(optim_t=None), "no optim_t with state"),
            ("rng-missing", with_meta(batch_rng=None), "no batch_rng with state"),
            ("rng-one-number", with_meta(batch_rng="12345"), "batch_rng of one number"),
            ("rng-three", with_meta(batch_rng="1 2 3"), "three numbers"), ("rng-text", with_meta(batch_rng="a b"), "not numbers"),
            ("rng-trailing-space", with_meta(batch_rng="1 2 "), "a space after"), ("ok-rng-signs", with_meta(batch_rng="+1-2"),
             "control: strtoull reads +1 then -2"), ("rng-no-first", with_meta(batch_rng=" -x 2"), "no first number"),
            ("ok-rng-zero-zero", with_meta(batch_rng="0 0"), "control: increment 0 is forced odd (the twin hung)"),
            ("ok-rng-negative", with_meta(batch_rng="-1 -2"), "control: strtoull wraps negatives"),
            ("ok-rng-huge", with_meta(batch_rng="99999999999999999999999 5"), "control: strtoull saturates"),
            ("ok-optim-other", with_meta(optim_state="sgd"), "control: another optimiser's state is ignored"),
            ("ok-optim-unknown", with_meta(optim_state="lion"), "control: an unknown optimiser's state is ignored"),
            ("optim-sq-negative", build(header, set_f32(header, data, sq, 0, -1.0)), "exp_avg_sq -1"),
            ("optim-sq-negative-tiny", build(header, set_f32(header, data, sq, 0, -1e-30)), "exp_avg_sq -1e-30"),
            ("optim-sq-inf", build(header, set_f32(header, data, sq, 0, float("inf"))), "exp_avg_sq Inf"),
            ("optim-m-nan", build(header, set_f32(header, data, m1, 0, float("nan"))), "exp_avg NaN"),
            ("ok-optim-m-negative", build(header, set_f32(header, data, m1, 0, -1.0)), "control: a negative first moment"),
            ("ok-optim-sq-negzero", build(header, set_f32(header, data, sq, 0, -0.0)), "control: -0.0 is not negative"),
            ("optim-sq-missing", build(*drop_tensor(header, data, sq)), "one second moment missing")]
    # a [1]-shaped moment for a bigger parameter (the twin broadcast it)
    h, d = drop_tensor(header, data, m1)
    end = len(d)
    h[m1] = {"dtype": "F32", "shape": [1], "data_offsets": [end, end + 4]}
    out.append(("optim-m-shape-1", build(h, d + struct.pack("<f", 0.5)), "a [1] moment broadcast"))
    h, d = drop_tensor(header, data, m1)
    h["optim.bogus." + w] = dict(header[m1], data_offsets=[len(d), len(d) + header[m1]["data_offsets"][1] - header[m1]["data_offsets"][0]])
    out.append(("optim-unknown-prefix", build(h, d + data[header[m1]["data_offsets"][0]:header[m1]["data_offsets"][1]]),
                "optim.bogus.*"))
    # values
    out += [("weight-nan", build(header, set_f32(header, data, w, 0, float("nan"))), "a NaN weight"),
            ("weight-inf", build(header, set_f32(header, data, w, 1, float("inf"))), "an Inf weight"),
            ("weight-neg-inf", build(header, set_f32(header, data, w, 2, float("-inf"))), "a -Inf weight"),
            ("ok-weight-subnormal", build(header, set_f32(header, data, w, 0, 1e-40)), "control: a subnormal weight")]
    d = bytearray(data)
    for name in params(header):
        b, e = header[name]["data_offsets"]
        d[b:e] = struct.pack("<f", 3e38) * ((e - b) // 4)
    out.append(("weights-3e38", build(header, bytes(d)), "every weight 3e38 (finite; the forward overflows)"))
    # tensors
    out += [("tensor-missing", build(*drop_tensor(header, data, w)), f"{w} missing")]
    h = copy(header)
    h["extra.weight"] = h.pop(w)
    out.append(("tensor-renamed", build(h, data), f"{w} renamed"))
    h = copy(header)
    h[w + "\u001b[2J"] = h.pop(w)
    out.append(("tensor-name-escape", build(h, data), "a tensor name with ESC"))
    h = copy(header)
    end = len(data)
    h["unexpected"] = {"dtype": "F32", "shape": [1], "data_offsets": [end, end + 4]}
    out.append(("tensor-extra", build(h, data + b"\0\0\0\0"), "an extra tensor"))
    # BatchNorm buffers (the mlp's base has them)
    rv = [k for k in header if k.endswith(".running_var")]
    nb = [k for k in header if k.endswith(".num_batches_tracked")]
    if rv:
        out += [("buffer-var-negative", build(header, set_f32(header, data, rv[0], 0, -1.0)), "running_var -1"),
                ("buffer-var-nan", build(header, set_f32(header, data, rv[0], 0, float("nan"))), "running_var NaN"),
                ("buffer-mean-inf", build(header, set_f32(header, data, rv[0].replace("_var", "_mean"), 0, float("inf"))),
                 "running_mean Inf"),
                ("buffer-var-as-i64", with_entry(rv[0], dtype="I64"), "running_var as I64")]
    if nb:
        def counter(v):
            dd = bytearray(data)
            struct.pack_into("<q", dd, header[nb[0]]["data_offsets"][0], v)
            return build(header, bytes(dd))
        out += [("counter-negative", counter(-1), "num_batches_tracked -1"), ("counter-huge", counter(1 << 40), "2^40"),
                ("counter-over", counter((1 << 24) + 1), "2^24 + 1"), ("ok-counter-max", counter(1 << 24), "control: 2^24"),
                ("counter-as-f32", with_entry(nb[0], dtype="F32", data_offsets=header[nb[0]]["data_offsets"]), "counter as F32")]
    if gpt:
        vocab = json.loads(meta["vocab"])
        out += [("vocab-missing", with_meta(vocab=None), "no vocab"), ("vocab-not-json", with_meta(vocab="[1,"), "vocab cut"),
                ("vocab-one", with_meta(vocab="[65]"), "one character"),
                ("vocab-unsorted", with_meta(vocab=json.dumps(vocab[::-1])), "reversed"),
                ("vocab-repeat", with_meta(vocab=json.dumps(vocab[:-1] + [vocab[-2]])), "a repeat"),
                ("vocab-surrogate", with_meta(vocab=json.dumps(vocab[:-1] + [0xD800])), "U+D800"),
                ("vocab-beyond", with_meta(vocab=json.dumps(vocab[:-1] + [0x110000])), "U+110000"),
                ("vocab-other", with_meta(vocab=json.dumps(vocab[:-1] + [vocab[-1] + 1])), "another last character"),
                ("vocab-format-unknown", with_meta(vocab_format="bytes"), "vocab_format bytes"),
                ("vocab-bytes-over-255" if max(vocab) > 255 else "ok-vocab-bytes-format", with_meta(vocab_format=None),
                 "byte format but code points over 255" if max(vocab) > 255 else "control: the first (byte) format"),
                ("vocab-bytes-latin1", with_meta(vocab_format=None, vocab=json.dumps(vocab[:-1] + [300])),
                 "byte format with a value over 255"),
                ("vocab-fraction", with_meta(vocab=json.dumps(vocab[:-1] + [vocab[-1] + 0.5])), "a fractional code point"),
                ("vocab-4097", with_meta(vocab=json.dumps(list(range(32, 32 + 4097)))), "4097 characters")]
    return out


CONFIGS = [
    ("ok-mlp", '{"model":{"kind":"mlp","depth":2,"width":8}}', "control"),
    ("ok-gpt", '{"model":{"kind":"gpt","depth":1,"width":16,"heads":2,"context":8}}', "control"),
    ("ok-escaped-slash", '{"data":{"name":"spir\\u0061l"}}', "control: an escape that decodes to a valid name"),
    ("ok-whitespace", ' \r\n\t{ "seed" : 7 }\n', "control: RFC whitespace"),
    ("ok-tiny-number", '{"optim":{"lr":1e-300}}', "control: 1e-300 is a number (then out of range?)"),
    ("leading-zero", '{"seed": 0012}', "0012"), ("trailing-dot", '{"seed": 1.}', "1."), ("leading-dot", '{"optim":{"lr":.5}}', ".5"),
    ("plus-sign", '{"seed": +1}', "+1"), ("exp-no-digits", '{"seed": 1e}', "1e"), ("huge-exponent", '{"seed": 1e999}', "1e999"),
    ("neg-huge", '{"optim":{"lr":-1e400}}', "-1e400"), ("hex", '{"seed": 0x10}', "0x10"), ("nan", '{"optim":{"lr":NaN}}', "NaN"),
    ("infinity", '{"optim":{"lr":Infinity}}', "Infinity"), ("lone-low", '{"data":{"name":"\\udc00"}}', "lone low surrogate"),
    ("lone-high", '{"data":{"name":"\\ud800x"}}', "lone high surrogate"),
    ("bad-pair", '{"data":{"name":"\\ud800\\u0041"}}', "high surrogate + A"),
    ("esc-value", '{"model":{"kind":"\\u001b[31mred\\u0007\\nx"}}', "ESC, BEL, newline in a value"),
    ("esc-key", '{"x\\n\\u009b\\u202e":1}', "newline, C1 CSI, bidi override in a key"),
    ("raw-control", '{"data":{"name":"a\tb"}}', "a raw tab inside a string"),
    ("dup-key", '{"seed":1,"seed":2}', "a duplicate key"), ("dup-key-escaped", '{"seed":1,"s\\u0065ed":2}', "a duplicate key, escaped"),
    ("trailing-comma", '{"seed":1,}', "a trailing comma"), ("comment", '{"seed":1 /* c */}', "a comment"),
    ("single-quotes", "{'seed':1}", "single quotes"), ("bom", "\ufeff{}", "a BOM"), ("empty", "", "empty"),
    ("top-array", "[]", "an array"), ("top-string", '"x"', "a string"), ("two-values", "{} {}", "two values"),
    ("nested-100", '{"model":' + "[" * 100 + "]" * 100 + "}", "nesting 100"),
    ("depth-zero", '{"model":{"depth":0}}', "depth 0"), ("width-fraction", '{"model":{"width":1.5}}', "width 1.5"),
    ("width-negative", '{"model":{"width":-1}}', "width -1"), ("steps-string", '{"optim":{"steps":"5"}}', "steps as a string"),
    ("lr-null", '{"optim":{"lr":null}}', "lr null"), ("unknown-kind", '{"model":{"kind":"rnn"}}', "kind rnn"),
    ("nul-in-key", '{"\\u0000":1}', "NUL in a key"),
]
CONFIG_BYTES = [("bad-utf8", b'{"data":{"name":"\xff"}}', "a byte that is not UTF-8"),
                ("overlong-utf8", b'{"data":{"name":"\xc0\xaf"}}', "an overlong form"),
                ("cesu-surrogate", b'{"data":{"name":"\xed\xa0\x80"}}', "a surrogate as UTF-8 bytes")]


def main():
    out, mlp, gpt = sys.argv[1:4]
    manifest = {}
    os.makedirs(os.path.join(out, "configs"), exist_ok=True)
    for name, text, what in CONFIGS:
        p = os.path.join("configs", name + ".json")
        with open(os.path.join(out, p), "w", encoding="utf-8") as f:
            f.write(text)
        manifest[p] = {"kind": "config", "what": what}
    for name, raw, what in CONFIG_BYTES:
        p = os.path.join("configs", name + ".json")
        with open(os.path.join(out, p), "wb") as f:
            f.write(raw)
        manifest[p] = {"kind": "config", "what": what}
    for group, src in (("mlp", mlp), ("gpt", gpt)):
        os.makedirs(os.path.join(out, "checkpoints", group), exist_ok=True)
        with open(src, "rb") as f:
            header, data = parse(f.read())
        for name, raw, what in checkpoint_cases(header, data, group == "gpt"):
            p = os.path.join("checkpoints", group, name + ".safetensors")
            assert p not in manifest, p
            with open(os.path.join(out, p), "wb") as f:
                f.write(raw)
            manifest[p] = {"kind": "checkpoint", "group": group, "what": what}
        # special files: a FIFO and a directory where a checkpoint is expected
        for name, make in (("special-fifo", os.mkfifo), ("special-directory", os.mkdir)):
            p = os.path.join("checkpoints", group, name + ".safetensors")
            make(os.path.join(out, p))
            manifest[p] = {"kind": "checkpoint", "group": group, "what": name.split("-")[1]}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    print(f"{len(manifest)} files: {sum(v['kind'] == 'config' for v in manifest.values())} configs, "
          f"{sum(v['kind'] == 'checkpoint' for v in manifest.values())} checkpoints")


if __name__ == "__main__":
    main()
