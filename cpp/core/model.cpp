// The CPU model. The model itself is data: make_plan (plan.cpp) lays out the parameter and
// activation blocks and lists the sublayers with their block settings; the walk over that plan, one
// op call after another, is PlanExecutor (exec/plan_executor.cpp), the same walk the CUDA backend
// runs; the ops are the CPU core's (ops/), called through CpuOps (exec/host_ops.h). What stays here
// is what only the CPU model has: PyTorch-like initialisation and the diagnostics the trainer reads.
// Every sublayer (the MLP block's Linear+activation, the transformer's attention and MLP) is wrapped
// by the same residual/norm/placement rule, read from the plan:
//   pre:      y = R(x, F(Norm(x)))          (Xiong et al. 2020; final norm before the head)
//   post:     y = Norm(R(x, F(x)))          (Vaswani et al. 2017)
//   sandwich: y = R(x, Norm(F(Norm(x))))    (Ding et al. 2021, CogView)
// with R(x, f) = f | x + f | x + a*f (ReZero) | alpha*x + f (DeepNorm).
#include "model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "error.h"
#include "exec/host_ops.h"
#include "exec/plan_executor.h"
#include "parallel.h"
#include "rng.h"
#include "sum_squares.h"

namespace resnorm {

namespace {
bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}
}  // namespace

Model::Model(const ModelConfig& cfg, int vocab, int max_rows)
    : ops_(std::make_unique<CpuOps>()), ex_(std::make_unique<PlanExecutor>(*ops_, cfg, vocab, max_rows)) {}
Model::~Model() = default;

const ModelPlan& Model::plan() const { return ex_->plan(); }
float* Model::params() { return ex_->params(); }
const float* Model::params() const { return ex_->params(); }
float* Model::grads() { return ex_->grads(); }
const float* Model::grads() const { return ex_->grads(); }
const float* Model::activations() const { return ex_->acts(); }
int Model::rows() const { return ex_->rows(); }
void Model::set_training(bool t) { ex_->set_training(t); }
bool Model::training() const { return ex_->training(); }
float* Model::buffers() { return ex_->buffers(); }
const float* Model::buffers() const { return ex_->buffers(); }

// The plan itself (make_plan, the layout and the cnn's stages) is built in plan.cpp.

const Slice* Model::find(const std::string& name) const {
  for (const auto& s : plan().slices)
    if (s.name == name) return &s;
  return nullptr;
}

// Initialisation, PyTorch's default scales: nn.Linear weights and biases U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)); nn.Conv2d the same with fan_in = IC*K*K (kaiming_uniform_ with a = sqrt(5) gives
// bound gain * sqrt(3 / fan_in) = sqrt(1/3) * sqrt(3 / fan_in)); nn.Embedding N(0, 1); norm gains 1
// and biases 0 (BatchNorm too; its running mean 0, running variance 1, count 0); ReZero gates 0 (Bachlechner
// et al. 2020). DeepNorm (Wang et al. 2022, decoder-only) scales the branch weights by
// beta = (8N)^(-1/4): the MLP block's fc; the transformer's value part of qkv, attention proj,
// MLP fc and proj.
void Model::init(uint32_t seed) {
  Rng rng(seed, /*stream=*/0x1417);
  const ModelPlan& mp = plan();
  const bool deepnorm = mp.cfg.residual == Residual::DeepNorm;
  const bool gpt = mp.cfg.kind == ModelKind::Gpt;
  const auto beta = static_cast<float>(std::pow(8.0 * mp.cfg.depth, -0.25));
  int fan_in = 1;
  for (const Slice& s : mp.slices) {
    float* p = params() + s.offset;
    const bool is_norm = s.name.find("norm_") != std::string::npos;  // norm_in, norm_out, norm_f
    if (is_norm) { std::fill(p, p + s.size, ends_with(s.name, ".weight") ? 1.0f : 0.0f); continue; }
    if (ends_with(s.name, ".rezero")) { std::fill(p, p + s.size, 0.0f); continue; }
    if (s.name == "wte.weight" || s.name == "wpe.weight") {
      for (size_t i = 0; i < s.size; ++i) p[i] = rng.normal();
      continue;
    }
    if (!ends_with(s.name, ".bias")) {  // a bias follows its weight; a conv's fan_in is IC * K * K
      fan_in = 1;
      for (size_t d = 1; d < s.shape.size(); ++d) fan_in *= s.shape[d];
    }
    const float k = 1.0f / std::sqrt(static_cast<float>(fan_in));
    for (size_t i = 0; i < s.size; ++i) p[i] = rng.uniform(-k, k);
    if (!deepnorm) continue;
    if (ends_with(s.name, "mlp.fc.weight") || (gpt && ends_with(s.name, ".proj.weight")))
      for (size_t i = 0; i < s.size; ++i) p[i] *= beta;
    if (ends_with(s.name, "attn.qkv.weight"))  // rows 2C..3C hold the value projection
      for (size_t i = 2 * s.size / 3; i < s.size; ++i) p[i] *= beta;
  }
  for (const Slice& s : mp.buffers)
    std::fill(buffers() + s.offset, buffers() + s.offset + s.size, ends_with(s.name, ".running_var") ? 1.0f : 0.0f);
  zero_grad();
}

void Model::zero_grad() {
  float* g = grads();
  parallel_elementwise(num_params(), {g}, [&](size_t o, size_t k) { std::fill_n(g + o, k, 0.0f); });
}

// The forward and backward: the executor's walk (exec/plan_executor.cpp) on the CPU ops.
double Model::forward(const float* points, const int* tokens, const int* targets, int B, int T) {
  ex_->set_batch(points, tokens, targets, B, T, /*buckets=*/false);
  double loss = 0.0;
  ex_->forward(targets ? &loss : nullptr);
  return loss;
}

void Model::backward() { ex_->backward(); }

const float* Model::probs() const { return ex_->probs(); }
const float* Model::logits() const { return ex_->logits(); }

const float* Model::attention(int layer) const {
  const ModelPlan& p = plan();
  if (p.cfg.kind != ModelKind::Gpt || layer < 0 || layer >= p.cfg.depth)
    throw Error("model: attention layer " + std::to_string(layer) + " out of range (0.." +
                std::to_string(p.cfg.depth - 1) + ")");
  return ex_->att() + p.subs[static_cast<size_t>(layer) * 2].att;
}

float Model::block_rms(int block) const {
  const ModelPlan& p = plan();
  const float* y;
  size_t n;
  if (p.cfg.kind == ModelKind::Cnn) {
    const CnnBlock& k = p.cnn[static_cast<size_t>(block)];
    y = ex_->acts() + k.y;
    n = static_cast<size_t>(ex_->B()) * k.hout * k.hout * k.cout;
  } else {
    y = ex_->acts() + p.last_of_block(block).y;
    n = static_cast<size_t>(ex_->rows()) * p.cfg.width;
  }
  return static_cast<float>(std::sqrt(sum_squares(y, n) / static_cast<double>(n)));
}

size_t Model::bytes() const { return ex_->bytes() + sizeof(float) * ops_->scratch_floats(); }

}  // namespace resnorm
