// BackendTrainer: the train step of Trainer::step (cpp/core/trainer.cpp) as one recorded sequence of
// backend ops, then StepStats assembled on the host from one downloaded statistics block. The
// divergence guard runs in backend memory (step_scalars sets ok; the update is skipped when not ok),
// so the host never waits in the middle of a step.
#include "backend_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "error.h"
#include "optimizer.h"

namespace resnorm {

void make_chunks(const std::vector<Segment>& segs, std::vector<ChunkInfo>& chunks, std::vector<uint32_t>& seg_first) {
  chunks.clear();
  seg_first.assign(segs.size() + 1, 0);
  for (size_t s = 0; s < segs.size(); ++s) {
    seg_first[s] = static_cast<uint32_t>(chunks.size());
    for (uint64_t o = 0; o < segs[s].size; o += kChunkElems) {
      ChunkInfo c;
      c.begin = segs[s].offset + o;
      c.len = static_cast<uint32_t>(std::min<uint64_t>(kChunkElems, segs[s].size - o));
      c.seg = static_cast<uint32_t>(s);
      c.flags = segs[s].flags;
      chunks.push_back(c);
    }
  }
  seg_first[segs.size()] = static_cast<uint32_t>(chunks.size());
}

namespace {
int device_rows(const Config& cfg, const Trainer& host) {
  return cfg.is_gpt() ? cfg.optim.batch * cfg.model.context : host.model().max_rows();
}
size_t align64(size_t n) { return (n + 63) / 64 * 64; }
}  // namespace

BackendTrainer::BackendTrainer(std::unique_ptr<ModelOps> ops, const Config& cfg, const std::string& text,
                               const std::string& vocab)
    : ops_(std::move(ops)),
      host_(cfg, text, vocab, cfg.is_gpt() ? cfg.model.context : 0),
      exec_(*ops_, cfg.model, host_.model().vocab(), device_rows(cfg, host_)),
      hyper_(optim_hyper(cfg.optim)),
      step_(0) {
  const ModelPlan& p = exec_.plan();
  const size_t L = static_cast<size_t>(p.num_blocks()), H = static_cast<size_t>(cfg.model.heads);
  const size_t nsl = p.slices.size();
  try {
    m_ = static_cast<float*>(ops_->alloc(sizeof(float) * p.num_params));
    v_ = static_cast<float*>(ops_->alloc(sizeof(float) * (hyper_.adamw ? p.num_params : 1)));
    stats_bytes_ = align64(sizeof(StepScalars)) + sizeof(double) * (3 * nsl + L + 1) + sizeof(float) * (L * H);
    stats_dev_ = ops_->alloc(stats_bytes_);
  } catch (...) {
    if (m_) ops_->release(m_);
    if (v_) ops_->release(v_);
    throw;
  }
  auto* base = static_cast<uint8_t*>(stats_dev_);
  scalars_ = reinterpret_cast<StepScalars*>(base);
  slice_sq_ = reinterpret_cast<double*>(base + align64(sizeof(StepScalars)));
  d2_ = slice_sq_ + nsl;
  w2_ = d2_ + nsl;
  act_sq_ = w2_ + nsl;
  eval_loss_ = act_sq_ + L;
  entropy_ = reinterpret_cast<float*>(eval_loss_ + 1);
  stats_host_.assign(stats_bytes_, 0);
  ops_->zero(m_, sizeof(float) * p.num_params);
  ops_->zero(v_, sizeof(float) * (hyper_.adamw ? p.num_params : 1));
  ops_->zero(stats_dev_, stats_bytes_);
  build_tables();
  upload_params();
  stats_.block_grad_norm.assign(L, 0.0f);
  stats_.block_act_rms.assign(L, 0.0f);
  stats_.update_ratio.assign(L, 0.0f);
  stats_.attn_entropy.assign(cfg.is_gpt() ? L * H : 0, 0.0f);
}

BackendTrainer::~BackendTrainer() {
  for (void* p : {static_cast<void*>(m_), static_cast<void*>(v_), stats_dev_, tables_dev_})
    if (p) ops_->release(p);
}

size_t BackendTrainer::bytes() const {
  const size_t n = exec_.plan().num_params;
  return PlanExecutor::bytes_for(exec_.plan()) + sizeof(float) * (hyper_.adamw ? 2 * n : n) + stats_bytes_;
}

// Chunk tables: the parameter slices (weight-decay flag per slice) and, for the residual-stream RMS,
// each block's output over one training batch's rows.
void BackendTrainer::build_tables() {
  const ModelPlan& p = exec_.plan();
  const Config& cfg = host_.config();
  std::vector<Segment> ps, as;
  for (const Slice& s : p.slices) ps.push_back({s.offset, s.size, s.decay ? kChunkDecay : 0u});
  const uint64_t n = static_cast<uint64_t>(cfg.optim.batch) * (cfg.is_gpt() ? cfg.model.context : 1) * cfg.model.width;
  for (int b = 0; b < p.num_blocks(); ++b) {
    if (cfg.is_cnn()) {  // the block's output [B, hout, hout, cout]
      const CnnBlock& k = p.cnn[static_cast<size_t>(b)];
      as.push_back({k.y, static_cast<uint64_t>(cfg.optim.batch) * k.hout * k.hout * k.cout, 0u});
    } else {
      as.push_back({p.last_of_block(b).y, n, 0u});
    }
  }
  std::vector<ChunkInfo> pc, ac;
  std::vector<uint32_t> pf, af;
  make_chunks(ps, pc, pf);
  make_chunks(as, ac, af);
  const size_t b_pc = align64(sizeof(ChunkInfo) * pc.size()), b_ac = align64(sizeof(ChunkInfo) * ac.size());
  const size_t b_pf = align64(sizeof(uint32_t) * pf.size()), b_af = align64(sizeof(uint32_t) * af.size());
  tables_dev_ = ops_->alloc(b_pc + b_ac + b_pf + b_af);
  auto* base = static_cast<uint8_t*>(tables_dev_);
  ops_->upload(base, pc.data(), sizeof(ChunkInfo) * pc.size());
  ops_->upload(base + b_pc, ac.data(), sizeof(ChunkInfo) * ac.size());
  ops_->upload(base + b_pc + b_ac, pf.data(), sizeof(uint32_t) * pf.size());
  ops_->upload(base + b_pc + b_ac + b_pf, af.data(), sizeof(uint32_t) * af.size());
  param_table_ = {reinterpret_cast<const ChunkInfo*>(base), reinterpret_cast<const uint32_t*>(base + b_pc + b_ac),
                  static_cast<int>(pc.size()), static_cast<int>(ps.size())};
  act_table_ = {reinterpret_cast<const ChunkInfo*>(base + b_pc),
                reinterpret_cast<const uint32_t*>(base + b_pc + b_ac + b_pf), static_cast<int>(ac.size()),
                static_cast<int>(as.size())};
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

// Model::zero_variance_site over the backend's saved statistics (downloaded only after a bad step).
std::string BackendTrainer::zero_variance_site() {
  const ModelPlan& p = exec_.plan();
  const size_t rows = static_cast<size_t>(exec_.rows());
  std::vector<float> r;
  for (const NormStatSite& n : p.norm_stats) {
    const size_t count = p.cfg.norm == NormKind::BatchNorm ? static_cast<size_t>(n.C) : rows * n.positions;
    r.resize(count);
    ops_->download(r.data(), exec_.acts() + n.rstd, sizeof(float) * count);
    for (float x : r)
      if (std::isinf(x)) return n.name + (n.block >= 0 ? " (block " + std::to_string(n.block) + ")" : std::string());
  }
  return "";
}

void BackendTrainer::set_optim(const OptimConfig& o) {
  host_.set_optim(o);  // validates as the CPU trainer does
  hyper_ = optim_hyper(o);
  ops_->forget_graphs();  // the hyperparameters are arguments of the recorded kernels
}

const StepStats& BackendTrainer::step() {
  const auto t0 = std::chrono::steady_clock::now();
  const Config& cfg = host_.config();
  host_.fill_batch();
  const bool gpt = cfg.is_gpt();
  const int B = cfg.optim.batch, T = gpt ? cfg.model.context : 1, H = cfg.model.heads;
  const int L = exec_.plan().num_blocks();
  const size_t nbuf = exec_.plan().num_bufs;
  exec_.set_batch(host_.batch_points().data(), host_.batch_tokens().data(), host_.batch_targets().data(), B, T, true);
  const double lr = learning_rate(cfg.optim, step_);
  ops_->upload(&scalars_->lr, &lr, sizeof lr);
  const ModelPlan& p = exec_.plan();
  const int nsl = static_cast<int>(p.slices.size());
  exec_.set_training(true);  // BatchNorm: batch statistics; the running ones are updated (and rolled back below)
  struct EvalAfter {         // back to eval mode however the step ends (an error in an op included)
    PlanExecutor& e;
    ~EvalAfter() { e.set_training(false); }
  } eval_after{exec_};
  ops_->run("train", [&] {
    if (nbuf) ops_->copy(exec_.saved_buffers(), exec_.buffers(), sizeof(float) * nbuf);
    exec_.forward(&scalars_->loss);
    ops_->zero(exec_.grads(), sizeof(float) * p.num_params);
    exec_.backward();
    ops_->sumsq(slice_sq_, exec_.grads(), param_table_);
    ops_->sumsq(act_sq_, exec_.acts(), act_table_);
    if (gpt)
      for (int l = 0; l < L; ++l)
        ops_->attention_entropy(entropy_ + static_cast<size_t>(l) * H, exec_.att() + p.subs[static_cast<size_t>(l) * 2].att,
                                B, T, H);
    ops_->step_scalars(scalars_, slice_sq_, nsl, hyper_);
    ops_->optimizer_update(exec_.params(), m_, v_, exec_.grads(), d2_, w2_, param_table_, scalars_, hyper_);
    // The divergence guard rolls BatchNorm's running statistics back with the parameters (as Trainer::step).
    if (nbuf) ops_->restore_unless_ok(exec_.buffers(), exec_.saved_buffers(), nbuf, scalars_);
  });
  exec_.set_training(false);  // evaluate() runs in eval mode
  ops_->download(stats_host_.data(), stats_dev_, stats_bytes_);

  // The same statistics, in the same order, as Trainer::step.
  const uint8_t* hb = stats_host_.data();
  StepScalars sc;
  std::memcpy(&sc, hb, sizeof sc);
  const auto* h_slice = reinterpret_cast<const double*>(hb + align64(sizeof(StepScalars)));
  const double* h_d2 = h_slice + nsl;
  const double* h_w2 = h_d2 + nsl;
  const double* h_act = h_w2 + nsl;
  const auto* h_ent = reinterpret_cast<const float*>(h_act + L + 1);
  std::vector<double> bsq(static_cast<size_t>(L), 0.0), bw(static_cast<size_t>(L), 0.0);
  std::vector<double> bd(static_cast<size_t>(L), 0.0);  // double, as Trainer::collect_update_ratios sums it
  for (int i = 0; i < nsl; ++i) {
    const int b = p.slices[static_cast<size_t>(i)].block;
    if (b < 0) continue;
    bsq[static_cast<size_t>(b)] += h_slice[i];
    bd[static_cast<size_t>(b)] += h_d2[i];
    bw[static_cast<size_t>(b)] += h_w2[i];
  }
  for (int b = 0; b < L; ++b) {
    const auto i = static_cast<size_t>(b);
    const double n_act = cfg.is_cnn() ? static_cast<double>(B) * p.cnn[i].hout * p.cnn[i].hout * p.cnn[i].cout
                                      : static_cast<double>(B) * T * cfg.model.width;
    stats_.block_grad_norm[i] = static_cast<float>(std::sqrt(bsq[i]));
    stats_.block_act_rms[i] = static_cast<float>(std::sqrt(h_act[i] / n_act));
  }
  if (gpt) std::copy(h_ent, h_ent + static_cast<size_t>(L) * H, stats_.attn_entropy.begin());
  stats_.step = step_ + 1;
  stats_.loss = sc.loss;
  stats_.grad_norm = std::sqrt(sc.grad_sq);
  stats_.lr = lr;
  std::fill(stats_.update_ratio.begin(), stats_.update_ratio.end(), 0.0f);
  stats_.divergence = divergence_message(stats_.step, sc.loss, sc.grad_sq, bsq, cfg.model.eps,
                                         [this] { return zero_variance_site(); });
  stats_.diverged = !stats_.divergence.empty();
  if (stats_.diverged != (sc.ok == 0))
    throw Error("backend: internal error, the device guard and the host disagree about divergence");
  if (!stats_.diverged)
    for (int b = 0; b < L; ++b) {
      const auto i = static_cast<size_t>(b);
      stats_.update_ratio[i] = static_cast<float>(std::sqrt(bd[i]) / (std::sqrt(bw[i]) + 1e-12));
    }
  ++step_;
  stats_.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return stats_;
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
  if (with_state) {  // the moments and the update count into the host optimiser, which writes them
    const size_t np = exec_.plan().num_params;
    Optimizer& o = host_.optimizer();
    ops_->download(o.moment1(), m_, sizeof(float) * np);
    if (hyper_.adamw && o.moment2()) ops_->download(o.moment2(), v_, sizeof(float) * np);
    StepScalars sc;
    ops_->download(&sc, scalars_, sizeof sc);
    o.set_updates(sc.t);
  }
  return host_.save(with_state);
}

void BackendTrainer::load(const uint8_t* bytes, size_t n) {
  host_.load(bytes, n);  // validates everything; the host parameters change only when all is well
  step_ = host_.steps_done();
  upload_params();
  // The host optimiser holds the file's moments and update count, or zeros and t = 0 when it had none
  // (then the optimiser starts afresh, as Trainer::load); the batch position is the host's already.
  const size_t np = exec_.plan().num_params;
  const Optimizer& o = host_.optimizer();
  ops_->upload(m_, o.moment1(), sizeof(float) * np);
  if (hyper_.adamw && o.moment2()) ops_->upload(v_, o.moment2(), sizeof(float) * np);
  StepScalars sc;
  sc.t = o.updates();
  ops_->upload(scalars_, &sc, sizeof sc);
  ops_->sync();
}

}  // namespace resnorm
