// LayerNorm backward, kernel versions side by side (default 65536 x 768 fp32), each checked against
// the CPU reference (dx, dw, db) and then timed. GB/s counts 3 tensors, dy and x read and dx written
// (3 N C floats), as the issue's PyTorch figure does; v5 also reads dx (it adds into it, as training does).
//   v1 one thread per row, dw/db by global atomicAdd (non-deterministic)
//   v2 one warp per row, dw/db by shared-memory atomics then global atomics (non-deterministic)
//   v3 one warp per block, column accumulators in shared memory, fixed-order partials (production any-C)
//   v4 one warp per row, float4 registers, per-block partials + column reduction, dx written
//   v5 v4 with dx accumulated (dx +=): the production kernel as the model calls it
#include "bench_common.cuh"
#include "norm_kernels.cuh"

using namespace resnorm::cuda;

namespace {

void cpu_backward(std::vector<float>& dx, std::vector<float>& dw, std::vector<float>& db, const std::vector<float>& dy,
                  const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& mean,
                  const std::vector<float>& rstd, int N, int C) {
  std::vector<double> dwd(C, 0.0), dbd(C, 0.0);
  for (int i = 0; i < N; ++i) {
    const size_t o = static_cast<size_t>(i) * C;
    double s1 = 0, s2 = 0;
    for (int c = 0; c < C; ++c) {
      const double xh = (x[o + c] - mean[i]) * rstd[i], dxh = static_cast<double>(dy[o + c]) * w[c];
      s1 += dxh;
      s2 += dxh * xh;
      dwd[c] += dy[o + c] * xh;
      dbd[c] += dy[o + c];
    }
    s1 /= C;
    s2 /= C;
    for (int c = 0; c < C; ++c) {
      const double xh = (x[o + c] - mean[i]) * rstd[i], dxh = static_cast<double>(dy[o + c]) * w[c];
      dx[o + c] = static_cast<float>(rstd[i] * (dxh - s1 - xh * s2));
    }
  }
  for (int c = 0; c < C; ++c) {
    dw[c] = static_cast<float>(dwd[c]);
    db[c] = static_cast<float>(dbd[c]);
  }
}

__global__ void ln_bwd_v1(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w,
                          const float* mean, const float* rstd, int N, int C) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= N) return;
  const size_t o = static_cast<size_t>(row) * C;
  const float m = mean[row], r = rstd[row];
  float s1 = 0.0f, s2 = 0.0f;
  for (int c = 0; c < C; ++c) {
    const float xh = (x[o + c] - m) * r, dxh = dy[o + c] * w[c];
    s1 += dxh;
    s2 += dxh * xh;
    atomicAdd(dw + c, dy[o + c] * xh);
    atomicAdd(db + c, dy[o + c]);
  }
  s1 /= C;
  s2 /= C;
  for (int c = 0; c < C; ++c) {
    const float xh = (x[o + c] - m) * r;
    dx[o + c] = r * (dy[o + c] * w[c] - s1 - xh * s2);
  }
}

__global__ void __launch_bounds__(256) ln_bwd_v2(float* dx, float* dw, float* db, const float* dy, const float* x,
                                                 const float* w, const float* mean, const float* rstd, int N, int C) {
  extern __shared__ float sh[];  // [2C]
  for (int i = threadIdx.x; i < 2 * C; i += blockDim.x) sh[i] = 0.0f;
  __syncthreads();
  const int warps = blockDim.x / kWarp, lane = threadIdx.x % kWarp;
  for (int row = blockIdx.x * warps + threadIdx.x / kWarp; row < N; row += gridDim.x * warps) {
    const size_t o = static_cast<size_t>(row) * C;
    const float m = mean[row], r = rstd[row];
    float s1 = 0.0f, s2 = 0.0f;
    for (int c = lane; c < C; c += kWarp) {
      const float xh = (x[o + c] - m) * r, dxh = dy[o + c] * w[c];
      s1 += dxh;
      s2 += dxh * xh;
    }
    s1 = warp_sum(s1) / C;
    s2 = warp_sum(s2) / C;
    for (int c = lane; c < C; c += kWarp) {
      const float g = dy[o + c], xh = (x[o + c] - m) * r;
      atomicAdd(sh + c, g * xh);
      atomicAdd(sh + C + c, g);
      dx[o + c] = r * (g * w[c] - s1 - xh * s2);
    }
  }
  __syncthreads();
  for (int i = threadIdx.x; i < C; i += blockDim.x) {
    atomicAdd(dw + i, sh[i]);
    atomicAdd(db + i, sh[C + i]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args a = bench::parse(argc, argv);
  const int N = a.N, C = a.C;
  const size_t n = static_cast<size_t>(N) * C;
  std::vector<float> hdy(n), hx(n), hw(C), hmean(N), hrstd(N), rdx(n), rdw(C), rdb(C);
  bench::fill(hdy, 11, -1.0f, 1.0f);
  bench::fill(hx, 12, -2.0f, 3.0f);
  bench::fill(hw, 13, 0.5f, 1.5f);
  for (int i = 0; i < N; ++i) {  // the forward's saved statistics
    double m = 0, v = 0;
    for (int c = 0; c < C; ++c) m += hx[static_cast<size_t>(i) * C + c];
    m /= C;
    for (int c = 0; c < C; ++c) v += (hx[static_cast<size_t>(i) * C + c] - m) * (hx[static_cast<size_t>(i) * C + c] - m);
    hmean[i] = static_cast<float>(m);
    hrstd[i] = static_cast<float>(1.0 / std::sqrt(v / C + 1e-5));
  }
  cpu_backward(rdx, rdw, rdb, hdy, hx, hw, hmean, hrstd, N, C);
  float dwmax = 0, dbmax = 0;
  for (int c = 0; c < C; ++c) dwmax = std::max(dwmax, std::fabs(rdw[c])), dbmax = std::max(dbmax, std::fabs(rdb[c]));

  bench::DevBuf dy(hdy), x(hx), w(hw), mean(hmean), rstd(hrstd), dx(n), dw(C), db(C);
  const int sms = bench::sm_count();
  bench::DevBuf partial(norm_bwd_partial_floats(N, C, sms));
  NormBwdArgs p;
  p.dx = dx.p;
  p.dw = dw.p;
  p.db = db.p;
  p.dnorm = dy.p;
  p.in = x.p;
  p.w = w.p;
  p.mean = mean.p;
  p.rstd = rstd.p;
  p.N = N;
  p.C = C;
  p.partial = partial.p;
  p.partial_floats = partial.n;
  p.sms = sms;
  const double bytes = 3.0 * n * sizeof(float);
  const double tol = 2e-4;
  bench::Reporter rep(a, "layernorm_backward", "dy, x read + dx written", n * sizeof(float));

  auto check = [&](const std::function<void()>& launch) {
    dx.zero();
    dw.zero();
    db.zero();
    launch();
    BENCH_CHECK(cudaDeviceSynchronize());
    return std::max({bench::max_err(dx.down(), rdx), bench::max_err(dw.down(), rdw, dwmax),
                     bench::max_err(db.down(), rdb, dbmax)});
  };
  if (rep.wanted(1)) {
    auto l = [&] { ln_bwd_v1<<<resnorm::cuda::ceil_div(N, 128), 128>>>(dx.p, dw.p, db.p, dy.p, x.p, w.p, mean.p, rstd.p, N, C); };
    rep.result(1, "thread per row, global atomics", check(l), tol, l, bytes);
  }
  if (rep.wanted(2)) {
    auto l = [&] {
      ln_bwd_v2<<<std::min(resnorm::cuda::ceil_div(N, 8), 2 * sms), 256, 2 * C * sizeof(float)>>>(dx.p, dw.p, db.p, dy.p, x.p, w.p,
                                                                                        mean.p, rstd.p, N, C);
    };
    rep.result(2, "warp per row, shared + global atomics", check(l), tol, l, bytes);
  }
  if (rep.wanted(3)) {
    auto l = [&] {
      const int G = std::max(1, std::min(N, 8 * sms));
      norm_bwd_any<kLayerNorm, false, false><<<G, kWarp, (2 * C + 1) * sizeof(float)>>>(p);
      norm_bwd_reduce<<<resnorm::cuda::ceil_div(2 * C + 1, 256), 256>>>(p.dw, p.db, nullptr, p.partial, G, C);
    };
    rep.result(3, "warp per block, shared columns, partials (any C)", check(l), tol, l, bytes);
  }
  if (rep.wanted(4)) {
    auto l = [&] { launch_norm_bwd<kLayerNorm, false, false>(p, 0); };
    rep.result(4, "warp per row, float4 registers, partials", check(l), tol, l, bytes);
  }
  if (rep.wanted(5)) {
    auto l = [&] { launch_norm_bwd<kLayerNorm, false, true>(p, 0); };
    rep.result(5, "v4 adding into dx (production, 4 tensors moved)", check(l), tol, l, bytes);
  }
  return rep.exit_code();
}
