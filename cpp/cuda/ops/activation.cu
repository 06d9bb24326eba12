// Pointwise activations on the GPU (mirrors cpp/core/ops/activation.cpp): ReLU, tanh and GELU in
// its tanh approximation (Hendrycks & Gimpel 2016; PyTorch's approximate='tanh'); backward adds into din.
#include <algorithm>

#include "common.cuh"
#include "cuda_ops.h"

namespace resnorm {
namespace cuda {

namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluC = 0.044715f;

__device__ __forceinline__ float act_fwd(int act, float x) {
  if (act == static_cast<int>(Activation::Relu)) return fmaxf(x, 0.0f);
  if (act == static_cast<int>(Activation::Tanh)) return tanhf(x);
  return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + kGeluC * x * x * x)));
}

__device__ __forceinline__ float act_grad(int act, float x, float dy) {
  if (act == static_cast<int>(Activation::Relu)) return x > 0.0f ? dy : 0.0f;
  if (act == static_cast<int>(Activation::Tanh)) {
    const float t = tanhf(x);
    return dy * (1.0f - t * t);
  }
  const float t = tanhf(kSqrt2OverPi * (x + kGeluC * x * x * x));
  return dy * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kGeluC * x * x));
}

__global__ void act_fwd_kernel(float* out, const float* in, size_t n, int act) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    out[i] = act_fwd(act, in[i]);
}

__global__ void act_fwd_vec(float* out, const float* in, size_t n4, int act) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n4;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const float4 x = ld4(in + 4 * i);
    st4(out + 4 * i, make_float4(act_fwd(act, x.x), act_fwd(act, x.y), act_fwd(act, x.z), act_fwd(act, x.w)));
  }
}

__global__ void act_bwd_kernel(float* din, const float* dout, const float* in, size_t n, int act) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    din[i] += act_grad(act, in[i], dout[i]);
}

__global__ void act_bwd_vec(float* din, const float* dout, const float* in, size_t n4, int act) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n4;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const float4 x = ld4(in + 4 * i), dy = ld4(dout + 4 * i);
    float4 d = ld4(din + 4 * i);
    d.x += act_grad(act, x.x, dy.x);
    d.y += act_grad(act, x.y, dy.y);
    d.z += act_grad(act, x.z, dy.z);
    d.w += act_grad(act, x.w, dy.w);
    st4(din + 4 * i, d);
  }
}

int grid_for(size_t n, int sms) { return std::max(1, std::min(ceil_div(static_cast<long long>(n), 256), 16 * sms)); }

}  // namespace

void activation_forward(float* out, const float* in, size_t n, Activation act, Ctx& ctx) {
  if (n == 0) return;
  if (n % 4 == 0 && aligned16(out) && aligned16(in))
    act_fwd_vec<<<grid_for(n / 4, ctx.sms), 256, 0, ctx.stream>>>(out, in, n / 4, static_cast<int>(act));
  else
    act_fwd_kernel<<<grid_for(n, ctx.sms), 256, 0, ctx.stream>>>(out, in, n, static_cast<int>(act));
  RESNORM_CHECK_LAUNCH("activation_forward");
}

void activation_backward(float* din, const float* dout, const float* in, size_t n, Activation act, Ctx& ctx) {
  if (n == 0) return;
  if (n % 4 == 0 && aligned16(din) && aligned16(dout) && aligned16(in))
    act_bwd_vec<<<grid_for(n / 4, ctx.sms), 256, 0, ctx.stream>>>(din, dout, in, n / 4, static_cast<int>(act));
  else
    act_bwd_kernel<<<grid_for(n, ctx.sms), 256, 0, ctx.stream>>>(din, dout, in, n, static_cast<int>(act));
  RESNORM_CHECK_LAUNCH("activation_backward");
}

}  // namespace cuda
}  // namespace resnorm
