// The index arithmetic of conv2d.cu's im2col and col2im kernels, as plain functions of one element's
// flat index, compiled for the device by nvcc and for the host by the C++ compiler: so the [backend]
// tests run the kernels' own indexing (strides, padding, the (ci, kh, kw) column order, the gather
// form of col2im) against the CPU core's conv2d on machines without a GPU. No CUDA header needed.
#pragma once
#include <cstddef>

#if defined(__CUDACC__)
#define RESNORM_HD __host__ __device__ __forceinline__
#else
#define RESNORM_HD inline
#endif

namespace resnorm {
namespace cuda {

// cols[i] for i = row * IC*K*K + (ci*K + kh)*K + kw, row = (b*Ho + oh)*Ho + ow:
// in[b, oh*S - P + kh, ow*S - P + kw, ci] (NHWC, square H x H), 0 in the padding.
RESNORM_HD float im2col_element(const float* in, size_t i, int H, int IC, int K, int S, int P, int Ho) {
  const int KK = K * K, RL = IC * KK;
  const size_t row = i / RL;
  const int j = static_cast<int>(i % RL);
  const int ci = j / KK, kh = (j / K) % K, kw = j % K;
  const int ow = static_cast<int>(row % Ho), oh = static_cast<int>((row / Ho) % Ho);
  const size_t b = row / (static_cast<size_t>(Ho) * Ho);
  const int ih = oh * S - P + kh, iw = ow * S - P + kw;
  return (ih < 0 || ih >= H || iw < 0 || iw >= H) ? 0.0f : in[((b * H + ih) * H + iw) * IC + ci];
}

// The adjoint, as a gather: for din[i], i = ((b*H + ih)*H + iw)*IC + ci, the sum over (kh, kw), in that
// order, of the column entries that copied this element: oh = (ih + P - kh) / S and ow = (iw + P - kw) / S
// whole and inside the output.
RESNORM_HD float col2im_element(const float* dcols, size_t i, int H, int IC, int K, int S, int P, int Ho) {
  const int RL = IC * K * K;
  const int ci = static_cast<int>(i % IC);
  const size_t pos = i / IC;
  const int iw = static_cast<int>(pos % H), ih = static_cast<int>((pos / H) % H);
  const size_t b = pos / (static_cast<size_t>(H) * H);
  float acc = 0.0f;
  for (int kh = 0; kh < K; ++kh) {
    const int th = ih + P - kh;
    if (th < 0 || th % S) continue;
    const int oh = th / S;
    if (oh >= Ho) continue;
    for (int kw = 0; kw < K; ++kw) {
      const int tw = iw + P - kw;
      if (tw < 0 || tw % S) continue;
      const int ow = tw / S;
      if (ow >= Ho) continue;
      acc += dcols[((b * Ho + oh) * Ho + ow) * RL + (ci * K + kh) * K + kw];
    }
  }
  return acc;
}

}  // namespace cuda
}  // namespace resnorm
