# Issue 21's probes, timed: how long each hostile input now takes to be refused (or, for the saves, to
# finish), with peak memory, median of 3 runs, the machine and its load. A measurement script, not a test.
"""Usage: /usr/bin/python3 tests/hostile/probes.py [path/to/resnorm]   (prints a table; writes nothing else)"""
import json
import os
import platform
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "native", "resnorm"))
PY = "/usr/bin/python3"
TRAIN = os.path.join(ROOT, "python", "resnorm_torch", "train.py")
ENV = dict(os.environ, OMP_NUM_THREADS="1", RESNORM_BIN=CLI, PYTHONPATH=os.path.join(ROOT, "python"))
W = tempfile.mkdtemp(prefix="probes-")


def p(n):
    return os.path.join(W, n)


def timed(cmd, env=None, runs=3):
    """Median wall seconds, peak RSS (MB, GNU time) and the last run's exit code and first stderr line."""
    secs, rss, rc, line = [], 0, None, ""
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(["/usr/bin/time", "-f", "@@%M"] + cmd, capture_output=True, text=True, env=env or ENV,
                           timeout=600, errors="replace")
        secs.append(time.perf_counter() - t0)
        err = [x for x in r.stderr.splitlines() if not x.startswith("@@")]
        rss = max(rss, max(int(x[2:]) for x in r.stderr.splitlines() if x.startswith("@@")) // 1024)
        rc, line = r.returncode, (err[0] if err else r.stdout.strip().splitlines()[0] if r.stdout.strip() else "")
    return statistics.median(secs), rss, rc, line


ROWS = []


def row(name, cmd, env=None, runs=3):
    s, rss, rc, line = timed(cmd, env, runs)
    ROWS.append((name, s, rss, rc, line))
    print(f"{name:58s} {s * 1000:9.0f} ms {rss:7d} MB  exit {rc}  {line[:110]}", flush=True)


def meta_edit(src, dst, **kv):
    raw = open(src, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    h["__metadata__"].update(kv)
    hb = json.dumps(h, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    open(dst, "wb").write(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])


def main():
    load = os.getloadavg()
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
          f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; median of 3 runs\n")
    # ---- the CLI
    with open(p("short.txt"), "w") as f:
        f.write("abcdefghij" * 60)
    with open(p("short.json"), "w") as f:
        json.dump({"model": {"kind": "gpt", "depth": 1, "width": 16, "heads": 2, "context": 64}, "data": {"name": "text"},
                   "optim": {"batch": 2, "steps": 200}}, f)
    row("1 gpt, 600 characters, context 64 (was: 199 steps, then exit 1)", [CLI, "train", "--config", p("short.json"),
        "--data", p("short.txt"), "--save", p("short.safetensors")])
    subprocess.run([CLI, "train", "--preset", "mlp-spiral", "--steps", "3", "--save", p("m.safetensors"), "--quiet"], check=True,
                   capture_output=True)
    raw = bytearray(open(p("m.safetensors"), "rb").read())
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    sq = sorted(k for k in h if k.startswith("optim.exp_avg_sq."))[0]
    struct.pack_into("<f", raw, 8 + n + h[sq]["data_offsets"][0], -1.0)
    open(p("negv.safetensors"), "wb").write(bytes(raw))
    row("2 optim.exp_avg_sq = -1 on --load", [CLI, "train", "--preset", "mlp-spiral", "--steps", "10", "--load",
                                              p("negv.safetensors")])
    with open(p("div.json"), "w") as f:
        json.dump({"model": {"kind": "mlp", "norm": "none", "residual": "none"},
                   "optim": {"name": "sgd", "lr": 10, "clip": 0, "warmup": 0, "steps": 500}}, f)
    row("3 sgd lr 10, divergence, exit 3 with --save (saves)", [CLI, "train", "--config", p("div.json"), "--save",
                                                                  p("div.safetensors"), "--quiet"])
    os.mkfifo(p("fifo"))
    row("5 show --config FIFO", [CLI, "show", "--config", p("fifo")])
    row("5 train --data FIFO", [CLI, "train", "--preset", "gpt-tiny", "--data", p("fifo")])
    row("5 train --load FIFO", [CLI, "train", "--preset", "mlp-spiral", "--load", p("fifo")])
    row("5 train --log FIFO", [CLI, "train", "--preset", "mlp-spiral", "--log", p("fifo")])
    # 6: a checkpoint of a gpt too big for the cap at one sequence: header of a real file, sparse data.
    with open(p("v.txt"), "w") as f:
        f.write("".join(chr(65 + i % 20) for i in range(4000)))
    with open(p("g.json"), "w") as f:
        json.dump({"model": {"kind": "gpt", "depth": 8, "width": 16, "heads": 2, "context": 8}, "data": {"name": "text"},
                   "optim": {"batch": 2, "steps": 1}}, f)
    subprocess.run([CLI, "train", "--config", p("g.json"), "--data", p("v.txt"), "--save", p("g.safetensors"), "--no-moments",
                    "--quiet"], check=True, capture_output=True)
    raw = open(p("g.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    C = 4096  # the largest width a config allows; 8 blocks: ~6 GiB of weights, ~26 GiB to train
    scale = {16: C, 48: 3 * C, 64: 4 * C}
    off = 0
    for k in sorted((k for k in h if k != "__metadata__"), key=lambda k: h[k]["data_offsets"][0]):
        h[k]["shape"] = [scale.get(d, d) for d in h[k]["shape"]]
        size = 4
        for d in h[k]["shape"]:
            size *= d
        h[k]["data_offsets"] = [off, off + size]
        off += size
    cfg = json.loads(h["__metadata__"]["config"])
    cfg["model"]["width"] = C
    h["__metadata__"]["config"] = json.dumps(cfg)
    hb = json.dumps(h, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    with open(p("huge.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb)
        f.truncate(8 + len(hb) + off)
    row(f"6 sample --load of a {(8 + len(hb) + off) / 2**30:.1f} GiB gpt over the 8 GiB cap (sparse)",
        [CLI, "sample", "--load", p("huge.safetensors"), "--tokens", "1"])
    with open(p("commas.csv"), "w") as f:
        f.write("," * (16 << 20))
    with open(p("pts.json"), "w") as f:
        json.dump({"model": {"kind": "mlp"}, "data": {"name": "points"}}, f)
    row("6 points CSV of 16 MiB of commas", [CLI, "train", "--config", p("pts.json"), "--data", p("commas.csv")])
    with open(p("commas1m.csv"), "w") as f:
        f.write("," * (1 << 20) + "\n")
    row("6 points CSV, one row of 1 Mi commas (under the size cap)", [CLI, "train", "--config", p("pts.json"), "--data",
                                                                      p("commas1m.csv")])
    with open(p("esc.json"), "w") as f:
        f.write('{"model":{"kind":"\\u001b[31mred\\u0007\\nx"}}')
    row("7 config value with ESC, BEL, newline", [CLI, "show", "--config", p("esc.json")])
    for tok in ("0012", "1.", '"\\udc00"', "1e999"):
        with open(p("num.json"), "w") as f:
            f.write('{"seed": %s}' % tok)
        row(f"8 JSON seed = {tok}", [CLI, "show", "--config", p("num.json")])
    # ---- the twin
    meta_edit(p("m.safetensors"), p("rng00.safetensors"), batch_rng="0 0")
    row('twin: batch_rng "0 0", --steps 6 (was: hang)', [PY, TRAIN, "--quiet", "--preset", "mlp-spiral", "--steps", "6",
                                                         "--load", p("rng00.safetensors")], runs=1)
    meta_edit(p("m.safetensors"), p("stepneg.safetensors"), step="-1000000")
    row("twin: step = -1,000,000", [PY, TRAIN, "--quiet", "--preset", "mlp-spiral", "--steps", "5", "--load",
                                    p("stepneg.safetensors")], runs=1)
    raw = bytearray(open(p("m.safetensors"), "rb").read())
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    struct.pack_into("<f", raw, 8 + n + h["head.weight"]["data_offsets"][0], float("nan"))
    open(p("nan.safetensors"), "wb").write(bytes(raw))
    row("twin: NaN weights via python -m resnorm_torch.model", [PY, "-m", "resnorm_torch.model", p("nan.safetensors")], runs=1)
    row("twin: --load /dev/zero (was: 2.3 GB)", [PY, TRAIN, "--quiet", "--preset", "mlp-spiral", "--load", "/dev/zero"], runs=1)
    with open(p("big.txt"), "wb") as f:
        f.truncate(300 << 20)
    row("twin: --data of 300 MB (was: 2.3 GiB)", [PY, TRAIN, "--quiet", "--preset", "gpt-tiny", "--data", p("big.txt")], runs=1)
    with open(p("cnn.json"), "w") as f:
        json.dump({"model": {"kind": "cnn", "width": 4096, "depth": 2}, "data": {"name": "digits"}}, f)
    row("twin: cnn width 4096 (was: 3.1 GB, then RuntimeError)", [PY, TRAIN, "--quiet", "--config", p("cnn.json")], runs=1)
    row("twin: WORLD_SIZE=0 (was: ZeroDivisionError)", [PY, TRAIN, "--quiet", "--preset", "mlp-spiral"],
        env=dict(ENV, WORLD_SIZE="0"), runs=1)
    row("twin: --log /dev/full (was: traceback, no checkpoint)", [PY, TRAIN, "--quiet", "--preset", "mlp-spiral", "--steps", "5",
                                                                  "--log", "/dev/full", "--save", p("full.safetensors")], runs=1)
    # ---- the server
    srv_dir = tempfile.mkdtemp(prefix="probes-site-")
    open(os.path.join(srv_dir, "a.txt"), "w").write("hello")
    with open(os.path.join(srv_dir, "big.bin"), "wb") as f:
        f.truncate(64 << 20)
    os.symlink("/etc/passwd", os.path.join(srv_dir, "passwd"))
    srv = subprocess.Popen(["node", os.path.join(ROOT, "scripts", "serve.mjs"), "--dir", srv_dir, "--port", "0"],
                           stdout=subprocess.PIPE, text=True)
    url = srv.stdout.readline().split()[2]
    port = int(url.rstrip("/").rsplit(":", 1)[1])

    def http(method, path):
        s = socket.create_connection(("127.0.0.1", port))
        t0 = time.perf_counter()
        s.sendall(f"{method} /{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        first = s.recv(200).split(b"\r\n")[0].decode()
        s.close()
        return (time.perf_counter() - t0) * 1000, first
    for method, path in (("GET", "passwd"), ("POST", "a.txt"), ("DELETE", "a.txt"), ("TRACE", "a.txt")):
        ms, first = http(method, path)
        print(f"{'server: ' + method + ' /' + path:58s} {ms:9.1f} ms           {first}")
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /a.txt HTTP/1.1\r\nRange: bytes=1-3\r\nHost: x\r\nConnection: close\r\n\r\n")
    status = s.recv(100).split(b"\r\n")[0].decode()
    print(f"{'server: Range bytes=1-3':58s} {'':12s}           {status}")
    s.close()
    # 500 clients that send a request for 64 MiB and never read: how many the server takes, how long they live.
    t0 = time.perf_counter()
    socks = []
    for _ in range(500):
        c = socket.create_connection(("127.0.0.1", port))
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(c)
    time.sleep(1)
    fds = len(os.listdir(f"/proc/{srv.pid}/fd"))
    rss = int([x for x in open(f"/proc/{srv.pid}/status") if x.startswith("VmRSS")][0].split()[1]) // 1024
    print(f"{'server: 500 non-reading clients after 1 s':58s} {'':12s}           {fds} descriptors, {rss} MB RSS")
    while time.perf_counter() - t0 < 120:
        fds = len(os.listdir(f"/proc/{srv.pid}/fd"))
        if fds < 40:
            break
        time.sleep(1)
    print(f"{'server: ... all closed by the server after':58s} {(time.perf_counter() - t0):9.1f} s            {fds} descriptors left")
    for c in socks:
        c.close()
    busy = subprocess.run(["node", os.path.join(ROOT, "scripts", "serve.mjs"), "--dir", srv_dir, "--port", str(port)],
                          capture_output=True, text=True, timeout=30)
    print(f"{'server: busy port':58s} {'':12s}           exit {busy.returncode}: {busy.stderr.strip()[:100]}")
    srv.terminate()
    print(f"\nload after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
