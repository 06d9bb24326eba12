// Causal multi-head self-attention, forward and backward (Vaswani et al. 2017). qkv is the
// packed output of one Linear(C -> 3C): per token [q(C) | k(C) | v(C)], head h owning columns
// h*hd..(h+1)*hd of each part. The softmax probabilities are saved for backward and for the
// attention maps the playground draws. With more than one thread the (batch, head) pairs, which
// share nothing, run on the pool; each pair's arithmetic is the same on any thread.
#include <cmath>

#include "../parallel.h"
#include "eigen_maps.h"
#include "ops.h"

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
}  // namespace

void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C, int H) {
  const int hd = C / H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const Eigen::OuterStride<> s3(3 * C), s1(C);
  for_each_head(B, H, [&](int b, int h, int) {
    const float* base = qkv + static_cast<size_t>(b) * T * 3 * C;
    {
      CMapStrided q(base + h * hd, T, hd, s3), k(base + C + h * hd, T, hd, s3), v(base + 2 * C + h * hd, T, hd, s3);
      MapMat p(att + (static_cast<size_t>(b) * H + h) * T * T, T, T);
      p.noalias() = (scale * q) * k.transpose();  // the scale folds into the GEMM: no temporary
      for (int t = 0; t < T; ++t) {
        auto row = p.row(t).head(t + 1).array();
        const float m = row.maxCoeff();
        row = (row - m).exp();
        row /= row.sum();
        p.row(t).tail(T - t - 1).setZero();  // causal mask: no attention to the future
      }
      MapStrided(out + static_cast<size_t>(b) * T * C + h * hd, T, hd, s1).noalias() = p * v;
    }
  });
}

void attention_backward(float* dqkv, float* scratch, const float* dout, const float* qkv, const float* att, int B,
                        int T, int C, int H) {
  const int hd = C / H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const Eigen::OuterStride<> s3(3 * C), s1(C);
  // Worker 0 (the caller) uses the model's scratch; the others their own [T,T] from the pool.
  for_each_head(B, H, [&](int b, int h, int worker) {
    float* ds_buf = worker == 0 ? scratch : worker_scratch(worker, static_cast<size_t>(T) * T);
    const float* base = qkv + static_cast<size_t>(b) * T * 3 * C;
    float* dbase = dqkv + static_cast<size_t>(b) * T * 3 * C;
    {
      CMapStrided q(base + h * hd, T, hd, s3), k(base + C + h * hd, T, hd, s3), v(base + 2 * C + h * hd, T, hd, s3);
      MapStrided dq(dbase + h * hd, T, hd, s3), dk(dbase + C + h * hd, T, hd, s3), dv(dbase + 2 * C + h * hd, T, hd, s3);
      CMapStrided dy(dout + static_cast<size_t>(b) * T * C + h * hd, T, hd, s1);
      CMapMat p(att + (static_cast<size_t>(b) * H + h) * T * T, T, T);
      MapMat ds(ds_buf, T, T);
      dv.noalias() += p.transpose() * dy;
      ds.noalias() = dy * v.transpose();  // dP
      // softmax backward: dS = P * (dP - rowsum(dP * P)); masked entries have P = 0
      for (int t = 0; t < T; ++t) {
        auto dp = ds.row(t).array();
        const float dot = (dp * p.row(t).array()).sum();
        dp = p.row(t).array() * (dp - dot) * scale;
      }
      dq.noalias() += ds * k;
      dk.noalias() += ds.transpose() * q;
    }
  });
}

void attention_entropy(float* out, const float* att, int B, int T, int H) {
  for (int h = 0; h < H; ++h) {
    double total = 0.0;
    for (int b = 0; b < B; ++b) {
      const float* p = att + (static_cast<size_t>(b) * H + h) * T * T;
      for (int t = 0; t < T; ++t) {
        CMapArr row(p + static_cast<size_t>(t) * T, t + 1);
        // -sum p log p, with 0 log 0 = 0 (the max keeps log finite; the product is then 0)
        total -= (row * row.max(1e-30f).log()).sum();
      }
    }
    out[h] = static_cast<float>(total / (static_cast<double>(B) * T));
  }
}

}  // namespace resnorm
