// Residual add + LayerNorm forward (y = x + f; out = LayerNorm(y), y kept for the backward), kernel
// versions side by side (default 65536 x 768 fp32), each checked against the CPU reference and then
// timed. GB/s counts 4 tensors: x and f read, y and out written (4 N C floats).
//   v1 two kernels: the residual add, then LayerNorm (production unfused pair)
//   v2 one kernel, warp per row, scalar, y re-read from cache   (production any-C: norm_fwd_any<RES>)
//   v3 one kernel, warp per row, float4 registers              (production: norm_fwd_vec<RES>)
//   v4 v3 with streaming cache hints on x, f, out (y is read again by the next layer: default caching)
#include "bench_common.cuh"
#include "norm_kernels.cuh"

using namespace resnorm::cuda;

namespace {

__global__ void add_vec(float* y, const float* x, const float* f, size_t n4) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n4;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const float4 a = ld4(x + 4 * i), b = ld4(f + 4 * i);
    st4(y + 4 * i, make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w));
  }
}

template <int NV>
__global__ void __launch_bounds__(256) res_ln_v4(NormFwdArgs p) {
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
    if (c < C) {
      const float4 a = __ldcs(reinterpret_cast<const float4*>(p.x + base + c));
      const float4 b = __ldcs(reinterpret_cast<const float4*>(p.f + base + c));
      v[k] = make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
      st4(p.y + base + c, v[k]);
      s += sum4(v[k]);
    } else {
      v[k] = make_float4(0.f, 0.f, 0.f, 0.f);
    }
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
  std::vector<float> hx(n), hf(n), hw(C), hb(C), ry(n), rout(n);
  bench::fill(hx, 21, -2.0f, 2.0f);
  bench::fill(hf, 22, -1.0f, 1.5f);
  bench::fill(hw, 23, 0.5f, 1.5f);
  bench::fill(hb, 24, -0.5f, 0.5f);
  for (int i = 0; i < N; ++i) {
    const size_t o = static_cast<size_t>(i) * C;
    double m = 0, v = 0;
    for (int c = 0; c < C; ++c) ry[o + c] = hx[o + c] + hf[o + c], m += ry[o + c];
    m /= C;
    for (int c = 0; c < C; ++c) v += (ry[o + c] - m) * (ry[o + c] - m);
    const double r = 1.0 / std::sqrt(v / C + eps);
    for (int c = 0; c < C; ++c) rout[o + c] = static_cast<float>((ry[o + c] - m) * r * hw[c] + hb[c]);
  }
  bench::DevBuf x(hx), f(hf), w(hw), b(hb), y(n), out(n), mean(N), rstd(N);
  NormFwdArgs p;
  p.out = out.p;
  p.mean = mean.p;
  p.rstd = rstd.p;
  p.y = y.p;
  p.x = x.p;
  p.f = f.p;
  p.w = w.p;
  p.b = b.p;
  p.N = N;
  p.C = C;
  p.eps = eps;
  p.kind = kResIdentity;
  const double bytes = 4.0 * n * sizeof(float);
  const double tol = 1e-4;
  bench::Reporter rep(a, "residual_layernorm_forward", "x, f read + y, out written", n * sizeof(float));

  auto check = [&](const std::function<void()>& launch) {
    out.zero();
    y.zero();
    launch();
    BENCH_CHECK(cudaDeviceSynchronize());
    return std::max(bench::max_err(out.down(), rout), bench::max_err(y.down(), ry));
  };
  if (rep.wanted(1) && C % 4 == 0) {
    NormFwdArgs q = p;
    q.x = y.p;
    q.y = nullptr;
    q.f = nullptr;
    auto l = [&] {
      add_vec<<<std::min(resnorm::cuda::ceil_div(static_cast<long long>(n / 4), 256), 16 * bench::sm_count()), 256>>>(y.p, x.p, f.p, n / 4);
      launch_norm_fwd<kLayerNorm, false>(q, 0);
    };
    rep.result(1, "add kernel, then LayerNorm kernel", check(l), tol, l, bytes);
  }
  if (rep.wanted(2)) {
    auto l = [&] { norm_fwd_any<kLayerNorm, true><<<resnorm::cuda::ceil_div(N, 8), 256>>>(p); };
    rep.result(2, "fused, warp per row, scalar (production any-C)", check(l), tol, l, bytes);
  }
  if (rep.wanted(3)) {
    auto l = [&] { launch_norm_fwd<kLayerNorm, true>(p, 0); };
    rep.result(3, "fused, warp per row, float4 registers (production)", check(l), tol, l, bytes);
  }
  if (rep.wanted(4) && C % 4 == 0 && C <= 1024) {
    auto l = [&] {
      const int g = resnorm::cuda::ceil_div(N, 8);
      switch ((C + 127) / 128) {
        case 1: res_ln_v4<1><<<g, 256>>>(p); break;
        case 2: res_ln_v4<2><<<g, 256>>>(p); break;
        case 3: res_ln_v4<3><<<g, 256>>>(p); break;
        case 4: res_ln_v4<4><<<g, 256>>>(p); break;
        case 5: res_ln_v4<5><<<g, 256>>>(p); break;
        case 6: res_ln_v4<6><<<g, 256>>>(p); break;
        case 7: res_ln_v4<7><<<g, 256>>>(p); break;
        default: res_ln_v4<8><<<g, 256>>>(p); break;
      }
    };
    rep.result(4, "v3 + streaming cache hints", check(l), tol, l, bytes);
  }
  return rep.exit_code();
}
