// Causal multi-head self-attention, forward and backward (Vaswani et al. 2017). qkv is the
// packed output of one Linear(C -> 3C): per token [q(C) | k(C) | v(C)], head h owning columns
// h*hd..(h+1)*hd of each part. The softmax probabilities are saved for backward and for the
// attention maps the playground draws. With more than one thread the (batch, head) pairs, which
// share nothing, run on the pool; each pair's arithmetic is the same on any thread.
//
// The per-head products (S = Q K^T, O = P V; backward dP = dO V^T, dV += P^T dO, dQ += dS K,
// dK += dS^T Q) go through the 128-bit GEMM of gemm.h in the builds that have it (wasm, native-sse;
// issue 24): Eigen reaches wasm SIMD only through Emscripten's SSE emulation. Those products skip the
// masked future: query rows run in blocks of kQBlock, a block's scores stop at its last row's key
// (the block's earlier rows get a few masked scores, computed and then zeroed by the softmax), and
// the products that sum over the key or query axis (P V, dS K; P^T dO, dS^T Q) leave out the
// block's all-zero terms. Every GEMM element is still one ordered sum fixed by the shapes alone, so
// wasm == native-sse and one thread == N threads hold bit for bit. -march=native builds keep Eigen's
// products (AVX-512 / AVX2 with FMA) over the whole square. Both paths share the forward softmax.
#include <algorithm>
#include <cmath>

#include "../parallel.h"
#include "eigen_maps.h"
#include "gemm.h"
#include "ops.h"
#include "v4.h"

namespace resnorm {

namespace {
// fn(b, h, worker) for every (batch, head) pair: in order on one thread, else spread over the pool.
template <class Fn>
void for_each_head(int B, int H, const Fn& fn) {
  if (threads() == 1) {
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h) fn(b, h, 0);
    return;
  }
  parallel_for(B * H, [&](int c, int worker) { fn(c / H, c % H, worker); });
}

#ifdef RESNORM_PORTABLE_GEMM
constexpr bool kPortable = true;
#else
constexpr bool kPortable = false;
#endif
// Query rows per causal block (a multiple of the GEMM's 4-row tile). At T = 64 the products then do
// 62.5% of the full square's multiply-adds; smaller blocks save more but pack the shared operand more often.
constexpr int kQBlock = 16;

// p[T,T] holds raw scores q.k in row t's columns 0..t (beyond: anything). Row t becomes
// softmax(scale * scores) over keys 0..t, zero beyond: the scale folds into the exponent
// (exp(scale (s - max s)) = exp(scale s - max(scale s)) for scale > 0), the causal mask into the row's length.
void causal_softmax(float* scores, int T, float scale) {
  if constexpr (kPortable) {
    // Four-float vectors (wasm, native-sse): Eigen's exp reaches wasm through Emscripten's SSE emulation,
    // whose float-to-int conversion is a scalar lrintf per lane. Each row: its max (exact in any order),
    // e = exp(scale (s - max)) lane by lane, the sum in four lanes then (l0 + l1) + (l2 + l3), e / sum.
    using simd::splat;
    using simd::v4;
    for (int t = 0; t < T; ++t) {
      float* row = scores + static_cast<size_t>(t) * T;
      const size_t n = static_cast<size_t>(t) + 1;
      float m = row[0];
      for (size_t j = 1; j < n; ++j) m = std::max(m, row[j]);
      v4 acc = splat(0.0f);
      for (size_t j = 0; j < n; j += 4) {
        const size_t count = std::min<size_t>(4, n - j);
        const v4 e = simd::exp((simd::load_part(row + j, count) - splat(m)) * splat(scale));
        simd::store_part(row + j, e, count);
        acc += count == 4 ? e : simd::select(simd::v4i{0, 1, 2, 3} < static_cast<int>(count), e, splat(0.0f));
      }
      const v4 sum = splat((acc[0] + acc[1]) + (acc[2] + acc[3]));
      for (size_t j = 0; j < n; j += 4) {
        const size_t count = std::min<size_t>(4, n - j);
        simd::store_part(row + j, simd::load_part(row + j, count) / sum, count);
      }
      std::fill(row + n, row + T, 0.0f);
    }
    return;
  }
  MapMat p(scores, T, T);
  for (int t = 0; t < T; ++t) {
    auto row = p.row(t).head(t + 1).array();
    const float m = row.maxCoeff();
    row = ((row - m) * scale).exp();
    row /= row.sum();
    p.row(t).tail(T - t - 1).setZero();
  }
}

// ds[T,T] holds dP = dO V^T in row t's columns 0..t (beyond: anything, the GEMM path leaves those
// unwritten). Becomes dS = scale * P * (dP - sum_j dP P) over keys 0..t (the softmax backward, scale
// included), zero beyond, as the GEMM path's dQ and dK products read it.
void causal_softmax_backward(float* ds, const float* att, int T, float scale) {
  MapMat d(ds, T, T);
  CMapMat p(att, T, T);
  for (int t = 0; t < T; ++t) {
    auto dp = d.row(t).head(t + 1).array();
    const auto pr = p.row(t).head(t + 1).array();
    const float dot = (dp * pr).sum();
    dp = pr * (dp - dot) * scale;
    d.row(t).tail(T - t - 1).setZero();
  }
}
}  // namespace

void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C, int H) {
  const int hd = C / H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const std::ptrdiff_t s3 = 3 * C;
  for_each_head(B, H, [&](int b, int h, int) {
    const float* q = qkv + static_cast<size_t>(b) * T * s3 + h * hd;  // [T,hd], row stride 3C
    const float* k = q + C;                                             // [T,hd], row stride 3C
    const float* v = q + 2 * C;                                         // [T,hd], row stride 3C
    float* p = att + (static_cast<size_t>(b) * H + h) * T * T;          // [T,T]
    float* o = out + static_cast<size_t>(b) * T * C + h * hd;           // [T,hd], row stride C
    if (kPortable) {
      for (int i0 = 0; i0 < T; i0 += kQBlock) {  // S[i0.., 0..n) = Q K^T: keys up to the block's last row
        const int m = std::min(kQBlock, T - i0), n = i0 + m;
        gemm(m, n, hd, q + i0 * s3, s3, 1, k, 1, s3, p + static_cast<size_t>(i0) * T, T, false);
      }
      causal_softmax(p, T, scale);
      for (int i0 = 0; i0 < T; i0 += kQBlock) {  // O = P V, summed over the keys the block's rows can see
        const int m = std::min(kQBlock, T - i0), n = i0 + m;
        gemm(m, hd, n, p + static_cast<size_t>(i0) * T, T, 1, v, s3, 1, o + i0 * C, C, false);
      }
      return;
    }
    const Eigen::OuterStride<> st3(3 * C), st1(C);
    MapMat pm(p, T, T);
    pm.noalias() = CMapStrided(q, T, hd, st3) * CMapStrided(k, T, hd, st3).transpose();
    causal_softmax(p, T, scale);
    MapStrided(o, T, hd, st1).noalias() = pm * CMapStrided(v, T, hd, st3);
  });
}

void attention_backward(float* dqkv, float* scratch, const float* dout, const float* qkv, const float* att, int B,
                        int T, int C, int H) {
  const int hd = C / H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const std::ptrdiff_t s3 = 3 * C;
  // Worker 0 (the caller) uses the model's scratch; the others their own [T,T] from the pool.
  for_each_head(B, H, [&](int b, int h, int worker) {
    float* ds = worker == 0 ? scratch : worker_scratch(worker, static_cast<size_t>(T) * T);  // [T,T]
    const float* q = qkv + static_cast<size_t>(b) * T * s3 + h * hd;  // [T,hd], row stride 3C
    const float* k = q + C;
    const float* v = q + 2 * C;
    float* dq = dqkv + static_cast<size_t>(b) * T * s3 + h * hd;  // [T,hd], row stride 3C
    float* dk = dq + C;
    float* dv = dq + 2 * C;
    const float* dy = dout + static_cast<size_t>(b) * T * C + h * hd;  // [T,hd], row stride C
    const float* p = att + (static_cast<size_t>(b) * H + h) * T * T;   // [T,T], zero above the diagonal
    if (kPortable) {
      for (int i0 = 0; i0 < T; i0 += kQBlock) {
        const int m = std::min(kQBlock, T - i0), n = i0 + m;
        // dV[i0..] += P^T dO: key row j sees only queries t >= j, so the sum starts at the block's first row
        gemm(m, hd, T - i0, p + static_cast<size_t>(i0) * T + i0, 1, T, dy + i0 * C, C, 1, dv + i0 * s3, s3, true);
        // dP[i0.., 0..n) = dO V^T
        gemm(m, n, hd, dy + i0 * C, C, 1, v, 1, s3, ds + static_cast<size_t>(i0) * T, T, false);
      }
      causal_softmax_backward(ds, p, T, scale);
      for (int i0 = 0; i0 < T; i0 += kQBlock) {
        const int m = std::min(kQBlock, T - i0), n = i0 + m;
        gemm(m, hd, n, ds + static_cast<size_t>(i0) * T, T, 1, k, s3, 1, dq + i0 * s3, s3, true);  // dQ += dS K
        // dK += dS^T Q, from the block's first query on (dS is zero above the diagonal)
        gemm(m, hd, T - i0, ds + static_cast<size_t>(i0) * T + i0, 1, T, q + i0 * s3, s3, 1, dk + i0 * s3, s3, true);
      }
      return;
    }
    const Eigen::OuterStride<> st3(3 * C), st1(C);
    CMapStrided qm(q, T, hd, st3), km(k, T, hd, st3), vm(v, T, hd, st3), dym(dy, T, hd, st1);
    CMapMat pm(p, T, T);
    MapMat dsm(ds, T, T);
    MapStrided(dv, T, hd, st3).noalias() += pm.transpose() * dym;
    dsm.noalias() = dym * vm.transpose();  // dP, the whole square
    // Softmax backward over whole rows (P is 0 above the diagonal, and dP is finite there): rows of T
    // floats stay whole 16-float AVX-512 packets, where rows of t + 1 leave scalar tails (measured: the
    // causal-length rows made this backward ~8% slower with -march=native on AVX-512).
    for (int t = 0; t < T; ++t) {
      auto dp = dsm.row(t).array();
      const float dot = (dp * pm.row(t).array()).sum();
      dp = pm.row(t).array() * (dp - dot) * scale;
    }
    MapStrided(dq, T, hd, st3).noalias() += dsm * km;
    MapStrided(dk, T, hd, st3).noalias() += dsm.transpose() * qm;
  });
}

float attention_entropy_head(const float* att, int B, int T, int H, int h) {
  double total = 0.0;
  for (int b = 0; b < B; ++b) {
    const float* p = att + (static_cast<size_t>(b) * H + h) * T * T;
    for (int t = 0; t < T; ++t) {
      CMapArr row(p + static_cast<size_t>(t) * T, t + 1);
      // -sum p log p, with 0 log 0 = 0 (the max keeps log finite; the product is then 0)
      total -= (row * row.max(1e-30f).log()).sum();
    }
  }
  return static_cast<float>(total / (static_cast<double>(B) * T));
}

}  // namespace resnorm
