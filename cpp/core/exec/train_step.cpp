// TrainStep: the train step as one recorded sequence of backend ops, then StepStats assembled on the
// host from one downloaded statistics block. The divergence guard runs in backend memory
// (step_scalars sets ok; the update and BatchNorm's running statistics are left alone when not ok),
// so the host never waits in the middle of a step.
#include "train_step.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "error.h"

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

size_t align64(size_t n) { return (n + 63) / 64 * 64; }

// Floats of one block's output over a training batch: what its residual-stream RMS is taken over.
uint64_t block_output_size(const ModelPlan& p, const Config& cfg, int b) {
  const uint64_t B = static_cast<uint64_t>(cfg.optim.batch);
  if (cfg.is_cnn()) {  // [B, hout, hout, cout]
    const CnnBlock& k = p.cnn[static_cast<size_t>(b)];
    return B * k.hout * k.hout * k.cout;
  }
  return B * (cfg.is_gpt() ? cfg.model.context : 1) * cfg.model.width;
}

// The reductions' segments: the parameter slices (weight-decay flag per slice), and each block's output.
void segments(const ModelPlan& p, const Config& cfg, std::vector<Segment>& params, std::vector<Segment>& acts) {
  params.clear();
  acts.clear();
  for (const Slice& s : p.slices) params.push_back({s.offset, s.size, s.decay ? kChunkDecay : 0u});
  for (int b = 0; b < p.num_blocks(); ++b)
    acts.push_back({cfg.is_cnn() ? p.cnn[static_cast<size_t>(b)].y : p.last_of_block(b).y, block_output_size(p, cfg, b), 0u});
}

// The layout of the statistics block: scalars, then per slice the squared norms of the gradient, of
// the update and of the weights, per block the output's sum of squares, per layer and head the entropy.
struct StatsLayout {
  size_t slice_sq = 0, d2 = 0, w2 = 0, act_sq = 0, entropy = 0, bytes = 0;
  StatsLayout(size_t nsl, size_t L, size_t LH) {
    slice_sq = align64(sizeof(StepScalars));
    d2 = slice_sq + sizeof(double) * nsl;
    w2 = d2 + sizeof(double) * nsl;
    act_sq = w2 + sizeof(double) * nsl;
    entropy = act_sq + sizeof(double) * L;
    bytes = entropy + sizeof(float) * LH;
  }
};

size_t heads_of(const Config& cfg) { return cfg.is_gpt() ? static_cast<size_t>(cfg.model.heads) : 0; }

// The chunk tables' bytes: chunks of both tables, then both seg_first arrays, each part 64-byte aligned.
struct TableLayout {
  size_t pc = 0, ac = 0, pf = 0, af = 0, bytes = 0;
  TableLayout(size_t npc, size_t nac, size_t nps, size_t nas) {
    pc = 0;
    ac = align64(sizeof(ChunkInfo) * npc);
    pf = ac + align64(sizeof(ChunkInfo) * nac);
    af = pf + align64(sizeof(uint32_t) * (nps + 1));
    bytes = af + align64(sizeof(uint32_t) * (nas + 1));
  }
};

size_t chunk_count(const std::vector<Segment>& segs) {
  size_t n = 0;
  for (const Segment& s : segs) n += (s.size + kChunkElems - 1) / kChunkElems;
  return n;
}

}  // namespace

size_t TrainStep::bytes_for(const ModelPlan& p, const Config& cfg) {
  std::vector<Segment> ps, as;
  segments(p, cfg, ps, as);
  const size_t L = static_cast<size_t>(p.num_blocks());
  const StatsLayout st(p.slices.size(), L, L * heads_of(cfg));
  const TableLayout tl(chunk_count(ps), chunk_count(as), ps.size(), as.size());
  const bool adamw = cfg.optim.name == OptimName::AdamW;
  // HostOps::alloc rounds every block up to 64 bytes.
  return align64(sizeof(float) * p.num_params) * (adamw ? 2 : 1) + align64(st.bytes) + align64(tl.bytes);
}

TrainStep::TrainStep(ModelOps& ops, PlanExecutor& exec, const Config& cfg)
    : ops_(ops), exec_(exec), hyper_(optim_hyper(cfg.optim)), adamw_(cfg.optim.name == OptimName::AdamW),
      batch_(cfg.optim.batch), T_(cfg.is_gpt() ? cfg.model.context : 1) {
  const ModelPlan& p = exec_.plan();
  const size_t L = static_cast<size_t>(p.num_blocks()), H = heads_of(cfg), nsl = p.slices.size();
  std::vector<Segment> ps, as;
  segments(p, cfg, ps, as);
  std::vector<ChunkInfo> pc, ac;
  std::vector<uint32_t> pf, af;
  make_chunks(ps, pc, pf);
  make_chunks(as, ac, af);
  const StatsLayout st(nsl, L, L * H);
  const TableLayout tl(pc.size(), ac.size(), ps.size(), as.size());
  stats_bytes_ = st.bytes;
  try {
    m_ = static_cast<float*>(ops_.alloc(sizeof(float) * p.num_params));
    if (adamw_) v_ = static_cast<float*>(ops_.alloc(sizeof(float) * p.num_params));
    stats_dev_ = ops_.alloc(stats_bytes_);
    tables_dev_ = ops_.alloc(tl.bytes);
  } catch (...) {
    for (void* q : {static_cast<void*>(m_), static_cast<void*>(v_), stats_dev_})
      if (q) ops_.release(q);
    throw;
  }
  bytes_ = bytes_for(p, cfg);
  auto* base = static_cast<uint8_t*>(stats_dev_);
  scalars_ = reinterpret_cast<StepScalars*>(base);
  slice_sq_ = reinterpret_cast<double*>(base + st.slice_sq);
  d2_ = reinterpret_cast<double*>(base + st.d2);
  w2_ = reinterpret_cast<double*>(base + st.w2);
  act_sq_ = reinterpret_cast<double*>(base + st.act_sq);
  entropy_ = reinterpret_cast<float*>(base + st.entropy);
  stats_host_.assign(stats_bytes_, 0);
  ops_.zero(stats_dev_, stats_bytes_);
  reset();

  auto* tb = static_cast<uint8_t*>(tables_dev_);
  ops_.upload(tb + tl.pc, pc.data(), sizeof(ChunkInfo) * pc.size());
  ops_.upload(tb + tl.ac, ac.data(), sizeof(ChunkInfo) * ac.size());
  ops_.upload(tb + tl.pf, pf.data(), sizeof(uint32_t) * pf.size());
  ops_.upload(tb + tl.af, af.data(), sizeof(uint32_t) * af.size());
  ops_.sync();
  param_table_ = {reinterpret_cast<const ChunkInfo*>(tb + tl.pc), reinterpret_cast<const uint32_t*>(tb + tl.pf),
                  static_cast<int>(pc.size()), static_cast<int>(ps.size())};
  act_table_ = {reinterpret_cast<const ChunkInfo*>(tb + tl.ac), reinterpret_cast<const uint32_t*>(tb + tl.af),
                static_cast<int>(ac.size()), static_cast<int>(as.size())};

  stats_.block_grad_norm.assign(L, 0.0f);
  stats_.block_act_rms.assign(L, 0.0f);
  stats_.update_ratio.assign(L, 0.0f);
  stats_.attn_entropy.assign(L * H, 0.0f);
  bsq_.assign(L, 0.0);
  bw_.assign(L, 0.0);
  bd_.assign(L, 0.0);
  for (const Segment& a : as) act_n_.push_back(static_cast<double>(a.size));
}

TrainStep::~TrainStep() {
  for (void* q : {static_cast<void*>(m_), static_cast<void*>(v_), stats_dev_, tables_dev_})
    if (q) ops_.release(q);
}

void TrainStep::set_hyper(const OptimConfig& o) {
  hyper_ = optim_hyper(o);
  ops_.forget_graphs();  // the hyperparameters are arguments of the recorded kernels
}

int TrainStep::updates() {
  StepScalars sc;
  ops_.download(&sc, scalars_, sizeof sc);
  return sc.t;
}

void TrainStep::set_updates(int t) {
  StepScalars sc;
  ops_.download(&sc, scalars_, sizeof sc);
  sc.t = t;
  ops_.upload(scalars_, &sc, sizeof sc);
  ops_.sync();
}

void TrainStep::reset() {
  const size_t n = exec_.plan().num_params;
  ops_.zero(m_, sizeof(float) * n);
  if (v_) ops_.zero(v_, sizeof(float) * n);
  set_updates(0);
}

// The first norm whose saved 1/std is infinite (a zero variance with eps = 0), as "blocks.3.norm_1
// (block 3)"; empty when there is none. Downloaded only after a bad step.
std::string TrainStep::zero_variance_site() {
  const ModelPlan& p = exec_.plan();
  const size_t rows = static_cast<size_t>(exec_.rows());
  std::vector<float> r;
  for (const NormStatSite& n : p.norm_stats) {
    const size_t count = p.cfg.norm == NormKind::BatchNorm ? static_cast<size_t>(n.C) : rows * n.positions;
    r.resize(count);
    ops_.download(r.data(), exec_.acts() + n.rstd, sizeof(float) * count);
    for (float x : r)
      if (std::isinf(x)) return n.name + (n.block >= 0 ? " (block " + std::to_string(n.block) + ")" : std::string());
  }
  return "";
}

// The step's op sequence, in backend memory from start to end. A member (not a lambda capturing
// locals) so ModelOps::run's std::function holds only `this` and a step allocates nothing.
void TrainStep::record() {
  const ModelPlan& p = exec_.plan();
  const int B = exec_.B(), T = exec_.T(), H = p.cfg.heads, L = p.num_blocks();
  const size_t nbuf = p.num_bufs;
  if (nbuf) ops_.copy(exec_.saved_buffers(), exec_.buffers(), sizeof(float) * nbuf);
  exec_.forward(&scalars_->loss);
  ops_.zero(exec_.grads(), sizeof(float) * p.num_params);
  exec_.backward();
  ops_.sumsq(slice_sq_, exec_.grads(), param_table_);
  ops_.sumsq(act_sq_, exec_.acts(), act_table_);
  if (p.cfg.kind == ModelKind::Gpt)
    for (int l = 0; l < L; ++l)
      ops_.attention_entropy(entropy_ + static_cast<size_t>(l) * H, exec_.att() + p.subs[static_cast<size_t>(l) * 2].att,
                             B, T, H);
  ops_.step_scalars(scalars_, slice_sq_, static_cast<int>(p.slices.size()), hyper_);
  ops_.optimizer_update(exec_.params(), m_, v_, exec_.grads(), d2_, w2_, param_table_, scalars_, hyper_);
  if (nbuf) ops_.restore_unless_ok(exec_.buffers(), exec_.saved_buffers(), nbuf, scalars_);
}

StepStats& TrainStep::run(int step_index, double lr) {
  const ModelPlan& p = exec_.plan();
  const int B = exec_.B(), T = exec_.T(), L = p.num_blocks();
  const int nsl = static_cast<int>(p.slices.size());
  if (B != batch_ || T != T_)
    throw Error("train step: the executor holds a " + std::to_string(B) + " x " + std::to_string(T) +
                " batch, not the training batch of " + std::to_string(batch_) + " x " + std::to_string(T_));
  ops_.upload(&scalars_->lr, &lr, sizeof lr);
  exec_.set_training(true);  // BatchNorm: batch statistics; the running ones are updated (and rolled back on a bad step)
  struct EvalAfter {         // back to eval mode however the step ends (an error in an op included)
    PlanExecutor& e;
    ~EvalAfter() { e.set_training(false); }
  } eval_after{exec_};
  ops_.run("train", [this] { record(); });
  exec_.set_training(false);  // evaluation runs in eval mode
  ops_.download(stats_host_.data(), stats_dev_, stats_bytes_);

  // Per-block sums in the slices' order, then the figures the playground draws.
  const StatsLayout st(static_cast<size_t>(nsl), static_cast<size_t>(L), stats_.attn_entropy.size());
  const uint8_t* hb = stats_host_.data();
  StepScalars sc;
  std::memcpy(&sc, hb, sizeof sc);
  const auto* h_slice = reinterpret_cast<const double*>(hb + st.slice_sq);
  const auto* h_d2 = reinterpret_cast<const double*>(hb + st.d2);
  const auto* h_w2 = reinterpret_cast<const double*>(hb + st.w2);
  const auto* h_act = reinterpret_cast<const double*>(hb + st.act_sq);
  const auto* h_ent = reinterpret_cast<const float*>(hb + st.entropy);
  std::fill(bsq_.begin(), bsq_.end(), 0.0);
  std::fill(bw_.begin(), bw_.end(), 0.0);
  std::fill(bd_.begin(), bd_.end(), 0.0);
  for (int i = 0; i < nsl; ++i) {
    const int b = p.slices[static_cast<size_t>(i)].block;
    if (b < 0) continue;
    bsq_[static_cast<size_t>(b)] += h_slice[i];
    bd_[static_cast<size_t>(b)] += h_d2[i];
    bw_[static_cast<size_t>(b)] += h_w2[i];
  }
  for (int b = 0; b < L; ++b) {
    const auto i = static_cast<size_t>(b);
    stats_.block_grad_norm[i] = static_cast<float>(std::sqrt(bsq_[i]));
    stats_.block_act_rms[i] = static_cast<float>(std::sqrt(h_act[i] / act_n_[i]));
  }
  std::copy(h_ent, h_ent + stats_.attn_entropy.size(), stats_.attn_entropy.begin());
  stats_.step = step_index + 1;
  stats_.loss = sc.loss;
  stats_.grad_norm = std::sqrt(sc.grad_sq);
  stats_.lr = lr;
  std::fill(stats_.update_ratio.begin(), stats_.update_ratio.end(), 0.0f);
  stats_.divergence = divergence_message(stats_.step, sc.loss, sc.grad_sq, bsq_, p.cfg.eps,
                                         [this] { return zero_variance_site(); });
  stats_.diverged = !stats_.divergence.empty();
  if (stats_.diverged != (sc.ok == 0))
    throw Error("train step: internal error, the backend's guard and the host disagree about divergence");
  if (!stats_.diverged)
    for (int b = 0; b < L; ++b) {
      const auto i = static_cast<size_t>(b);
      stats_.update_ratio[i] = static_cast<float>(std::sqrt(bd_[i]) / (std::sqrt(bw_[i]) + 1e-12));
    }
  return stats_;
}

}  // namespace resnorm
