// Small device helpers shared by the kernels: warp reductions, float4 access, launch checks.
// Warp shuffles as in the CUDA C++ Programming Guide, "Warp Shuffle Functions".
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace resnorm {
namespace cuda {

constexpr int kWarp = 32;

inline int ceil_div(long long a, long long b) { return static_cast<int>((a + b - 1) / b); }
inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// Raises the last launch error (asynchronous errors surface at the next synchronising call).
void check_launch(const char* kernel, const char* file, int line);
#define RESNORM_CHECK_LAUNCH(name) ::resnorm::cuda::check_launch(name, __FILE__, __LINE__)

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over a block whose size is a multiple of 32 (up to 1024), in a fixed order; every thread gets
// the result. `sh` holds 32 values of T.
template <class T>
__device__ __forceinline__ T block_sum(T v, T* sh) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  v = warp_sum(v);
  __syncthreads();  // sh may still be read by a previous call
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  T t = lane < warps ? sh[lane] : T(0);
  return warp_sum(t);
}

__device__ __forceinline__ float4 ld4(const float* p) { return *reinterpret_cast<const float4*>(p); }
__device__ __forceinline__ float4 ldg4(const float* p) { return __ldg(reinterpret_cast<const float4*>(p)); }
__device__ __forceinline__ void st4(float* p, float4 v) { *reinterpret_cast<float4*>(p) = v; }
__device__ __forceinline__ float sum4(float4 v) { return (v.x + v.y) + (v.z + v.w); }

}  // namespace cuda
}  // namespace resnorm
