// The model: a config plus a flat list of op calls (forward), and that list reversed (backward).
// Parameters, gradients and activations each live in one allocated block with named slices; the
// block settings (residual x norm x placement) are data read by one sublayer routine, not classes.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aligned.h"
#include "config.h"

namespace resnorm {

// One named parameter tensor inside the flat parameter block. Names follow PyTorch's
// state_dict convention so a checkpoint loads into python/resnorm_torch/model.py as it is.
struct Slice {
  std::string name;
  size_t offset = 0, size = 0;
  std::vector<int> shape;
  int block = -1;      // residual block it belongs to; -1 for stem / embeddings / final norm / head
  bool decay = false;  // weight decay applies (matrices and embeddings only, as nanoGPT)
  bool i64 = false;    // a buffer stored as int64 in checkpoints (BatchNorm's num_batches_tracked, as PyTorch)
};

// Where a model's tensors live: the layout of the flat parameter block (named slices) and of the
// activation block (offsets, each buffer [max_rows, width]), and the list of sublayers with the
// block settings. Built once from the config by make_plan(); the CPU Model and the CUDA backend
// both execute this same plan, so there is one model definition.
enum class Branch { Act, Attn, Ffn };  // mlp Linear+activation | attention | transformer MLP
constexpr size_t kNoOffset = static_cast<size_t>(-1);

struct SubPlan {
  Branch branch = Branch::Act;
  int block = 0, layer = 0;
  // parameter offsets (kNoOffset when absent)
  size_t nin_w = kNoOffset, nin_b = kNoOffset, nout_w = kNoOffset, nout_b = kNoOffset, rz = kNoOffset;
  size_t w1 = kNoOffset, b1 = kNoOffset, w2 = kNoOffset, b2 = kNoOffset;
  // activation offsets: x input stream, h normalised input (== x without norm_in), u/v branch
  // intermediates, f branch output, g sandwich output norm, z post-norm input, y output stream;
  // *_m / *_r the norm's per-row mean and 1/std.
  size_t x = 0, h = 0, h_m = 0, h_r = 0, u = 0, v = 0, f = 0, g = 0, g_m = 0, g_r = 0, z = 0, z_m = 0, z_r = 0, y = 0;
  size_t att = 0;  // offset into the attention-probability block
  size_t nin_buf = kNoOffset, nout_buf = kNoOffset;  // BatchNorm running statistics (buffer block)
};

// ---- cnn (issue 11): a CIFAR-style ResNet (He et al. 2016) over NHWC activations.
// A norm site: its parameters, its BatchNorm buffers (running_mean [C], running_var [C],
// num_batches_tracked [1], contiguous from buf) and its saved statistics (per row for LayerNorm and
// RMSNorm, per channel for BatchNorm).
struct NormSite {
  size_t w = kNoOffset, b = kNoOffset, buf = kNoOffset, mean = 0, rstd = 0;
  int C = 0;
};
struct ConvSite {
  size_t w = kNoOffset;  // [OC, IC, K, K]
  int ic = 0, oc = 0, k = 3, s = 1, p = 1, hin = 0;  // square images, side hin in, conv2d_out_size() out
};
// One basic block; slots are NHWC activation offsets (norm outputs alias their inputs without a norm).
//   post (ResNet v1): c1 = conv1(x), n1 = norm1(c1), a1 = act(n1), c2 = conv2(a1), n2 = norm2(c2) = f,
//                     s = x | norm_sc(sc(x)), z = R(s, f), y = act(z)
//   pre  (ResNet v2): n1 = norm1(x), a1 = act(n1), c1 = conv1(a1), n2 = norm2(c1), a2 = act(n2),
//                     c2 = conv2(a2) = f, s = x | sc(a1), y = R(s, f)
struct CnnBlock {
  int block = 0, cin = 0, cout = 0, stride = 1, hin = 0, hout = 0;
  ConvSite conv1, conv2, sc;  // sc.w == kNoOffset: identity shortcut (or no shortcut at all)
  NormSite n1, n2, nsc;       // nsc only for post with a projection
  size_t rz = kNoOffset;
  size_t x = 0, c1 = 0, n1o = 0, a1 = 0, c2 = 0, n2o = 0, a2 = 0, sco = 0, sno = 0, z = 0, y = 0;
};
// The cnn's walk as data: the forward runs ModelPlan::cnn_ops in order and the backward runs each op's
// backward in reverse order, so the placement (ResNet v1 post, v2 pre) is only the order of this list,
// written once by make_plan (plan.cpp), as the mlp's and gpt's is the SubPlan fields. Global pooling
// and the head follow the list in both placements.
enum class CnnOpKind { Conv, Norm, Act, Residual };
struct CnnOp {
  CnnOpKind kind = CnnOpKind::Act;
  size_t in = 0, out = 0;           // activation offsets; a Conv with in == kNoOffset reads the images
  size_t skip = 0, rz = kNoOffset;  // Residual: out = R(skip, in), ReZero's gate rz
  int per_sample = 0;               // Norm: rows per sample (H*W); Act, Residual: floats per sample
  ConvSite conv;
  NormSite norm;
};
// Where a norm's statistics live, for naming the site of a zero variance (eps = 0).
struct NormStatSite {
  std::string name;
  int block = -1;
  size_t rstd = 0;
  int C = 0, positions = 1;  // positions per sample (H*W for a conv, 1 for the mlp)
};

struct ModelPlan {
  ModelConfig cfg;
  int vocab = 0, max_rows = 0;
  std::vector<Slice> slices;
  size_t num_params = 0, num_acts = 0, num_att = 0;
  std::vector<SubPlan> subs;
  // Every activation buffer as (offset, floats per row), in layout order: the backward zeroes only the
  // rows a batch uses (an mlp's capacity is 256 rows for evaluation while it trains on 32).
  std::vector<std::pair<size_t, size_t>> act_buffers;
  size_t stem_w = kNoOffset, stem_b = kNoOffset, wte = kNoOffset, wpe = kNoOffset, nf_w = kNoOffset, nf_b = kNoOffset,
         head_w = kNoOffset, head_b = kNoOffset;
  size_t x0 = 0, hf = 0, hf_m = 0, hf_r = 0, logits = 0, probs = 0;
  size_t nf_buf = kNoOffset;
  // Non-trainable buffers (BatchNorm running statistics), PyTorch names, in their own block.
  std::vector<Slice> buffers;
  size_t num_bufs = 0;
  std::vector<NormStatSite> norm_stats;
  size_t scratch = 0;  // floats of per-op scratch (attention backward, im2col columns, BatchNorm sums)
  // cnn
  ConvSite stem;
  NormSite stem_norm, final_norm;
  size_t c0 = 0, n0 = 0, fa = 0, pooled = 0;  // stem conv out, its norm out, final activation, pooled [B,4w]
  std::vector<CnnBlock> cnn;
  std::vector<CnnOp> cnn_ops;  // stem, blocks and (pre) the final norm and activation, in forward order

  int num_blocks() const { return cfg.kind == ModelKind::Cnn ? 3 * cfg.depth : cfg.depth; }

  bool sandwich_out(const SubPlan& s) const { return s.nout_w != kNoOffset && cfg.placement == Placement::Sandwich; }
  bool post_out(const SubPlan& s) const { return s.nout_w != kNoOffset && cfg.placement == Placement::Post; }
  // DeepNorm's alpha = (2N)^(1/4) (Wang et al. 2022, decoder-only), 1 otherwise; ReZero reads its gate.
  float deepnorm_alpha() const;
  const SubPlan& last_of_block(int block) const;
};

ModelPlan make_plan(const ModelConfig& cfg, int vocab, int max_rows);
// Bytes a Model built from this plan allocates: parameters and gradients, activations and their
// gradients, attention probabilities, BatchNorm buffers and their saved copy, the per-row losses,
// and the op set's scratch (attention backward, fused backward, im2col columns).
size_t plan_bytes(const ModelPlan& p);

class CpuOps;
class PlanExecutor;

// The CPU model: the plan's executor (exec/plan_executor.cpp, the one walk that the CUDA backend
// runs too) over the CPU op set (exec/host_ops.h: CpuOps), plus initialisation and diagnostics.
class Model {
 public:
  // vocab: number of output classes (2-D classes for mlp, characters for gpt).
  // max_rows: capacity in rows (samples for mlp, batch*context tokens for gpt) of the activation block.
  Model(const ModelConfig& cfg, int vocab, int max_rows);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const { return plan().cfg; }
  int vocab() const { return plan().vocab; }
  int max_rows() const { return plan().max_rows; }
  int blocks() const { return plan().num_blocks(); }
  size_t num_params() const { return plan().num_params; }
  const std::vector<Slice>& slices() const { return plan().slices; }
  const Slice* find(const std::string& name) const;
  const ModelPlan& plan() const;

  float* params();
  const float* params() const;
  float* grads();
  const float* grads() const;

  // Seeded initialisation (PyTorch-like scales; see model.cpp).
  void init(uint32_t seed);

  // mlp: points [B,2], T must be 1. gpt: tokens [B,T]. cnn: points are images [B,H*W] (one channel),
  // T must be 1. With targets, returns the mean loss. The arrays must stay valid until backward().
  double forward(const float* points, const int* tokens, const int* targets, int B, int T);
  // Adds d(loss)/d(params) into grads() for the last forward (which must have had targets).
  void backward();
  void zero_grad();

  // Views into the last forward, valid until the next forward.
  const float* probs() const;                // [B*T, vocab]
  const float* logits() const;               // [B*T, vocab]
  const float* attention(int layer) const;   // gpt: [B, heads, T, T]
  float block_rms(int block) const;          // RMS of the residual stream after the block
  const float* activations() const;          // the activation block (offsets in plan())
  int rows() const;

  // BatchNorm: training mode normalises with batch statistics and updates the running ones; eval
  // mode (the default) uses the running statistics. Only Trainer::step() trains.
  void set_training(bool t);
  bool training() const;
  float* buffers();
  const float* buffers() const;
  const std::vector<Slice>& buffer_slices() const { return plan().buffers; }
  // The executor and its op set, for the train step (exec/train_step.h), which runs on them.
  PlanExecutor& executor() { return *ex_; }
  CpuOps& ops() { return *ops_; }

  // Total bytes allocated: the executor's blocks and the op set's scratch (== plan_bytes(plan())).
  size_t bytes() const;

 private:
  std::unique_ptr<CpuOps> ops_;
  std::unique_ptr<PlanExecutor> ex_;
};

}  // namespace resnorm
