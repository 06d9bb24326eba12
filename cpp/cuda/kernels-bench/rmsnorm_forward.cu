// RMSNorm forward (Zhang & Sennrich 2019: out = x / sqrt(mean(x^2) + eps) * w), kernel versions side by
// side (default 65536 x 768 fp32), each checked against the CPU reference and then timed. GB/s counts
// the input read and the output written (2 N C floats).
//   v1 one thread per row
//   v2 one block per row, shared-memory reduction
//   v3 one warp per row, row in registers as float4   (production: norm_fwd_vec<RMS>)
//   v4 v3 with streaming cache hints
#include "bench_common.cuh"
#include "norm_kernels.cuh"

using namespace resnorm::cuda;

namespace {

__global__ void rms_v1(float* out, float* rstd, const float* x, const float* w, int N, int C, float eps) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= N) return;
  const float* r = x + static_cast<size_t>(row) * C;
  float s = 0.0f;
  for (int c = 0; c < C; ++c) s += r[c] * r[c];
  const float rs = 1.0f / sqrtf(s / C + eps);
  for (int c = 0; c < C; ++c) out[static_cast<size_t>(row) * C + c] = r[c] * rs * w[c];
  rstd[row] = rs;
}

__global__ void rms_v2(float* out, float* rstd, const float* x, const float* w, int C, float eps) {
  __shared__ float sh[32];
  const size_t base = static_cast<size_t>(blockIdx.x) * C;
  float s = 0.0f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) s += x[base + c] * x[base + c];
  const float rs = 1.0f / sqrtf(block_sum(s, sh) / C + eps);
  for (int c = threadIdx.x; c < C; c += blockDim.x) out[base + c] = x[base + c] * rs * w[c];
  if (threadIdx.x == 0) rstd[blockIdx.x] = rs;
}

template <int NV>
__global__ void __launch_bounds__(256) rms_v4(NormFwdArgs p) {
  const int warps = blockDim.x / kWarp, lane = threadIdx.x % kWarp;
  const int row = blockIdx.x * warps + threadIdx.x / kWarp;
  if (row >= p.N) return;
  const int C = p.C;
  const size_t base = static_cast<size_t>(row) * C;
  float4 v[NV];
  float s = 0.0f;
#pragma unroll
  for (int k = 0; k < NV; ++k) {
    const int c = (k * kWarp + lane) * 4;
    v[k] = c < C ? __ldcs(reinterpret_cast<const float4*>(p.x + base + c)) : make_float4(0.f, 0.f, 0.f, 0.f);
    s += (v[k].x * v[k].x + v[k].y * v[k].y) + (v[k].z * v[k].z + v[k].w * v[k].w);
  }
  const float r = 1.0f / sqrtf(warp_sum(s) / C + p.eps);
#pragma unroll
  for (int k = 0; k < NV; ++k) {
    const int c = (k * kWarp + lane) * 4;
    if (c < C) {
      const float4 w = ldg4(p.w + c);
      __stcs(reinterpret_cast<float4*>(p.out + base + c),
             make_float4(v[k].x * r * w.x, v[k].y * r * w.y, v[k].z * r * w.z, v[k].w * r * w.w));
    }
  }
  if (lane == 0) p.rstd[row] = r;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args a = bench::parse(argc, argv);
  const int N = a.N, C = a.C;
  const float eps = 1e-5f;
  const size_t n = static_cast<size_t>(N) * C;
  std::vector<float> hx(n), hw(C), ref(n);
  bench::fill(hx, 31, -2.0f, 3.0f);
  bench::fill(hw, 32, 0.5f, 1.5f);
  for (int i = 0; i < N; ++i) {
    const size_t o = static_cast<size_t>(i) * C;
    double s = 0;
    for (int c = 0; c < C; ++c) s += static_cast<double>(hx[o + c]) * hx[o + c];
    const double r = 1.0 / std::sqrt(s / C + eps);
    for (int c = 0; c < C; ++c) ref[o + c] = static_cast<float>(hx[o + c] * r * hw[c]);
  }
  bench::DevBuf x(hx), w(hw), out(n), rstd(N);
  NormFwdArgs p;
  p.out = out.p;
  p.rstd = rstd.p;
  p.x = x.p;
  p.w = w.p;
  p.N = N;
  p.C = C;
  p.eps = eps;
  const double bytes = 2.0 * n * sizeof(float);
  const double tol = 1e-4;
  bench::Reporter rep(a, "rmsnorm_forward", "x read + out written", n * sizeof(float));

  auto check = [&](const std::function<void()>& launch) {
    out.zero();
    launch();
    BENCH_CHECK(cudaDeviceSynchronize());
    return bench::max_err(out.down(), ref);
  };
  if (rep.wanted(1)) {
    auto l = [&] { rms_v1<<<resnorm::cuda::ceil_div(N, 128), 128>>>(out.p, rstd.p, x.p, w.p, N, C, eps); };
    rep.result(1, "thread per row", check(l), tol, l, bytes);
  }
  if (rep.wanted(2)) {
    auto l = [&] { rms_v2<<<N, 256>>>(out.p, rstd.p, x.p, w.p, C, eps); };
    rep.result(2, "block per row, shared-memory reduction", check(l), tol, l, bytes);
  }
  if (rep.wanted(3)) {
    auto l = [&] { launch_norm_fwd<kRmsNorm, false>(p, 0); };
    rep.result(3, "warp per row, float4 in registers (production)", check(l), tol, l, bytes);
  }
  if (rep.wanted(4) && C % 4 == 0 && C <= 1024) {
    auto l = [&] {
      const int g = resnorm::cuda::ceil_div(N, 8);
      switch ((C + 127) / 128) {
        case 1: rms_v4<1><<<g, 256>>>(p); break;
        case 2: rms_v4<2><<<g, 256>>>(p); break;
        case 3: rms_v4<3><<<g, 256>>>(p); break;
        case 4: rms_v4<4><<<g, 256>>>(p); break;
        case 5: rms_v4<5><<<g, 256>>>(p); break;
        case 6: rms_v4<6><<<g, 256>>>(p); break;
        case 7: rms_v4<7><<<g, 256>>>(p); break;
        default: rms_v4<8><<<g, 256>>>(p); break;
      }
    };
    rep.result(4, "v3 + streaming cache hints", check(l), tol, l, bytes);
  }
  return rep.exit_code();
}
