// TrainStep: the one train step of every backend (issue 22), over the op set (model_ops.h) and the
// plan executor. The CPU Trainer runs it on CpuOps, BackendTrainer on HostOps or the CUDA DeviceOps:
//
//   forward (loss) -> zero grads -> backward -> squared norms of the gradient per slice, of each
//   block's output, attention entropy per head -> step scalars (global norm, the divergence guard,
//   clipping coefficient, bias corrections) -> AdamW / SGD update with the update's and the weights'
//   squared norms per slice -> BatchNorm's running statistics rolled back when the guard failed
//
// recorded as one sequence (a CUDA graph on the device), then one download of a small statistics
// block from which StepStats is assembled on the host, the same way for every backend. The optimiser's
// state (moments, update count) lives in backend memory here, not in the Trainer.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "model_ops.h"
#include "plan_executor.h"
#include "trainer.h"

namespace resnorm {

// Chunks of the segments (offset, size, flags) of a flat block: what ChunkTable points at.
struct Segment {
  uint64_t offset = 0, size = 0;
  uint32_t flags = 0;
};
void make_chunks(const std::vector<Segment>& segs, std::vector<ChunkInfo>& chunks, std::vector<uint32_t>& seg_first);

class TrainStep {
 public:
  // Allocates the optimiser state, the statistics block and the chunk tables in the ops' memory
  // (zeroed: a fresh optimiser). cfg: the run's config (optim.batch, model.context size the tables).
  TrainStep(ModelOps& ops, PlanExecutor& exec, const Config& cfg);
  ~TrainStep();
  TrainStep(const TrainStep&) = delete;
  TrainStep& operator=(const TrainStep&) = delete;

  // Bytes a TrainStep for this plan and config allocates (estimate_bytes counts them).
  static size_t bytes_for(const ModelPlan& plan, const Config& cfg);
  size_t bytes() const { return bytes_; }

  // One step on the batch the executor holds (set_batch with buckets, before the call): step_index is
  // 0-based (StepStats::step is step_index + 1), lr its learning rate. Returns the statistics (the
  // caller, which times the whole step with its batch, fills in ms).
  StepStats& run(int step_index, double lr);
  const StepStats& last() const { return stats_; }

  // Hyperparameters that may change during a run (not the optimiser's kind: its state is sized for it).
  void set_hyper(const OptimConfig& o);

  // Optimiser state in backend memory: m is AdamW's first moment or SGD's momentum buffer, v AdamW's
  // second moment (null for SGD). With host-memory ops these are host pointers.
  float* moment1() { return m_; }
  float* moment2() { return adamw_ ? v_ : nullptr; }
  int updates();            // updates applied so far
  void set_updates(int t);  // after loading a checkpoint's moments
  void reset();             // moments zero, no updates

 private:
  void record();
  std::string zero_variance_site();

  ModelOps& ops_;
  PlanExecutor& exec_;
  OptimHyper hyper_;
  bool adamw_ = true;
  int batch_ = 0, T_ = 1;  // a training batch: batch_ sequences of T_ positions (T_ = 1 for mlp and cnn)
  size_t bytes_ = 0;
  StepStats stats_;
  std::vector<uint8_t> stats_host_;       // the downloaded statistics block
  std::vector<double> bsq_, bw_, bd_;     // per block: squared norms of gradient, weights, update
  std::vector<double> act_n_;             // per block: floats of its output over a training batch

  // Backend memory: optimiser moments, the per-step scalars and statistics (one block, downloaded
  // once per step), the chunk tables of the reductions.
  float *m_ = nullptr, *v_ = nullptr;
  void* stats_dev_ = nullptr;
  size_t stats_bytes_ = 0;
  StepScalars* scalars_ = nullptr;
  double *slice_sq_ = nullptr, *d2_ = nullptr, *w2_ = nullptr, *act_sq_ = nullptr;
  float* entropy_ = nullptr;
  void* tables_dev_ = nullptr;
  ChunkTable param_table_, act_table_;
};

}  // namespace resnorm
