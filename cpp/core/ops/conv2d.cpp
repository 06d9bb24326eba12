// 2-D convolution (no bias), forward and backward, as im2col + the GEMM of linear.cpp.
// Activations are NHWC ([B,H,W,C], channels innermost), so a conv's output rows [B*Ho*Wo, OC] are
// exactly linear_forward(cols, w) and per-position norms run over contiguous rows. The weight keeps
// PyTorch's nn.Conv2d layout [OC, IC, K, K]; im2col orders each row's columns (ci, kh, kw) to match,
// so a checkpoint's conv weights are PyTorch's bytes. Zero padding P, stride S, square kernel K.
// im2col + GEMM was chosen over a direct loop because the product then runs in Eigen's blocked,
// vectorised GEMM (the same one the transformer uses); the cols buffer is recomputed in backward
// rather than kept, so the activation block holds no patch copies.
#include <algorithm>

#include "ops.h"

namespace resnorm {

namespace {
// cols[row, (ci*K + kh)*K + kw] = in[b, oh*S - P + kh, ow*S - P + kw, ci], or 0 in the padding.
void im2col(float* cols /*[B*Ho*Wo, IC*K*K]*/, const float* in /*[B,H,W,IC]*/, int B, int H, int W, int IC, int K,
            int S, int P, int Ho, int Wo) {
  const int KK = K * K, row_len = IC * KK;
  for (int b = 0; b < B; ++b)
    for (int oh = 0; oh < Ho; ++oh)
      for (int ow = 0; ow < Wo; ++ow) {
        float* c = cols + ((static_cast<size_t>(b) * Ho + oh) * Wo + ow) * row_len;
        for (int kh = 0; kh < K; ++kh) {
          const int ih = oh * S - P + kh;
          for (int kw = 0; kw < K; ++kw) {
            const int iw = ow * S - P + kw;
            float* dst = c + kh * K + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
              for (int ci = 0; ci < IC; ++ci) dst[ci * KK] = 0.0f;
            } else {
              const float* src = in + ((static_cast<size_t>(b) * H + ih) * W + iw) * IC;
              for (int ci = 0; ci < IC; ++ci) dst[ci * KK] = src[ci];
            }
          }
        }
      }
}

// The adjoint of im2col: din[b, ih, iw, ci] += every column entry that copied it.
void col2im_add(float* din /*[B,H,W,IC]*/, const float* cols /*[B*Ho*Wo, IC*K*K]*/, int B, int H, int W, int IC, int K,
                int S, int P, int Ho, int Wo) {
  const int KK = K * K, row_len = IC * KK;
  for (int b = 0; b < B; ++b)
    for (int oh = 0; oh < Ho; ++oh)
      for (int ow = 0; ow < Wo; ++ow) {
        const float* c = cols + ((static_cast<size_t>(b) * Ho + oh) * Wo + ow) * row_len;
        for (int kh = 0; kh < K; ++kh) {
          const int ih = oh * S - P + kh;
          if (ih < 0 || ih >= H) continue;
          for (int kw = 0; kw < K; ++kw) {
            const int iw = ow * S - P + kw;
            if (iw < 0 || iw >= W) continue;
            const float* s = c + kh * K + kw;
            float* dst = din + ((static_cast<size_t>(b) * H + ih) * W + iw) * IC;
            for (int ci = 0; ci < IC; ++ci) dst[ci] += s[ci * KK];
          }
        }
      }
}
}  // namespace

int conv2d_out_size(int in, int K, int S, int P) { return (in + 2 * P - K) / S + 1; }

void conv2d_forward(float* out, float* cols, const float* in, const float* w, int B, int H, int W, int IC, int OC,
                    int K, int S, int P) {
  const int Ho = conv2d_out_size(H, K, S, P), Wo = conv2d_out_size(W, K, S, P);
  im2col(cols, in, B, H, W, IC, K, S, P, Ho, Wo);
  linear_forward(out, cols, w, nullptr, B * Ho * Wo, IC * K * K, OC);
}

void conv2d_backward(float* din, float* dw, float* cols, float* dcols, const float* dout, const float* in,
                     const float* w, int B, int H, int W, int IC, int OC, int K, int S, int P) {
  const int Ho = conv2d_out_size(H, K, S, P), Wo = conv2d_out_size(W, K, S, P);
  const int rows = B * Ho * Wo, row_len = IC * K * K;
  im2col(cols, in, B, H, W, IC, K, S, P, Ho, Wo);
  if (din) std::fill(dcols, dcols + static_cast<size_t>(rows) * row_len, 0.0f);
  linear_backward(din ? dcols : nullptr, dw, nullptr, dout, cols, w, rows, row_len, OC);
  if (din) col2im_add(din, dcols, B, H, W, IC, K, S, P, Ho, Wo);
}

}  // namespace resnorm
