// A small thread pool for the core's ops (issue 13): GEMMs and per-row ops split along independent
// rows, never along a reduction, so results do not depend on the thread count, bit for bit.
//
// The rule that makes this hold: an op cuts its work into chunks whose boundaries fall where the
// whole computation treats every element the same way (GEMM rows at multiples of 16, at least 32 a
// chunk; elementwise pieces at 64-byte-aligned multiples of 256 floats; whole tensors, rows or heads),
// each chunk computes exactly the sums the whole computes, and the pool only decides which thread runs
// which chunk. How many chunks follows threads() (two a thread: fewer chunks pack the shared GEMM
// operand fewer times), where they may fall does not. With threads() == 1 every op runs its original,
// unchunked code, so one thread gives what the core gave before the pool existed. Reductions (norms,
// bias gradients, sums over a batch) run whole inside one chunk and are combined in a fixed order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace resnorm {

// Threads one process may use: the playground sizes the pool from navigator.hardwareConcurrency and
// caps it here (more threads than this buys little at the core's matrix sizes; see README, Speed).
constexpr int kMaxThreads = 8;

// The single-thread WebAssembly build (no -pthread) has no pool at all: threads() is the constant 1, so
// every chunked branch compiles away and the engine keeps its size (scripts/build-wasm.sh's budget).
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define RESNORM_SINGLE_THREAD 1
#endif

// Sets the pool size (1..kMaxThreads; throws Error naming the value otherwise). Workers start lazily
// at the first parallel_for that needs them and stay parked between ops.
void set_threads(int n);
#ifdef RESNORM_SINGLE_THREAD
inline int threads() { return 1; }
#else
int threads();
#endif

// Runs fn(chunk, worker) once for every chunk in [0, chunks); worker is in [0, threads()) and no two
// chunks run at once on the same worker (per-worker scratch may be indexed by it). The caller's
// thread is worker 0 and takes part. Returns when every chunk has run. A call from inside a chunk
// (nesting) runs its chunks inline on that worker.
// (A function pointer and a context, not std::function: no type-erasure code per op in the wasm engine.)
using ChunkFn = void (*)(const void* ctx, int chunk, int worker);
void parallel_for_raw(int chunks, ChunkFn fn, const void* ctx);
template <class Fn>
void parallel_for(int chunks, const Fn& fn) {
  parallel_for_raw(chunks, [](const void* ctx, int c, int w) { (*static_cast<const Fn*>(ctx))(c, w); }, &fn);
}

// Scratch of at least `floats` floats, 64-byte aligned, owned by pool worker `worker` (1..kMaxThreads-1)
// for use inside its chunks: allocated at the first call that needs it and reused after (outside any
// model's memory estimate; attention's backward takes T*T floats, 16 KiB at T = 64). Ops never allocate
// themselves (the wasm build compiles them without exceptions).
float* worker_scratch(int worker, size_t floats);

// Row chunking for an op over `rows` independent rows of `cost` flops each: the rows per chunk, a
// multiple of 16 (so GEMM column panels and SIMD packets line up with the whole's), or `rows` when
// the work is too small to split. Depends on the shape only.
int row_chunk(int rows, double cost_per_row, int threads);

// Runs body(r0, n) over the row chunks [r0, r0 + n) of `rows` independent rows; with one thread, or
// work too small to split, body(0, rows) runs once on the caller's thread: the unchunked code.
// Chunks hold `per` rows; the last one also takes the remainder (so no chunk is a sliver that Eigen
// would treat as a matrix-vector product).
template <class Body>
void parallel_rows(int rows, double cost_per_row, const Body& body) {
  if (threads() == 1) return body(0, rows);
  const int per = row_chunk(rows, cost_per_row, threads());
  const int chunks = rows / per;
  if (chunks <= 1) return body(0, rows);
  parallel_for(chunks, [&](int c, int) { body(c * per, c == chunks - 1 ? rows - c * per : per); });
}

// Runs task(c) for every c in [0, tasks): on the pool when there is more than one thread and the tasks'
// `total_cost` (multiply-adds or elements, all together) is worth waking it for (at least two chunks'
// worth, as row_chunk decides), else in order on the caller's thread. Each task computes what it would
// alone, so which way they run changes no bits.
// The least work a chunk should hold, against a wake-up of tens of us. Natively 256k multiply-adds
// (~10 us): 64k made mlp-residual-deep's 64 x 64 products split and its step 1.6x slower with 2 threads
// than with 1 (0.98x at 256k). In wasm, where the same arithmetic takes ~2.5x longer, 64k: gpt-tiny's
// step in Chromium with 2 threads / 1 measured 0.58-0.59x at 64k against 0.66x at 256k (its small
// products, bias sums and norms stop splitting). (The playground runs mlps on one thread.)
#ifdef __EMSCRIPTEN__
constexpr double kMinChunkCost = 65536.0;
#else
constexpr double kMinChunkCost = 262144.0;
#endif
template <class Task>
void parallel_tasks(int tasks, double total_cost, const Task& task) {
  if (threads() == 1 || tasks < 2 || total_cost < 2 * kMinChunkCost) {
    for (int c = 0; c < tasks; ++c) task(c);
    return;
  }
  parallel_for(tasks, [&](int c, int) { task(c); });
}

// Runs body(offset, len) over pieces of the element range [0, n) of an elementwise op on the arrays
// `ptrs` (all of length n), or body(0, n) once when that cannot keep the bits: with one thread, short
// arrays, or any array not 64-byte aligned. Eigen peels scalars up to an aligned address and ends
// with a scalar tail, and compilers vectorise plain loops the same way; pieces that start 64-byte
// aligned and hold multiples of 256 floats (the last one runs to n) keep every element on the path
// (packet or scalar) the whole takes, so the bits match the one-thread run.
template <class Body>
void parallel_elementwise(size_t n, std::initializer_list<const void*> ptrs, const Body& body) {
  bool aligned = true;
  for (const void* p : ptrs) aligned = aligned && reinterpret_cast<std::uintptr_t>(p) % 64 == 0;
  if (threads() == 1 || n < 4096 || !aligned) return body(0, n);
  const int rows = static_cast<int>((n + 255) / 256);
  parallel_rows(rows, 256.0 * 16, [&](int r0, int k) {
    const size_t off = static_cast<size_t>(r0) * 256;
    const size_t len = static_cast<size_t>(k) * 256;
    body(off, len < n - off ? len : n - off);
  });
}

}  // namespace resnorm
