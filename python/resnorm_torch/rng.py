# The core's random number generator (cpp/core/rng.h) in Python: PCG32 (O'Neill 2014, pcg-random.org,
# XSH-RR output) seeded through SplitMix64, with the same uniform, below and normal draws, so the twin
# draws the same datasets, initial weights and batches as the core from the same seed.
"""Rng(seed, stream) gives the same 32-bit words as resnorm::Rng(seed, stream).

Scalar draws run in plain Python. uniform_many and normal_many draw long runs (initial weights) with
numpy: the LCG state after k steps is A_k * s + C_k (mod 2^64), with A_k = a^k and C_k = inc * (1 + a +
... + a^(k-1)) precomputed by doubling, so a run of n words costs a few vectorised passes.
float32 arithmetic (uniform's lo + (hi - lo) * u) is done in numpy.float32, as the core does in float.
The core's -march=native build may contract that expression into one FMA; then a weight can differ in
its last bit from the twin's, which the float32 parity tolerances absorb.
"""
import math

import numpy as np

M64 = (1 << 64) - 1
_MUL = 6364136223846793005


def splitmix64(s):
    s = (s + 0x9E3779B97F4A7C15) & M64
    z = s
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return s, z ^ (z >> 31)


def _output(old):
    """XSH-RR on numpy uint64 states -> uint32 words."""
    xorshifted = (((old >> np.uint64(18)) ^ old) >> np.uint64(27)).astype(np.uint32)
    rot = (old >> np.uint64(59)).astype(np.uint32)
    return (xorshifted >> rot) | (xorshifted << ((np.uint32(32) - rot) & np.uint32(31)))


_JUMP_CACHE = {}


def _jumps(k):
    """A[j] = a^(j+1), G[j] = 1 + a + ... + a^j (mod 2^64), j = 0..k-1, by doubling."""
    if k in _JUMP_CACHE:
        return _JUMP_CACHE[k]
    A = np.array([_MUL], dtype=np.uint64)
    G = np.array([1], dtype=np.uint64)
    with np.errstate(over="ignore"):
        while len(A) < k:
            am, gm = A[-1], G[-1]  # a^m, sum_{i<m} a^i with m = len(A)
            A = np.concatenate([A, A * am])
            G = np.concatenate([G, gm + am * G])  # sum_{i<m+j+1} a^i = G_m + a^m * G_{j+1}
    _JUMP_CACHE[k] = (A[:k].copy(), G[:k].copy())
    return _JUMP_CACHE[k]


class Rng:
    def __init__(self, seed=0, stream=0):
        s = (seed ^ ((stream * 0xD1B54A32D192ED03) & M64)) & M64
        s, self.state = splitmix64(s)
        s, inc = splitmix64(s)
        self.inc = inc | 1

    def next_u32(self):
        old = self.state
        self.state = (old * _MUL + self.inc) & M64
        xorshifted = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
        rot = old >> 59
        return ((xorshifted >> rot) | (xorshifted << ((32 - rot) & 31))) & 0xFFFFFFFF

    def u32_many(self, n, chunk=1 << 16):
        """The next n words as a numpy uint32 array (the same as n calls of next_u32)."""
        out = np.empty(n, dtype=np.uint32)
        A, G = _jumps(min(chunk, max(n, 1)))
        inc = np.uint64(self.inc)
        pos = 0
        with np.errstate(over="ignore"):
            while pos < n:
                k = min(len(A), n - pos)
                s = np.uint64(self.state)
                after = A[:k] * s + G[:k] * inc  # states after 1..k steps
                olds = np.concatenate([[s], after[:-1]])
                out[pos:pos + k] = _output(olds)
                self.state = int(after[-1])
                pos += k
        return out

    @staticmethod
    def f32(x):
        return float(np.float32(x))

    def uniform(self):
        return float(np.float32(self.next_u32() >> 8) * np.float32(1.0 / 16777216.0))

    def uniform_range(self, lo, hi):
        lo, hi = np.float32(lo), np.float32(hi)
        return float(lo + (hi - lo) * np.float32(self.uniform()))

    def uniform_many(self, lo, hi, n):
        u = (self.u32_many(n) >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / 16777216.0)
        lo, hi = np.float32(lo), np.float32(hi)
        return lo + (hi - lo) * u

    def below(self, n):
        """Uniform integer in [0, n), Lemire's method with its rejection step, as the core."""
        m = self.next_u32() * n
        low = m & 0xFFFFFFFF
        if low < n:
            t = ((1 << 32) - n) % n
            while low < t:
                m = self.next_u32() * n
                low = m & 0xFFFFFFFF
        return m >> 32

    def normal(self):
        u1 = (self.next_u32() + 1.0) * (1.0 / 4294967296.0)
        u2 = self.next_u32() * (1.0 / 4294967296.0)
        return float(np.float32(math.sqrt(-2.0 * math.log(u1)) * math.cos(6.283185307179586 * u2)))

    def normal_many(self, n):
        """n calls of normal(), through Python's libm (the same double results as the core's glibc calls)."""
        w = self.u32_many(2 * n).astype(np.float64)
        u1 = (w[0::2] + 1.0) * (1.0 / 4294967296.0)
        u2 = w[1::2] * (1.0 / 4294967296.0)
        return np.array([math.sqrt(-2.0 * math.log(a)) * math.cos(6.283185307179586 * b) for a, b in zip(u1, u2)],
                        dtype=np.float64).astype(np.float32)
