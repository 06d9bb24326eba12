// BackendTrainer: the one train step (train_step.h, as the CPU Trainer takes it) on another backend's
// op set. The data, batches, initialisation, config and checkpoints stay with a host Trainer, so both
// backends train on the same batches from the same initial parameters and write the same checkpoint
// format; the step itself (forward, backward, diagnostics, divergence guard, clipping, AdamW/SGD) runs
// in backend memory and ends with one download of a small statistics block.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model_ops.h"
#include "plan_executor.h"
#include "train_step.h"
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
  const StepStats& last() const { return ts_.last(); }
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
  // Backend bytes held by the executor and the train step (not the ops' scratch).
  size_t bytes() const;

 private:
  void upload_params();

  std::unique_ptr<ModelOps> ops_;
  Trainer host_;
  PlanExecutor exec_;
  TrainStep ts_;
  int step_ = 0;
  double* eval_loss_ = nullptr;  // backend memory: an evaluation batch's mean loss
  std::vector<float> probs_host_;
};

}  // namespace resnorm
