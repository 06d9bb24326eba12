// DeviceOps: the backend op set (model_ops.h) on a CUDA device: device memory, one non-blocking stream,
// cuBLAS / cuBLASLt handles with a fixed workspace, the ops' scratch, and CUDA graphs: a step's op
// sequence runs eagerly once (cuBLASLt picks its algorithms, attention builds its pointer tables),
// is captured the second time and replayed from then on, which removes the per-kernel launch cost
// that dominates small models ("CUDA Graphs", CUDA C++ Programming Guide). Also the device query,
// the memory check and the trainer factory of cuda_backend.h.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cuda_backend.h"
#include "cuda_ops.h"
#include "data.h"
#include "error.h"
#include "model.h"

namespace resnorm {

namespace {

constexpr size_t kWorkspaceBytes = 32u << 20;  // cuBLAS's recommended workspace on Hopper

struct Graph {
  int calls = 0;
  bool failed = false;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
};

// Chunks of the reductions: the parameter slices and, for the activation RMS, each block's output.
size_t chunks_for(const ModelPlan& plan, int rows) {
  size_t chunks = plan.num_params / kChunkElems + plan.slices.size() + 1;
  if (plan.cfg.kind == ModelKind::Cnn) {
    for (const CnnBlock& k : plan.cnn)
      chunks += static_cast<size_t>(rows) * k.hout * k.hout * k.cout / kChunkElems + 1;
  } else {
    chunks += static_cast<size_t>(plan.cfg.depth) * (static_cast<size_t>(rows) * plan.cfg.width / kChunkElems + 1);
  }
  return chunks;
}

bool env_off(const char* name) {
  const char* v = std::getenv(name);
  return v && (std::string(v) == "0" || std::string(v) == "off");
}

class DeviceOps final : public ModelOps {
 public:
  explicit DeviceOps(const CudaOptions& o) : opts_(o) {
    RESNORM_CUDA_CHECK(cudaSetDevice(o.device));
    cudaDeviceProp prop{};
    RESNORM_CUDA_CHECK(cudaGetDeviceProperties(&prop, o.device));
    RESNORM_CUDA_CHECK(cudaStreamCreateWithFlags(&ctx_.stream, cudaStreamNonBlocking));
    RESNORM_CUDA_CHECK(cublasCreate(&ctx_.blas));
    RESNORM_CUDA_CHECK(cublasSetStream(ctx_.blas, ctx_.stream));
    RESNORM_CUDA_CHECK(cublasLtCreate(&ctx_.lt));
    ctx_.workspace = alloc(kWorkspaceBytes);
    ctx_.workspace_bytes = kWorkspaceBytes;
    RESNORM_CUDA_CHECK(cublasSetWorkspace(ctx_.blas, ctx_.workspace, ctx_.workspace_bytes));
    ctx_.sms = prop.multiProcessorCount;
    ctx_.tf32 = o.tf32;
    ctx_.lt_bias = o.lt_bias && !env_off("RESNORM_CUDA_LT");
    graphs_on_ = o.graphs && !env_off("RESNORM_CUDA_GRAPHS");
    ctx_.caches = cuda::create_caches();
  }

  ~DeviceOps() override {
    if (ctx_.stream) cudaStreamSynchronize(ctx_.stream);  // nothing of ours may still be running
    forget_graphs();
    cuda::destroy_caches(ctx_.caches);
    for (void* p : std::vector<void*>(live_.begin(), live_.end())) release(p);
    if (ctx_.lt) cublasLtDestroy(ctx_.lt);
    if (ctx_.blas) cublasDestroy(ctx_.blas);
    if (ctx_.stream) cudaStreamDestroy(ctx_.stream);
  }

  const char* name() const override { return "cuda"; }
  size_t allocated() const { return allocated_; }
  size_t peak() const { return peak_; }

  void* alloc(size_t bytes) override {
    void* p = nullptr;
    const size_t n = std::max<size_t>(bytes, 256);
    const cudaError_t e = cudaMalloc(&p, n);
    if (e != cudaSuccess) {
      cudaGetLastError();
      throw Error("cuda: out of device memory allocating " + std::to_string(n >> 20) + " MiB (" +
                  std::to_string(allocated_ >> 20) + " MiB in use)");
    }
    sizes_[p] = n;
    live_.insert(p);
    allocated_ += n;
    peak_ = std::max(peak_, allocated_);
    return p;
  }
  void release(void* p) override {
    if (!p || !live_.count(p)) return;
    cudaFree(p);
    allocated_ -= sizes_[p];
    sizes_.erase(p);
    live_.erase(p);
  }
  void upload(void* dst, const void* src, size_t bytes) override {
    if (bytes) RESNORM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx_.stream));
  }
  void download(void* dst, const void* src, size_t bytes) override {
    if (bytes) RESNORM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx_.stream));
    RESNORM_CUDA_CHECK(cudaStreamSynchronize(ctx_.stream));
  }
  void zero(void* p, size_t bytes) override {
    if (bytes) RESNORM_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, ctx_.stream));
  }
  void sync() override { RESNORM_CUDA_CHECK(cudaStreamSynchronize(ctx_.stream)); }

  void reserve(const ModelPlan& plan, int rows) override {
    ModelConfig cfg = plan.cfg;
    const size_t chunks = chunks_for(plan, rows);
    int norm_rows = rows;
    if (cfg.kind == ModelKind::Cnn) {  // norms run over every position, with up to 4 * width channels
      norm_rows = rows * cfg.image * cfg.image;
      cfg.width *= 4;
    }
    const size_t need = cuda::scratch_floats_needed(cfg, norm_rows, plan.vocab, ctx_.sms, chunks);
    if (plan.scratch > ctx_.conv_scratch_floats && cfg.kind == ModelKind::Cnn) {
      forget_graphs();
      release(ctx_.conv_scratch);
      ctx_.conv_scratch = static_cast<float*>(alloc(sizeof(float) * plan.scratch));
      ctx_.conv_scratch_floats = plan.scratch;
    }
    if (need > ctx_.scratch_floats) {
      forget_graphs();  // recorded graphs point at the old scratch
      release(ctx_.scratch);
      ctx_.scratch = static_cast<float*>(alloc(sizeof(float) * need));
      ctx_.scratch_floats = need;
    }
    if (static_cast<size_t>(rows) > ctx_.ones_len) {
      forget_graphs();
      release(const_cast<float*>(ctx_.ones));
      auto* ones = static_cast<float*>(alloc(sizeof(float) * rows));
      const std::vector<float> host(static_cast<size_t>(rows), 1.0f);
      RESNORM_CUDA_CHECK(cudaMemcpyAsync(ones, host.data(), sizeof(float) * host.size(), cudaMemcpyHostToDevice, ctx_.stream));
      RESNORM_CUDA_CHECK(cudaStreamSynchronize(ctx_.stream));
      ctx_.ones = ones;
      ctx_.ones_len = static_cast<size_t>(rows);
    }
  }

  void run(const std::string& key, const std::function<void()>& body) override {
    Graph& g = graphs_[key];
    if (!graphs_on_ || g.failed || g.calls++ == 0) {  // the first run is eager: it prepares every cache
      body();
      return;
    }
    if (!g.exec) {
      RESNORM_CUDA_CHECK(cudaStreamBeginCapture(ctx_.stream, cudaStreamCaptureModeThreadLocal));
      ctx_.capturing = true;
      std::string why;
      try {
        body();
      } catch (const std::exception& e) {
        why = e.what();
      }
      ctx_.capturing = false;
      cudaGraph_t graph = nullptr;
      const cudaError_t end = cudaStreamEndCapture(ctx_.stream, &graph);
      if (why.empty() && end != cudaSuccess) why = cudaGetErrorString(end);
      if (why.empty() && cudaGraphInstantiate(&g.exec, graph, 0) != cudaSuccess) why = "cudaGraphInstantiate failed";
      if (!why.empty()) {
        cudaGetLastError();  // clear the capture's error state
        if (graph) cudaGraphDestroy(graph);
        g.exec = nullptr;
        g.failed = true;
        std::fprintf(stderr, "resnorm: CUDA graph capture of \"%s\" failed (%s); running it without a graph\n",
                     key.c_str(), why.c_str());
        body();
        return;
      }
      g.graph = graph;
    }
    RESNORM_CUDA_CHECK(cudaGraphLaunch(g.exec, ctx_.stream));
  }

  void forget_graphs() override {
    for (auto& kv : graphs_) {
      if (kv.second.exec) cudaGraphExecDestroy(kv.second.exec);
      if (kv.second.graph) cudaGraphDestroy(kv.second.graph);
    }
    graphs_.clear();
  }

  // ---- ops: the launchers of cuda_ops.h
  void linear_forward(float* out, const float* in, const float* w, const float* b, int N, int IC, int OC) override {
    cuda::linear_forward(out, in, w, b, N, IC, OC, ctx_);
  }
  void linear_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w, int N,
                       int IC, int OC) override {
    cuda::linear_backward(din, dw, db, dout, in, w, N, IC, OC, ctx_);
  }
  void embedding_forward(float* out, const int* tokens, const float* wte, const float* wpe, int B, int T,
                         int C) override {
    cuda::embedding_forward(out, tokens, wte, wpe, B, T, C, ctx_);
  }
  void embedding_backward(float* dwte, float* dwpe, const float* dout, const int* tokens, const int* bucket_rows,
                          const int* bucket_start, int B, int T, int C, int V) override {
    cuda::embedding_backward(dwte, dwpe, dout, tokens, bucket_rows, bucket_start, B, T, C, V, ctx_);
  }
  void norm_forward(NormKind k, float* out, float* mean, float* rstd, const float* in, const float* w, const float* b,
                    int N, int C, float eps) override {
    if (k == NormKind::LayerNorm)
      cuda::layernorm_forward(out, mean, rstd, in, w, b, N, C, eps, ctx_);
    else
      cuda::rmsnorm_forward(out, rstd, in, w, N, C, eps, ctx_);
  }
  void norm_backward(NormKind k, float* din, float* dw, float* db, const float* dout, const float* in, const float* w,
                     const float* mean, const float* rstd, int N, int C) override {
    if (k == NormKind::LayerNorm)
      cuda::layernorm_backward(din, dw, db, dout, in, w, mean, rstd, N, C, ctx_);
    else
      cuda::rmsnorm_backward(din, dw, dout, in, w, rstd, N, C, ctx_);
  }
  void activation_forward(float* out, const float* in, size_t n, Activation act) override {
    cuda::activation_forward(out, in, n, act, ctx_);
  }
  void activation_backward(float* din, const float* dout, const float* in, size_t n, Activation act) override {
    cuda::activation_backward(din, dout, in, n, act, ctx_);
  }
  void attention_forward(float* out, float* att, const float* qkv, int B, int T, int C, int H) override {
    cuda::attention_forward(out, att, qkv, B, T, C, H, ctx_);
  }
  void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* att, int B, int T, int C,
                          int H) override {
    cuda::attention_backward(dqkv, dout, qkv, att, B, T, C, H, ctx_);
  }
  void cross_entropy_forward(float* probs, float* losses, const float* logits, const int* targets, int N,
                             int V) override {
    cuda::cross_entropy_forward(probs, losses, logits, targets, N, V, ctx_);
  }
  void cross_entropy_backward(float* dlogits, const float* probs, const int* targets, int N, int V) override {
    cuda::cross_entropy_backward(dlogits, probs, targets, N, V, ctx_);
  }
  void residual_forward(float* out, const float* x, const float* f, size_t n, Residual kind, float a,
                        const float* a_ptr) override {
    cuda::residual_forward(out, x, f, n, kind, a, a_ptr, ctx_);
  }
  void residual_backward(float* dx, float* df, float* da, const float* dout, const float* f, size_t n, Residual kind,
                         float a, const float* a_ptr) override {
    cuda::residual_backward(dx, df, da, dout, f, n, kind, a, a_ptr, ctx_);
  }
  void residual_norm_forward(NormKind k, float* y, float* out, float* mean, float* rstd, const float* x, const float* f,
                             const float* w, const float* b, int N, int C, float eps, Residual kind, float a,
                             const float* a_ptr) override {
    cuda::residual_norm_forward(k, y, out, mean, rstd, x, f, w, b, N, C, eps, kind, a, a_ptr, ctx_);
  }
  void residual_norm_backward(NormKind k, float* dx, float* df, float* da, float* dw, float* db, const float* dres,
                              const float* dnorm, const float* in, const float* w, const float* mean, const float* rstd,
                              const float* f, int N, int C, Residual kind, float a, const float* a_ptr) override {
    cuda::residual_norm_backward(k, dx, df, da, dw, db, dres, dnorm, in, w, mean, rstd, f, N, C, kind, a, a_ptr, ctx_);
  }
  void batchnorm_forward(float* out, float* mean, float* rstd, float* running, const float* in, const float* w,
                         const float* b, int N, int C, float eps, bool train) override {
    cuda::batchnorm_forward(out, mean, rstd, running, in, w, b, N, C, eps, kBatchNormMomentum, train, ctx_);
  }
  void batchnorm_backward(float* din, float* dw, float* db, const float* dout, const float* in, const float* w,
                          const float* mean, const float* rstd, int N, int C) override {
    cuda::batchnorm_backward(din, dw, db, dout, in, w, mean, rstd, N, C, ctx_);
  }
  void conv2d_forward(float* out, const float* in, const float* w, int B, int H, int IC, int OC, int K, int S,
                      int P) override {
    cuda::conv2d_forward(out, in, w, B, H, IC, OC, K, S, P, ctx_);
  }
  void conv2d_backward(float* din, float* dw, const float* dout, const float* in, const float* w, int B, int H, int IC,
                       int OC, int K, int S, int P) override {
    cuda::conv2d_backward(din, dw, dout, in, w, B, H, IC, OC, K, S, P, ctx_);
  }
  void global_avgpool_forward(float* out, const float* in, int B, int HW, int C) override {
    cuda::global_avgpool_forward(out, in, B, HW, C, ctx_);
  }
  void global_avgpool_backward(float* din, const float* dout, int B, int HW, int C) override {
    cuda::global_avgpool_backward(din, dout, B, HW, C, ctx_);
  }
  void restore_unless_ok(float* bufs, const float* saved, size_t n, const StepScalars* s) override {
    cuda::restore_unless_ok(bufs, saved, n, s, ctx_);
  }
  void copy(void* dst, const void* src, size_t bytes) override {
    if (bytes) RESNORM_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx_.stream));
  }
  void mean_loss(double* out, const float* losses, int N) override { cuda::mean_loss(out, losses, N, ctx_); }
  void sumsq(double* out, const float* base, const ChunkTable& t) override { cuda::sumsq(out, base, t, ctx_); }
  void attention_entropy(float* out, const float* att, int B, int T, int H) override {
    cuda::attention_entropy(out, att, B, T, H, ctx_);
  }
  void step_scalars(StepScalars* s, const double* slice_sq, int nslices, OptimHyper h) override {
    cuda::step_scalars(s, slice_sq, nslices, h, ctx_);
  }
  void optimizer_update(float* params, float* m, float* v, const float* grads, double* d2, double* w2,
                        const ChunkTable& t, const StepScalars* s, OptimHyper h) override {
    cuda::optimizer_update(params, m, v, grads, d2, w2, t, s, h, ctx_);
  }

 private:
  CudaOptions opts_;
  cuda::Ctx ctx_;
  bool graphs_on_ = true;
  std::map<std::string, Graph> graphs_;
  std::set<void*> live_;
  std::map<void*, size_t> sizes_;
  size_t allocated_ = 0, peak_ = 0;
};

}  // namespace

CudaDeviceInfo cuda_device_info(int device) {
  CudaDeviceInfo d;
  const cudaError_t e = cudaGetDeviceCount(&d.count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    d.count = 0;
    d.error = cudaGetErrorString(e);
    return d;
  }
  if (d.count == 0) {
    d.error = "no CUDA device";
    return d;
  }
  if (device < 0 || device >= d.count) {
    d.error = "device " + std::to_string(device) + " does not exist (" + std::to_string(d.count) + " visible)";
    return d;
  }
  cudaDeviceProp prop{};
  if (cudaSetDevice(device) != cudaSuccess || cudaGetDeviceProperties(&prop, device) != cudaSuccess ||
      cudaMemGetInfo(&d.free_bytes, &d.total_bytes) != cudaSuccess) {
    d.error = cudaGetErrorString(cudaGetLastError());
    return d;
  }
  d.name = prop.name;
  d.sms = prop.multiProcessorCount;
  d.cc_major = prop.major;
  d.cc_minor = prop.minor;
  return d;
}

int backend_vocab(const Config& cfg, const std::string& text, const std::string& vocab) {
  if (cfg.is_cnn()) return kDigitClasses;
  if (!cfg.is_gpt()) return 2;
  // Code points, as CharData counts them (its errors, e.g. invalid UTF-8, come from the host Trainer).
  const std::string v = vocab.empty() ? text_vocab(text) : vocab;
  return std::max(static_cast<int>(utf8_decode(v, "vocabulary").size()), 2);
}

size_t cuda_bytes_needed(const Config& cfg, int vocab, int sms) {
  const int rows = training_rows(cfg);
  const ModelPlan plan = make_plan(cfg.model, vocab, rows);  // offsets only: allocates nothing big
  const size_t np = plan.num_params;
  const size_t chunks = chunks_for(plan, rows);
  ModelConfig nc = cfg.model;
  int norm_rows = rows;
  if (cfg.is_cnn()) norm_rows = rows * nc.image * nc.image, nc.width *= 4;
  size_t bytes = PlanExecutor::bytes_for(plan);
  bytes += sizeof(float) * 2 * np;                                                  // AdamW moments
  bytes += sizeof(float) * cuda::scratch_floats_needed(nc, norm_rows, vocab, std::max(sms, 1), chunks);
  if (cfg.is_cnn()) bytes += sizeof(float) * plan.scratch;                          // im2col columns
  bytes += kWorkspaceBytes + sizeof(float) * static_cast<size_t>(rows);             // cuBLAS workspace, ones
  bytes += sizeof(ChunkInfo) * chunks + (4u << 20);                                 // tables, statistics, pointers
  return bytes;
}

void check_fits_device(const Config& cfg, int vocab, const CudaDeviceInfo& dev) {
  const double exact = static_cast<double>(cuda_bytes_needed(cfg, vocab, dev.sms));
  const double need = std::max(exact, estimate_bytes(cfg, vocab));
  const double margin = 256.0 * (1 << 20);  // cuBLAS handles, graphs, the allocator's rounding
  if (need + margin <= static_cast<double>(dev.free_bytes)) return;
  auto mib = [](double b) { return std::to_string(static_cast<long long>(b / (1 << 20))); };
  throw Error("cuda: this config needs about " + mib(need) +
              " MiB of GPU memory (parameters, gradients, AdamW moments, activations and their gradients at "
              "optim.batch = " + std::to_string(cfg.optim.batch) +
              (cfg.is_gpt() ? ", model.context = " + std::to_string(cfg.model.context) : std::string()) + "), but " +
              dev.name + " has " + mib(static_cast<double>(dev.free_bytes)) + " MiB free of " +
              mib(static_cast<double>(dev.total_bytes)) +
              " MiB: reduce model.depth, model.width, model.context or optim.batch (nothing was allocated)");
}

std::unique_ptr<ModelOps> make_device_ops(const CudaOptions& opts) { return std::make_unique<DeviceOps>(opts); }

std::unique_ptr<BackendTrainer> make_cuda_trainer(const Config& cfg, const std::string& text, const std::string& vocab,
                                                  const CudaOptions& opts) {
  const CudaDeviceInfo dev = cuda_device_info(opts.device);
  if (!dev.present()) throw Error("cuda: no usable CUDA device (" + dev.error + ")");
  check_fits_device(cfg, backend_vocab(cfg, text, vocab), dev);
  return std::make_unique<BackendTrainer>(make_device_ops(opts), cfg, text, vocab);
}

size_t device_bytes_allocated(const ModelOps& ops) {
  const auto* d = dynamic_cast<const DeviceOps*>(&ops);
  return d ? d->allocated() : 0;
}
size_t device_bytes_peak(const ModelOps& ops) {
  const auto* d = dynamic_cast<const DeviceOps*>(&ops);
  return d ? d->peak() : 0;
}

}  // namespace resnorm
