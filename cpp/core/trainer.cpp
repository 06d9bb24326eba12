// Trainer: batches, the train step (exec/train_step.cpp, on the model's executor and CPU ops),
// evaluation, inference for the playground, and checkpoints.
#include "trainer.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <cmath>
#include <cstdlib>

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#endif

#include "checkpoint.h"
#include "error.h"
#include "exec/host_ops.h"
#include "exec/train_step.h"
#include "ops/eigen_maps.h"
#include "ops/ops.h"

namespace resnorm {

namespace {

// Milliseconds on a monotonic clock. In WebAssembly, std::chrono's steady_clock goes through
// clock_gettime's JavaScript shim; emscripten_get_now() is the one call underneath it.
double now_ms() {
#ifdef __EMSCRIPTEN__
  return emscripten_get_now();
#else
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
#endif
}

int vocab_for(const Config& cfg, const std::unique_ptr<CharData>& chars) {
  return cfg.is_gpt() ? chars->vocab_size() : cfg.is_cnn() ? kDigitClasses : 2;
}

// A gpt trainer built with a capacity (inference) holds this many sequences of model.context tokens.
int sequences_held(const Config& cfg, int capacity_rows) { return std::max(1, capacity_rows / std::max(1, cfg.model.context)); }

// The model's config, after checking that the whole trainer fits the memory cap: runs in the member
// initialiser list, before the model, the optimiser or the batch buffers are allocated.
const ModelConfig& checked_model(const Config& cfg, int vocab, int capacity_rows) {
  Config c = cfg;
  if (capacity_rows > 0 && !cfg.is_gpt()) c.optim.batch = std::max(c.optim.batch, capacity_rows);
  // gpt with a capacity (inference: `resnorm sample`, the CUDA backend's host copy): the activations of
  // that many tokens, not of a training batch.
  if (capacity_rows > 0 && cfg.is_gpt()) c.optim.batch = sequences_held(cfg, capacity_rows);
  const double need = estimate_bytes(c, cfg.is_cnn() ? 0 : vocab);
  if (need > kMaxModelBytes)
    throw Error("config: this model needs about " + std::to_string(static_cast<long long>(need / (1 << 20))) +
                " MiB, over the memory cap of " + std::to_string(static_cast<long long>(kMaxModelBytes / (1 << 20))) +
                " MiB: reduce model.depth, model.width, model.context or optim.batch");
  return cfg.model;
}

std::unique_ptr<CharData> make_chars(const Config& cfg, const std::string& text, const std::string& vocab) {
  if (!cfg.is_gpt()) return nullptr;
  if (text.empty() && vocab.empty())
    throw Error("data: model.kind = \"gpt\" needs the training text (tinyshakespeare) or a checkpoint's vocabulary");
  auto c = std::make_unique<CharData>(text, vocab);
  if (c->vocab_size() < 2) throw Error("data: the vocabulary needs at least two characters");
  return c;
}

}  // namespace

void configure_eigen() {
  static bool done = false;
  if (done) return;
  done = true;
  Eigen::setNbThreads(1);
  Eigen::setCpuCacheSizes(32 * 1024, 512 * 1024, 8 * 1024 * 1024);  // L1d, L2, L3 typical of these CPUs
}

Trainer::Trainer(const Config& cfg, const std::string& text, const std::string& vocab, int capacity_rows)
    : cfg_(cfg),
      chars_(make_chars(cfg, text, vocab)),
      data2d_(cfg.is_gpt() ? Dataset2D{} : cfg.is_cnn() ? make_digits(text, cfg.data, cfg.data_seed()) : make_dataset(cfg.data, cfg.data_seed(), text)),
      model_((configure_eigen(), checked_model(cfg, vocab_for(cfg, chars_), capacity_rows)), vocab_for(cfg, chars_),
             capacity_rows > 0 ? capacity_rows : training_rows(cfg)),
      batch_rng_(cfg.seed, /*stream=*/0xBA7C) {
  model_.init(cfg.seed);
  // The train step's tables are sized for a training batch. A gpt trainer with a capacity (inference:
  // `resnorm sample`, the playground's inspector, the CUDA backend's host copy, which keeps only the
  // moments a checkpoint carries) holds capacity_rows / context sequences, and its step is sized so, as
  // checked_model estimates it (a step of a full batch would be refused by TrainStep::run).
  Config step_cfg = cfg_;
  if (capacity_rows > 0 && cfg.is_gpt()) step_cfg.optim.batch = sequences_held(cfg, capacity_rows);
  ts_ = std::make_unique<TrainStep>(model_.ops(), model_.executor(), step_cfg);
  // Batches are drawn at full size; an inference-only gpt (no text: `resnorm sample`, the playground's
  // inspection of a checkpoint too big to train) draws none, so it holds only its model's rows.
  const bool inference_only = cfg.is_gpt() && text.empty();
  const int rows = inference_only ? model_.max_rows() : std::max(model_.max_rows(), training_rows(cfg));
  points_.assign(static_cast<size_t>(sample_dim(cfg)) * rows, 0.0f);
  tokens_.assign(static_cast<size_t>(rows), 0);
  targets_.assign(static_cast<size_t>(rows), 0);
}

Trainer::~Trainer() = default;
const StepStats& Trainer::last() const { return ts_->last(); }

size_t Trainer::bytes() const {
  return model_.bytes() + ts_->bytes() + sizeof(float) * points_.size() + sizeof(int) * (tokens_.size() + targets_.size());
}

void Trainer::set_optim(const OptimConfig& o) {
  if (o.name != cfg_.optim.name) throw Error("optim.name cannot change during a run (reset instead)");
  if (o.batch != cfg_.optim.batch) throw Error("optim.batch cannot change during a run (reset instead)");
  cfg_.optim = o;
  ts_->set_hyper(o);
}

void Trainer::fill_batch() {
  const int B = cfg_.optim.batch;
  if (cfg_.is_gpt()) {
    if (chars_->train_size() == 0) throw Error("data: no training text loaded (inference-only trainer)");
    chars_->batch(batch_rng_, false, B, cfg_.model.context, tokens_.data(), targets_.data());
    return;
  }
  const auto dim = static_cast<size_t>(data2d_.dim);
  for (int b = 0; b < B; ++b) {
    const uint32_t i = batch_rng_.below(static_cast<uint32_t>(data2d_.n_train()));
    std::copy_n(data2d_.x_train.data() + dim * i, dim, points_.data() + dim * static_cast<size_t>(b));
    targets_[static_cast<size_t>(b)] = data2d_.y_train[i];
  }
}

// The one train step (exec/train_step.cpp) on this batch: forward, backward, the statistics, the
// guard, clipping and the update, as every backend takes it.
const StepStats& Trainer::step() {
  const double t0 = now_ms();
  fill_batch();
  const int B = cfg_.optim.batch, T = cfg_.is_gpt() ? cfg_.model.context : 1;
  model_.executor().set_batch(points_.data(), tokens_.data(), targets_.data(), B, T, /*buckets=*/true);
  StepStats& st = ts_->run(step_, learning_rate(cfg_.optim, step_));
  ++step_;
  st.ms = now_ms() - t0;
  return st;
}

std::string divergence_message(int step, double loss, double grad_sq, const std::vector<double>& block_sq, double eps,
                               const std::function<std::string()>& zero_variance_site) {
  if (!std::isfinite(loss)) {
    std::string m = "loss is not finite at step " + std::to_string(step);
    // The article's LayerNorm: eps = 0 and a constant (or dead) feature make a variance 0, and 1/std infinite.
    const std::string site = zero_variance_site();
    if (!site.empty()) m += ": division by zero variance in " + site + " (model.eps = " + format_number(eps) + ")";
    return m;
  }
  if (std::isfinite(grad_sq)) return "";
  size_t where = 0;
  while (where < block_sq.size() && std::isfinite(block_sq[where])) ++where;
  return "gradient is not finite" +
         (where < block_sq.size() ? " in block " + std::to_string(where) : std::string(" outside the blocks")) +
         " at step " + std::to_string(step);
}

EvalStats Trainer::evaluate() {
  return evaluate_with([this](const float* points, const int* tokens, const int* targets, int B, int T,
                              const float** probs) {
    const double loss = model_.forward(points, tokens, targets, B, T);
    if (probs) *probs = model_.probs();
    return loss;
  });
}

EvalStats Trainer::evaluate_with(const EvalForward& forward) {
  EvalStats e;
  if (cfg_.is_gpt()) {
    if (chars_->train_size() == 0) throw Error("data: no text loaded (inference-only trainer)");
    const int B = cfg_.optim.batch, T = cfg_.model.context;
    for (int split = 0; split < 2; ++split) {
      Rng rng(cfg_.seed, split ? 0xE7A1 : 0xE7A0);  // the same batches at every evaluation
      double sum = 0.0;
      for (int k = 0; k < cfg_.eval.batches; ++k) {
        chars_->batch(rng, split == 1, B, T, tokens_.data(), targets_.data());
        sum += forward(nullptr, tokens_.data(), targets_.data(), B, T, nullptr);
      }
      (split ? e.val_loss : e.train_loss) = sum / cfg_.eval.batches;
    }
    return e;
  }
  const int cap = model_.max_rows(), K = data2d_.classes;
  const auto dim = static_cast<size_t>(data2d_.dim);
  for (int split = 0; split < 2; ++split) {
    const std::vector<float>& x = split ? data2d_.x_test : data2d_.x_train;
    const std::vector<int>& y = split ? data2d_.y_test : data2d_.y_train;
    const int n = static_cast<int>(y.size());
    double loss = 0.0;
    int correct = 0;
    for (int start = 0; start < n; start += cap) {
      const int m = std::min(cap, n - start);
      const float* pr = nullptr;
      loss += forward(x.data() + dim * static_cast<size_t>(start), nullptr, y.data() + start, m, 1, &pr) * m;
      for (int i = 0; i < m; ++i) {  // the first largest probability (for two classes: class 1 only when above class 0)
        const float* row = pr + static_cast<size_t>(i) * K;
        correct += static_cast<int>(std::max_element(row, row + K) - row) == y[static_cast<size_t>(start + i)];
      }
    }
    (split ? e.val_loss : e.train_loss) = loss / n;
    (split ? e.accuracy : e.train_accuracy) = static_cast<double>(correct) / n;
  }
  return e;
}

void Trainer::predict_grid(float* out, int res, float lo, float hi) {
  if (cfg_.is_gpt() || cfg_.is_cnn()) throw Error("predict_grid: only for model.kind = \"mlp\"");
  if (res < 1 || res > 1024) throw Error("predict_grid: resolution " + std::to_string(res) + " out of range (1..1024)");
  if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi)) throw Error("predict_grid: need finite lo < hi");
  const int cap = model_.max_rows();
  const int n = res * res;
  const float step = (hi - lo) / static_cast<float>(res);
  for (int start = 0; start < n; start += cap) {
    const int m = std::min(cap, n - start);
    for (int k = 0; k < m; ++k) {
      const int idx = start + k, row = idx / res, col = idx % res;
      points_[2 * static_cast<size_t>(k)] = lo + (static_cast<float>(col) + 0.5f) * step;
      points_[2 * static_cast<size_t>(k) + 1] = hi - (static_cast<float>(row) + 0.5f) * step;
    }
    model_.forward(points_.data(), nullptr, nullptr, m, 1);
    const float* pr = model_.probs();
    for (int k = 0; k < m; ++k) out[start + k] = pr[2 * k + 1];
  }
}

const std::string& Trainer::vocab() const {
  static const std::string empty;
  return chars_ ? chars_->vocab() : empty;
}

std::vector<int> Trainer::encode(const std::string& text) const {
  if (!chars_) throw Error("encode: only for model.kind = \"gpt\"");
  return chars_->encode_text(text, "prompt");
}

namespace {
void check_tokens(const std::vector<int>& tokens, int context, int vocab) {
  if (tokens.empty() || static_cast<int>(tokens.size()) > context)
    throw Error("tokens: need 1.." + std::to_string(context) + " tokens (model.context), got " + std::to_string(tokens.size()));
  for (int t : tokens)
    if (t < 0 || t >= vocab) throw Error("tokens: id " + std::to_string(t) + " out of range 0.." + std::to_string(vocab - 1));
}
}  // namespace

std::vector<float> Trainer::logits(const std::vector<int>& tokens) {
  if (!cfg_.is_gpt()) throw Error("logits: only for model.kind = \"gpt\"");
  check_tokens(tokens, cfg_.model.context, model_.vocab());
  const int T = static_cast<int>(tokens.size());
  model_.forward(nullptr, tokens.data(), nullptr, 1, T);
  return std::vector<float>(model_.logits(), model_.logits() + static_cast<size_t>(T) * model_.vocab());
}

std::vector<float> Trainer::attention_map(const std::vector<int>& tokens, int layer) {
  if (!cfg_.is_gpt()) throw Error("attention: only for model.kind = \"gpt\"");
  check_tokens(tokens, cfg_.model.context, model_.vocab());
  if (layer < 0 || layer >= cfg_.model.depth)
    throw Error("attention: layer " + std::to_string(layer) + " out of range 0.." + std::to_string(cfg_.model.depth - 1));
  const int T = static_cast<int>(tokens.size());
  model_.forward(nullptr, tokens.data(), nullptr, 1, T);
  const float* a = model_.attention(layer);
  return std::vector<float>(a, a + static_cast<size_t>(cfg_.model.heads) * T * T);
}

std::string Trainer::sample(const std::string& prompt, int tokens, double temperature, int top_k, uint32_t seed) {
  if (!cfg_.is_gpt()) throw Error("sample: only for model.kind = \"gpt\"");
  if (tokens < 1 || tokens > 100000) throw Error("sample: tokens = " + std::to_string(tokens) + " out of range (1..100000)");
  if (!std::isfinite(temperature) || temperature < 0 || temperature > 100)
    throw Error("sample: temperature must be in 0..100 (0 = greedy)");
  if (top_k < 0) throw Error("sample: top_k must be >= 0 (0 = off)");
  std::vector<int> ctx = encode(prompt);
  if (ctx.empty()) {
    const int nl = chars_->encode('\n');
    ctx.push_back(nl >= 0 ? nl : 0);
  }
  const int V = model_.vocab(), C = cfg_.model.context;
  Rng rng(seed, 0x5A3B);
  std::vector<float> p(static_cast<size_t>(V));
  std::vector<float> sorted(static_cast<size_t>(V));
  std::string out;
  for (int k = 0; k < tokens; ++k) {
    const int T = std::min(static_cast<int>(ctx.size()), C);
    model_.forward(nullptr, ctx.data() + ctx.size() - T, nullptr, 1, T);
    const float* z = model_.logits() + static_cast<size_t>(T - 1) * V;
    int next = 0;
    if (temperature == 0) {
      next = static_cast<int>(std::max_element(z, z + V) - z);
    } else {
      float cut = -INFINITY;
      if (top_k > 0 && top_k < V) {
        std::copy(z, z + V, sorted.begin());
        std::nth_element(sorted.begin(), sorted.begin() + (top_k - 1), sorted.end(), std::greater<float>());
        cut = sorted[static_cast<size_t>(top_k - 1)];
      }
      const float m = *std::max_element(z, z + V);
      double sum = 0.0;
      for (int i = 0; i < V; ++i) {
        p[static_cast<size_t>(i)] = z[i] < cut ? 0.0f : static_cast<float>(std::exp((z[i] - m) / temperature));
        sum += p[static_cast<size_t>(i)];
      }
      double r = rng.uniform() * sum;
      next = V - 1;
      for (int i = 0; i < V; ++i) {
        r -= p[static_cast<size_t>(i)];
        if (r < 0) { next = i; break; }
      }
      while (p[static_cast<size_t>(next)] == 0.0f && next > 0) --next;  // rounding at the end of the scan
    }
    ctx.push_back(next);
    out += chars_->decode(next);
  }
  return out;
}

std::vector<uint8_t> Trainer::save(bool with_state) {
  std::map<std::string, std::string> meta;
  meta["format"] = "resnorm-safetensors-1";
  meta["config"] = config_to_json(cfg_).dump();
  meta["step"] = std::to_string(step_);
  if (chars_) {
    put_vocab_metadata(meta, chars_->vocab());
  }
  std::vector<TensorGroup> state;
  if (with_state) {
    const bool adamw = cfg_.optim.name == OptimName::AdamW;
    meta["optim_state"] = to_string(cfg_.optim.name);
    meta["optim_t"] = std::to_string(ts_->updates());
    meta["batch_rng"] = std::to_string(batch_rng_.state()) + " " + std::to_string(batch_rng_.increment());
    state.push_back({adamw ? kExpAvgPrefix : kMomentumPrefix, ts_->moment1()});
    if (adamw) state.push_back({kExpAvgSqPrefix, ts_->moment2()});
  }
  return write_safetensors(model_.slices(), model_.params(), meta, state, model_.buffer_slices(), model_.buffers());
}

namespace {
// The config, vocabulary and step from an already validated safetensors header (checkpoint.cpp).
CheckpointInfo info_from_view(const SafetensorsView& view) { return checkpoint_info(view); }

}  // namespace

CheckpointInfo read_checkpoint_info(const uint8_t* bytes, size_t n) { return info_from_view(parse_safetensors(bytes, n)); }

// Loading a checkpoint. The rule when its config and this run's disagree (check_checkpoint_fits): the
// checkpoint's model section defines the model its tensors belong to, and this run must have the same
// one, field by field, including what no tensor shape shows (heads, activation, residual none vs
// identity vs deepnorm, eps): any difference refuses the file, naming the
// field. So a checkpoint is always run under the config it was saved with; `resnorm sample` and the
// playground build their model from that config. optim, data, eval and seed are this run's own.
// Then weights that make the forward pass Inf or NaN (finite but huge values) are refused, naming the
// block and tensor: one forward on a fixed small input. Nothing changes unless everything passes.
void Trainer::load(const uint8_t* bytes, size_t n) {
  const SafetensorsView view = parse_safetensors(bytes, n);
  const CheckpointInfo info = check_checkpoint_fits(view, cfg_, vocab(), model_.slices(), model_.buffer_slices());
  const bool with_state = has_optimizer_state(view, model_.slices(), to_string(cfg_.optim.name));
  uint64_t rng_state = 0, rng_inc = 0;
  int optim_t = 0;
  if (with_state) {
    auto meta = [&](const char* key) -> const std::string& {
      auto it = view.metadata.find(key);
      if (it == view.metadata.end())
        throw Error(std::string("checkpoint: it has optimiser state but no \"") + key + "\" in its metadata");
      return it->second;
    };
    const std::string& r = meta("batch_rng");
    char* end = nullptr;
    rng_state = std::strtoull(r.c_str(), &end, 10);
    const char* rest = end;
    rng_inc = std::strtoull(rest, &end, 10);
    const std::string& t = meta("optim_t");
    char* tend = nullptr;
    const long tv = std::strtol(t.c_str(), &tend, 10);
    if (end == rest || *end || t.empty() || *tend || tv < 0 || tv > 1000000000)
      throw Error("checkpoint: bad batch_rng \"" + r + "\" or optim_t \"" + t + "\" in its metadata");
    optim_t = static_cast<int>(tv);
  }
  std::vector<float> keep(model_.params(), model_.params() + model_.num_params());
  std::vector<float> keep_buffers(model_.buffers(), model_.buffers() + model_.plan().num_bufs);
  load_tensors(view, model_.slices(), model_.params());
  try {
    load_buffers(view, model_.slices(), model_.buffer_slices(), model_.buffers());  // changes nothing when it throws
  } catch (...) {
    std::copy(keep.begin(), keep.end(), model_.params());
    throw;
  }
  // The probe: four points of the plane (mlp), or one sequence of the first tokens (gpt).
  const float points2d[8] = {-1.0f, -1.0f, 1.0f, 1.0f, 0.5f, -0.25f, -0.75f, 0.5f};
  // cnn: the first held-out digit (BatchNorm in eval mode: the probe changes no running statistic).
  const float* points = cfg_.is_cnn() ? data2d_.x_test.data() : points2d;
  std::vector<int> tokens;
  const int T = cfg_.is_gpt() ? std::min(cfg_.model.context, 8) : 1;
  const int B = cfg_.is_gpt() || cfg_.is_cnn() ? 1 : std::min(4, model_.max_rows());
  for (int t = 0; t < T; ++t) tokens.push_back(t % model_.vocab());
  model_.forward(cfg_.is_gpt() ? nullptr : points, cfg_.is_gpt() ? tokens.data() : nullptr, nullptr, B, T);
  bool finite = true;
  const float* z = model_.logits();
  for (size_t i = 0; i < static_cast<size_t>(B) * T * model_.vocab() && finite; ++i) finite = std::isfinite(z[i]);
  if (!finite) {
    int block = -1;  // the first block whose output is not finite; -1: the blocks are, the head is not
    for (int b = 0; b < model_.blocks() && block < 0; ++b)
      if (!std::isfinite(model_.block_rms(b))) block = b;
    // The culprit: the largest weight in that block or before it (all tensors when it is the head).
    const Slice* worst = nullptr;
    float worst_abs = -1.0f;
    bool in_block = false;
    for (const Slice& s : model_.slices()) {  // in layout order: stem or embeddings, blocks, final norm, head
      if (block >= 0 && in_block && s.block != block) break;
      in_block = in_block || s.block == block;
      for (size_t i = s.offset; i < s.offset + s.size; ++i)
        if (std::fabs(model_.params()[i]) > worst_abs) worst_abs = std::fabs(model_.params()[i]), worst = &s;
    }
    std::copy(keep.begin(), keep.end(), model_.params());
    std::copy(keep_buffers.begin(), keep_buffers.end(), model_.buffers());
    throw Error("checkpoint: its weights make the forward pass overflow to Inf/NaN " +
                (block >= 0 ? "in block " + std::to_string(block) : std::string("after the last block")) +
                "; the largest weight up to there is in tensor \"" + (worst ? worst->name : std::string("?")) +
                "\" (" + format_number(worst_abs) + ")");
  }
  step_ = info.step;
  ts_->reset();
  if (with_state) {
    const bool adamw = cfg_.optim.name == OptimName::AdamW;
    load_tensor_group(view, model_.slices(), adamw ? kExpAvgPrefix : kMomentumPrefix, ts_->moment1());
    if (adamw) load_tensor_group(view, model_.slices(), kExpAvgSqPrefix, ts_->moment2());
    ts_->set_updates(optim_t);
    batch_rng_.set_state(rng_state, rng_inc);
  }
  model_.zero_grad();
}

}  // namespace resnorm
