// The Trainer: one config, its data, model, the one train step (exec/train_step.h: optimiser,
// guard, clipping and the per-step diagnostics the playground draws) and checkpoints. TrainerBase is what a train loop asks of any backend's trainer: the CLI, the wasm
// bindings, the tests and the benchmarks drive it, the CPU Trainer here and BackendTrainer
// (exec/backend_trainer.h: the plan executor on HostOps or on the CUDA device) implement it.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "data.h"
#include "model.h"
#include "optimizer.h"
#include "rng.h"

namespace resnorm {

struct StepStats {
  int step = 0;  // 1-based index of the step just taken
  double loss = 0, lr = 0, grad_norm = 0, ms = 0;
  bool diverged = false;     // NaN/Inf seen: the update was not applied
  std::string divergence;    // where, in words
  std::vector<float> block_grad_norm;  // [depth] L2 norm of the block's parameter gradients
  std::vector<float> block_act_rms;    // [depth] RMS of the residual stream after the block
  std::vector<float> update_ratio;     // [depth] ||delta theta|| / ||theta|| of the block
  std::vector<float> attn_entropy;     // gpt: [depth * heads], nats, mean over batch and positions
};

struct EvalStats {
  double train_loss = 0, val_loss = 0;
  double train_accuracy = -1, accuracy = -1;  // mlp: train and test accuracy; -1 for gpt
};

class Trainer;
class TrainStep;

// One trainer interface for every backend (issue 22): a train loop, a benchmark or a checkpoint written
// or read through it does not know which backend takes the steps.
class TrainerBase {
 public:
  virtual ~TrainerBase() = default;
  virtual const StepStats& step() = 0;
  virtual EvalStats evaluate() = 0;
  virtual int steps_done() const = 0;
  virtual size_t num_params() const = 0;
  // Optimiser settings that may change during a run (not its kind or batch size; errors say so).
  virtual void set_optim(const OptimConfig& o) = 0;
  // Checkpoint bytes (safetensors; with_state: the optimiser's moments, update count and batch position too).
  virtual std::vector<uint8_t> save(bool with_state = false) = 0;
  virtual void load(const uint8_t* bytes, size_t n) = 0;
  // The CPU Trainer holding the config, vocabulary, data and a copy of the model (itself, for the CPU):
  // what a checkpoint is checked against, and what inference (logits, sampling) runs on.
  virtual Trainer& host() = 0;
};

// The divergence guard's message for the step just taken (1-based `step`), empty when loss and
// gradient are finite: a loss that is not finite (with the norm whose variance was zero, when
// zero_variance_site() names one; eps is model.eps), or a gradient that is not finite, with the
// first block whose squared gradient norm block_sq[b] is not. Both trainers word it this way.
std::string divergence_message(int step, double loss, double grad_sq, const std::vector<double>& block_sq, double eps,
                               const std::function<std::string()>& zero_variance_site);

class Trainer final : public TrainerBase {
 public:
  // text: the corpus for gpt (ignored for mlp). vocab: a fixed vocabulary (from a checkpoint);
  // with text empty a gpt trainer can only do inference (logits, attention, sampling).
  // capacity_rows: rows of the model's activation block; 0 = a training batch (the CUDA backend, which
  // trains on the device, passes model.context so its host copy only holds one sequence for inference).
  explicit Trainer(const Config& cfg, const std::string& text = "", const std::string& vocab = "",
                   int capacity_rows = 0);
  ~Trainer() override;

  const StepStats& step() override;
  EvalStats evaluate() override;
  // evaluate() with another forward (the CUDA backend's): returns the mean loss of the rows and sets
  // *probs to their class probabilities [B*T, vocab], valid until the next call.
  using EvalForward = std::function<double(const float* points, const int* tokens, const int* targets, int B, int T,
                                           const float** probs)>;
  EvalStats evaluate_with(const EvalForward& forward);
  // Draws the next training batch into batch_points/tokens/targets (step() does this first); another
  // backend calls it to train on exactly the batches a CPU run draws.
  void fill_batch();
  // For a backend that takes the steps itself, so save() records its step count.
  void set_steps_done(int n) { step_ = n; }
  int steps_done() const override { return step_; }
  size_t num_params() const override { return model_.num_params(); }
  Trainer& host() override { return *this; }
  const Config& config() const { return cfg_; }
  const Model& model() const { return model_; }
  Model& model() { return model_; }
  // The train step on this trainer's model (its optimiser state: moments and update count); a backend
  // that keeps its state elsewhere copies it here to save through save(true) and from here after load().
  TrainStep& train_step() { return *ts_; }
  const StepStats& last() const;
  // The batch used by the last step() (for tests that replay it elsewhere, e.g. in PyTorch):
  // mlp: points [batch,2] and targets [batch]; gpt: tokens and targets [batch,context].
  const std::vector<float>& batch_points() const { return points_; }
  const std::vector<int>& batch_tokens() const { return tokens_; }
  const std::vector<int>& batch_targets() const { return targets_; }

  // Changes the optimiser's hyperparameters mid-run (lr, betas, weight decay, momentum, warmup,
  // schedule, min_lr, clip, steps). The optimiser kind and batch size cannot change this way.
  void set_optim(const OptimConfig& o) override;

  // mlp: probability of class 1 on a res x res grid over [lo,hi]^2, row 0 at the top (y = hi).
  void predict_grid(float* out, int res, float lo, float hi);
  const Dataset2D& dataset() const { return data2d_; }

  // gpt
  const std::string& vocab() const;
  std::vector<int> encode(const std::string& text) const;  // throws on a character outside the vocabulary
  std::vector<float> logits(const std::vector<int>& tokens);                 // [T, vocab]
  std::vector<float> attention_map(const std::vector<int>& tokens, int layer);  // [heads, T, T]
  std::string sample(const std::string& prompt, int tokens, double temperature, int top_k, uint32_t seed);

  // Checkpoints (safetensors bytes). with_state: also the optimiser's moments, its update count and the
  // batch generator's position (checkpoint.h), so that loading continues the run exactly. Loading
  // restores parameters and the step count, and the state when the file has it for this run's
  // optimiser (else the moments start afresh and batches at the seed); a checkpoint made for another
  // config is refused.
  std::vector<uint8_t> save(bool with_state = false) override;
  void load(const uint8_t* bytes, size_t n) override;

  // Bytes of the trainer's size-dependent buffers: model, optimiser state and batch buffers. Equal to
  // estimate_bytes(config, vocab) (tests/cpp/test_model.cpp checks it, and the heap's own count).
  size_t bytes() const;

 private:

  Config cfg_;
  std::unique_ptr<CharData> chars_;
  Dataset2D data2d_;
  Model model_;
  std::unique_ptr<TrainStep> ts_;
  Rng batch_rng_;
  std::vector<float> points_;         // [rows,2]
  std::vector<int> tokens_, targets_; // [rows]
  int step_ = 0;
};

// A checkpoint's config and vocabulary, read from its metadata (validated like any config).
struct CheckpointInfo {
  Config config;
  std::string vocab;
  int step = 0;
};
CheckpointInfo read_checkpoint_info(const uint8_t* bytes, size_t n);

// Sets Eigen's cache sizes once: some VMs report a huge L3, which makes Eigen's GEMM blocking poor.
void configure_eigen();

}  // namespace resnorm
