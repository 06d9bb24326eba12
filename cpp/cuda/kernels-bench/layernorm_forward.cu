// LayerNorm forward, kernel versions side by side (default 65536 x 768 fp32), each checked against
// the CPU reference and then timed; GB/s counts the input read and the output written (2 N C floats).
//   v1 one thread per row (the textbook loop; uncoalesced)
//   v2 one block per row, shared-memory reductions
//   v3 one warp per row, scalar loads, row re-read from cache       (production fallback: norm_fwd_any)
//   v4 one warp per row, row held in registers as float4            (production: norm_fwd_vec)
//   v5 v4 with streaming cache hints (__ldcs / __stcs: read once, write once)
// Build: part of the `cuda` preset (build/cuda/kernels-bench/kb_layernorm_forward); run.sh runs them all.
#include "bench_common.cuh"
#include "norm_kernels.cuh"

using namespace resnorm::cuda;

namespace {

void cpu_layernorm(std::vector<float>& out, const std::vector<float>& x, const std::vector<float>& w,
                   const std::vector<float>& b, int N, int C, float eps) {
  for (int i = 0; i < N; ++i) {
    const float* r = x.data() + static_cast<size_t>(i) * C;
    double m = 0, v = 0;
    for (int c = 0; c < C; ++c) m += r[c];
    m /= C;
    for (int c = 0; c < C; ++c) v += (r[c] - m) * (r[c] - m);
    const double rs = 1.0 / std::sqrt(v / C + eps);
    for (int c = 0; c < C; ++c) out[static_cast<size_t>(i) * C + c] = static_cast<float>((r[c] - m) * rs * w[c] + b[c]);
  }
}

__global__ void ln_fwd_v1(float* out, float* mean, float* rstd, const float* x, const float* w, const float* b, int N,
                          int C, float eps) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= N) return;
  const float* r = x + static_cast<size_t>(row) * C;
  float m = 0.0f;
  for (int c = 0; c < C; ++c) m += r[c];
  m /= C;
  float v = 0.0f;
  for (int c = 0; c < C; ++c) v += (r[c] - m) * (r[c] - m);
  const float rs = 1.0f / sqrtf(v / C + eps);
  for (int c = 0; c < C; ++c) out[static_cast<size_t>(row) * C + c] = (r[c] - m) * rs * w[c] + b[c];
  mean[row] = m;
  rstd[row] = rs;
}

__global__ void ln_fwd_v2(float* out, float* mean, float* rstd, const float* x, const float* w, const float* b, int C,
                          float eps) {
  __shared__ float sh[32];
  const size_t base = static_cast<size_t>(blockIdx.x) * C;
  float s = 0.0f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) s += x[base + c];
  const float m = block_sum(s, sh) / C;
  float s2 = 0.0f;
  for (int c = threadIdx.x; c < C; c += blockDim.x) {
    const float d = x[base + c] - m;
    s2 += d * d;
  }
  const float rs = 1.0f / sqrtf(block_sum(s2, sh) / C + eps);
  for (int c = threadIdx.x; c < C; c += blockDim.x) out[base + c] = (x[base + c] - m) * rs * w[c] + b[c];
  if (threadIdx.x == 0) {
    mean[blockIdx.x] = m;
    rstd[blockIdx.x] = rs;
  }
}

// v4 with cache-streaming loads/stores (CUDA C++ Programming Guide, "Load Functions Using Cache Hints").
template <int NV>
__global__ void __launch_bounds__(256) ln_fwd_v5(NormFwdArgs p) {
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
    s += sum4(v[k]);
  }
  const float m = warp_sum(s) / C;
  float s2 = 0.0f;
#pragma unroll
  for (int k = 0; k < NV; ++k) {
    const int c = (k * kWarp + lane) * 4;
    if (c < C) {
      const float a = v[k].x - m, b = v[k].y - m, cc = v[k].z - m, d = v[k].w - m;
      s2 += (a * a + b * b) + (cc * cc + d * d);
    }
  }
  const float r = 1.0f / sqrtf(warp_sum(s2) / C + p.eps);
#pragma unroll
  for (int k = 0; k < NV; ++k) {
    const int c = (k * kWarp + lane) * 4;
    if (c < C) {
      const float4 w = ldg4(p.w + c), b = ldg4(p.b + c);
      __stcs(reinterpret_cast<float4*>(p.out + base + c),
             make_float4((v[k].x - m) * r * w.x + b.x, (v[k].y - m) * r * w.y + b.y, (v[k].z - m) * r * w.z + b.z,
                         (v[k].w - m) * r * w.w + b.w));
    }
  }
  if (lane == 0) {
    p.mean[row] = m;
    p.rstd[row] = r;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args a = bench::parse(argc, argv);
  const int N = a.N, C = a.C;
  const float eps = 1e-5f;
  const size_t n = static_cast<size_t>(N) * C;
  std::vector<float> hx(n), hw(C), hb(C), ref(n);
  bench::fill(hx, 1, -2.0f, 3.0f);
  bench::fill(hw, 2, 0.5f, 1.5f);
  bench::fill(hb, 3, -0.5f, 0.5f);
  cpu_layernorm(ref, hx, hw, hb, N, C, eps);
  bench::DevBuf x(hx), w(hw), b(hb), out(n), mean(N), rstd(N);
  NormFwdArgs p;
  p.out = out.p;
  p.mean = mean.p;
  p.rstd = rstd.p;
  p.x = x.p;
  p.w = w.p;
  p.b = b.p;
  p.N = N;
  p.C = C;
  p.eps = eps;
  const double bytes = 2.0 * n * sizeof(float);
  const double tol = 1e-4;
  bench::Reporter rep(a, "layernorm_forward", "x read + out written", n * sizeof(float));

  auto check = [&](const std::function<void()>& launch) {
    out.zero();
    launch();
    BENCH_CHECK(cudaDeviceSynchronize());
    return bench::max_err(out.down(), ref);
  };
  if (rep.wanted(1)) {
    auto l = [&] { ln_fwd_v1<<<resnorm::cuda::ceil_div(N, 128), 128>>>(out.p, mean.p, rstd.p, x.p, w.p, b.p, N, C, eps); };
    rep.result(1, "thread per row", check(l), tol, l, bytes);
  }
  if (rep.wanted(2)) {
    auto l = [&] { ln_fwd_v2<<<N, 256>>>(out.p, mean.p, rstd.p, x.p, w.p, b.p, C, eps); };
    rep.result(2, "block per row, shared-memory reductions", check(l), tol, l, bytes);
  }
  if (rep.wanted(3)) {
    auto l = [&] { norm_fwd_any<kLayerNorm, false><<<resnorm::cuda::ceil_div(N, 8), 256>>>(p); };
    rep.result(3, "warp per row, scalar, re-read (production any-C)", check(l), tol, l, bytes);
  }
  if (rep.wanted(4)) {
    auto l = [&] { launch_norm_fwd<kLayerNorm, false>(p, 0); };
    rep.result(4, "warp per row, float4 in registers (production)", check(l), tol, l, bytes);
  }
  if (rep.wanted(5) && C % 4 == 0 && C <= 1024) {
    auto l = [&] {
      const int g = resnorm::cuda::ceil_div(N, 8);
      switch ((C + 127) / 128) {
        case 1: ln_fwd_v5<1><<<g, 256>>>(p); break;
        case 2: ln_fwd_v5<2><<<g, 256>>>(p); break;
        case 3: ln_fwd_v5<3><<<g, 256>>>(p); break;
        case 4: ln_fwd_v5<4><<<g, 256>>>(p); break;
        case 5: ln_fwd_v5<5><<<g, 256>>>(p); break;
        case 6: ln_fwd_v5<6><<<g, 256>>>(p); break;
        case 7: ln_fwd_v5<7><<<g, 256>>>(p); break;
        default: ln_fwd_v5<8><<<g, 256>>>(p); break;
      }
    };
    rep.result(5, "v4 + streaming cache hints", check(l), tol, l, bytes);
  }
  return rep.exit_code();
}
