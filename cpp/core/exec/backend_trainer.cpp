// BackendTrainer: the host Trainer's batches, initialisation and checkpoints around the one train step
// (train_step.cpp) on the backend's executor and op set.
#include "backend_trainer.h"

#include <chrono>
#include <cstring>

#include "error.h"
#include "optimizer.h"

namespace resnorm {

namespace {
int device_rows(const Config& cfg, const Trainer& host) {
  return cfg.is_gpt() ? cfg.optim.batch * cfg.model.context : host.model().max_rows();
}
}  // namespace

BackendTrainer::BackendTrainer(std::unique_ptr<ModelOps> ops, const Config& cfg, const std::string& text,
                               const std::string& vocab)
    : ops_(std::move(ops)),
      host_(cfg, text, vocab, cfg.is_gpt() ? cfg.model.context : 0),
      exec_(*ops_, cfg.model, host_.model().vocab(), device_rows(cfg, host_)),
      ts_(*ops_, exec_, cfg) {
  eval_loss_ = static_cast<double*>(ops_->alloc(sizeof(double)));
  try {
    upload_params();
  } catch (...) {  // the destructor does not run for a constructor that throws
    ops_->release(eval_loss_);
    throw;
  }
}

BackendTrainer::~BackendTrainer() { ops_->release(eval_loss_); }

size_t BackendTrainer::bytes() const {
  return PlanExecutor::bytes_for(exec_.plan()) + ts_.bytes() + 64;  // 64: eval_loss_, as the ops allocate it
}

void BackendTrainer::upload_params() {
  ops_->upload(exec_.params(), host_.model().params(), sizeof(float) * exec_.plan().num_params);
  ops_->upload(exec_.buffers(), host_.model().buffers(), sizeof(float) * exec_.plan().num_bufs);
  ops_->sync();
}

void BackendTrainer::sync_to_host() {
  ops_->download(host_.model().params(), exec_.params(), sizeof(float) * exec_.plan().num_params);
  ops_->download(host_.model().buffers(), exec_.buffers(), sizeof(float) * exec_.plan().num_bufs);
}

void BackendTrainer::set_optim(const OptimConfig& o) {
  host_.set_optim(o);  // validates as the CPU trainer does
  ts_.set_hyper(o);
}

const StepStats& BackendTrainer::step() {
  const auto t0 = std::chrono::steady_clock::now();
  const Config& cfg = host_.config();
  host_.fill_batch();
  const int B = cfg.optim.batch, T = cfg.is_gpt() ? cfg.model.context : 1;
  exec_.set_batch(host_.batch_points().data(), host_.batch_tokens().data(), host_.batch_targets().data(), B, T, true);
  StepStats& st = ts_.run(step_, learning_rate(cfg.optim, step_));
  ++step_;
  st.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return st;
}

EvalStats BackendTrainer::evaluate() {
  const int V = exec_.plan().vocab;
  return host_.evaluate_with([&](const float* points, const int* tokens, const int* targets, int B, int T,
                                 const float** probs) {
    exec_.set_batch(points, tokens, targets, B, T, false);
    ops_->run("eval/" + std::to_string(B) + "x" + std::to_string(T), [&] { exec_.forward(eval_loss_); });
    double loss = 0.0;
    ops_->download(&loss, eval_loss_, sizeof loss);
    if (probs) {
      probs_host_.resize(static_cast<size_t>(B) * T * V);
      ops_->download(probs_host_.data(), exec_.probs(), sizeof(float) * probs_host_.size());
      *probs = probs_host_.data();
    }
    return loss;
  });
}

std::vector<uint8_t> BackendTrainer::save(bool with_state) {
  sync_to_host();
  host_.set_steps_done(step_);
  if (with_state) {  // the moments and the update count into the host's train step, which the host writes
    const size_t np = exec_.plan().num_params;
    TrainStep& h = host_.train_step();
    ops_->download(h.moment1(), ts_.moment1(), sizeof(float) * np);
    if (ts_.moment2()) ops_->download(h.moment2(), ts_.moment2(), sizeof(float) * np);
    h.set_updates(ts_.updates());
  }
  return host_.save(with_state);
}

void BackendTrainer::load(const uint8_t* bytes, size_t n) {
  host_.load(bytes, n);  // validates everything; the host parameters change only when all is well
  step_ = host_.steps_done();
  upload_params();
  // The host's train step holds the file's moments and update count, or zeros and t = 0 when it had
  // none (then the optimiser starts afresh, as Trainer::load); the batch position is the host's already.
  const size_t np = exec_.plan().num_params;
  TrainStep& h = host_.train_step();
  ops_->upload(ts_.moment1(), h.moment1(), sizeof(float) * np);
  if (ts_.moment2()) ops_->upload(ts_.moment2(), h.moment2(), sizeof(float) * np);
  ts_.set_updates(h.updates());
}

}  // namespace resnorm
