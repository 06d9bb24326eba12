// The core's thread pool: parked std::threads woken per op by a generation counter (workers
// numbered past the current size stay parked). They sleep on a condition variable between ops:
// spinning on the counter for 100 us first was measured (gpt-tiny, 2 threads, 2-core EPYC) at ~5%
// faster natively on an idle machine, but 1.1-2x slower than no spin while another process used a
// core (a spinning thread holds the core the preempted one needs), and ~10% slower in Chromium even
// idle (2 threads / 1: 0.68-0.70 against 0.63), so it was left out. Chunks are
// handed out through one atomic counter, so which thread runs a chunk varies but what a chunk
// computes does not (see parallel.h for the rule that keeps results independent of the count).
#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aligned.h"
#include "error.h"

namespace resnorm {

namespace {
void check_range(int n) {
  if (n < 1 || n > kMaxThreads)
    throw Error("threads: " + std::to_string(n) + " is out of range (1.." + std::to_string(kMaxThreads) + ")");
}
}  // namespace

#ifdef RESNORM_SINGLE_THREAD
void set_threads(int n) {
  check_range(n);
  if (n != 1)
    throw Error("threads: " + std::to_string(n) + " threads need the pthreads build of the engine (resnorm-mt, " +
                "on a cross-origin isolated page); this is the single-thread build");
}
void parallel_for_raw(int chunks, ChunkFn fn, const void* ctx) {
  for (int c = 0; c < chunks; ++c) fn(ctx, c, 0);
}
#else
namespace {

// Set while a thread runs a chunk (a nested parallel_for then runs inline).
thread_local bool t_inside_chunk = false;

class Pool {
 public:
  ~Pool() { stop_workers(); }

  void set_size(int n) {
    check_range(n);
    std::lock_guard<std::mutex> run(run_mutex_);
    size_ = n;  // workers beyond n - 1 stay parked, so switching counts (resnorm bench) costs nothing
  }
  int size() const { return size_; }

  void run(int chunks, ChunkFn fn, const void* ctx) {
    if (chunks <= 0) return;
    if (size_ == 1 || chunks == 1 || t_inside_chunk) {
      for (int c = 0; c < chunks; ++c) fn(ctx, c, 0);
      return;
    }
    std::lock_guard<std::mutex> run(run_mutex_);  // one op at a time per process
    start_workers();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = fn;
      ctx_ = ctx;
      chunks_ = chunks;
      next_.store(0, std::memory_order_relaxed);
      active_ = size_ - 1;
      busy_ = active_;
      ++generation_;
    }
    wake_.notify_all();
    work(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busy_ == 0; });
    fn_ = nullptr;
  }

 private:
  // Chunks are op code, which never throws (the wasm build compiles the ops without exceptions).
  void work(int worker) {
    t_inside_chunk = true;
    for (int c; (c = next_.fetch_add(1, std::memory_order_relaxed)) < chunks_;) fn_(ctx_, c, worker);
    t_inside_chunk = false;
  }

  void worker_loop(int worker) {
    unsigned long seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (worker > active_) continue;  // parked: not part of this pool size
      }
      work(worker);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_ == 0) done_.notify_one();
    }
  }

  void start_workers() {
    for (int w = static_cast<int>(workers_.size()) + 1; w < size_; ++w) workers_.emplace_back([this, w] { worker_loop(w); });
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::mutex run_mutex_, mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  int size_ = 1;
  bool stop_ = false;
  unsigned long generation_ = 0;
  ChunkFn fn_ = nullptr;
  const void* ctx_ = nullptr;
  int chunks_ = 0, active_ = 0;
  std::atomic<int> next_{0};
  int busy_ = 0;
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

void set_threads(int n) { pool().set_size(n); }
int threads() { return pool().size(); }

void parallel_for_raw(int chunks, ChunkFn fn, const void* ctx) { pool().run(chunks, fn, ctx); }

#endif  // RESNORM_SINGLE_THREAD

float* worker_scratch(int worker, size_t floats) {
  static FloatBuffer buffers[kMaxThreads];  // one per worker: no two threads touch the same one
  FloatBuffer& b = buffers[worker];
  if (b.size() < floats) b.resize(floats);
  return b.data();
}

int row_chunk(int rows, double cost_per_row, int threads) {
  // Split only work worth a wake-up (kMinChunkCost a chunk), into kChunksPerThread chunks per
  // thread (each chunk of a GEMM packs the shared operand again, so fewer chunks is less work; two a
  // thread still balance a thread that starts late), each a multiple of 16 rows and at least 32 (so
  // Eigen never switches a chunk to its small-matrix or matrix-vector path). The count may follow
  // the thread count: any such boundary gives the bits of the whole (linear.cpp says why; [threads]).
  constexpr int kAlign = 16, kMinRows = 32, kChunksPerThread = 2;
  const int chunks = std::max(1, threads) * kChunksPerThread;
  if (threads <= 1 || rows < 2 * kMinRows || cost_per_row * rows < 2 * kMinChunkCost) return rows;
  int per = (rows + chunks - 1) / chunks;
  per = std::max(per, static_cast<int>(kMinChunkCost / std::max(cost_per_row, 1.0)));
  per = std::max(kMinRows, (per + kAlign - 1) / kAlign * kAlign);
  return per >= rows ? rows : per;
}

}  // namespace resnorm
