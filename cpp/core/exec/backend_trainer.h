// BackendTrainer: Trainer's train step (cpp/core/trainer.cpp) on another backend. The data, batches,
// initialisation, config and checkpoints stay with a host Trainer, so both backends train on the same
// batches from the same initial parameters and write the same checkpoint format; the step itself
// (forward, backward, diagnostics, divergence guard, clipping, AdamW/SGD) runs in backend memory and
// ends with one download of a small statistics block.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model_ops.h"
#include "plan_executor.h"
#include "trainer.h"

namespace resnorm {

class BackendTrainer final : public TrainerBase {
 public:
  BackendTrainer(std::unique_ptr<ModelOps> ops, const Config& cfg, const std::string& text = "",
                 const std::string& vocab = "");
  ~BackendTrainer();
  BackendTrainer(const BackendTrainer&) = delete;
  BackendTrainer& operator=(const BackendTrainer&) = delete;

  const StepStats& step() override;
  EvalStats evaluate() override;
  int steps_done() const override { return step_; }
  const Config& config() const { return host_.config(); }
  const StepStats& last() const { return stats_; }
  size_t num_params() const override { return exec_.plan().num_params; }
  void set_optim(const OptimConfig& o) override;

  // Checkpoints: the host Trainer's format. with_state: also the optimiser's moments and update count
  // under the CPU core's names (optim.exp_avg.* ..., checkpoint.h) and the batch position, so a loaded
  // run continues exactly; loading takes them when the file has them, else starts them afresh, as Trainer::load.
  std::vector<uint8_t> save(bool with_state = false) override;
  void load(const uint8_t* bytes, size_t n) override;

  // Copies the parameters to the host Trainer (for its inference: logits, attention, sampling).
  void sync_to_host();
  Trainer& host() override { return host_; }
  PlanExecutor& executor() { return exec_; }
  ModelOps& ops() { return *ops_; }
  // Backend bytes held by the executor and the optimiser state (not the ops' scratch).
  size_t bytes() const;

 private:
  void upload_params();
  void build_tables();
  std::string zero_variance_site();

  std::unique_ptr<ModelOps> ops_;
  Trainer host_;
  PlanExecutor exec_;
  OptimHyper hyper_;
  int step_ = 0;
  StepStats stats_;

  // Backend memory: optimiser moments, the per-step scalars and statistics (one block, downloaded
  // once per step), the chunk tables of the reductions.
  float *m_ = nullptr, *v_ = nullptr;
  void* stats_dev_ = nullptr;
  size_t stats_bytes_ = 0;
  StepScalars* scalars_ = nullptr;
  double *slice_sq_ = nullptr, *d2_ = nullptr, *w2_ = nullptr, *act_sq_ = nullptr, *eval_loss_ = nullptr;
  float* entropy_ = nullptr;
  void* tables_dev_ = nullptr;
  ChunkTable param_table_, act_table_;
  std::vector<uint8_t> stats_host_;
  std::vector<float> probs_host_;
};

// Chunks of the segments (offset, size, flags) of a flat block: what ChunkTable points at.
struct Segment {
  uint64_t offset = 0, size = 0;
  uint32_t flags = 0;
};
void make_chunks(const std::vector<Segment>& segs, std::vector<ChunkInfo>& chunks, std::vector<uint32_t>& seg_first);

}  // namespace resnorm
