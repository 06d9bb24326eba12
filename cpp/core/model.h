// The model: a config plus a flat list of op calls (forward), and that list reversed (backward).
// Parameters, gradients and activations each live in one allocated block with named slices; the
// block settings (residual x norm x placement) are data read by one sublayer routine, not classes.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "aligned.h"
#include "config.h"

namespace resnorm {

// One named parameter tensor inside the flat parameter block. Names follow PyTorch's
// state_dict convention so a checkpoint loads into tests/torch_ref/model.py as it is.
struct Slice {
  std::string name;
  size_t offset = 0, size = 0;
  std::vector<int> shape;
  int block = -1;      // residual block it belongs to; -1 for stem / embeddings / final norm / head
  bool decay = false;  // weight decay applies (matrices and embeddings only, as nanoGPT)
};

class Model {
 public:
  // vocab: number of output classes (2-D classes for mlp, characters for gpt).
  // max_rows: capacity in rows (samples for mlp, batch*context tokens for gpt) of the activation block.
  Model(const ModelConfig& cfg, int vocab, int max_rows);

  const ModelConfig& config() const { return cfg_; }
  int vocab() const { return vocab_; }
  int max_rows() const { return max_rows_; }
  int blocks() const { return cfg_.depth; }
  size_t num_params() const { return num_params_; }
  const std::vector<Slice>& slices() const { return slices_; }
  const Slice* find(const std::string& name) const;

  float* params() { return params_.data(); }
  const float* params() const { return params_.data(); }
  float* grads() { return grads_.data(); }
  const float* grads() const { return grads_.data(); }

  // Seeded initialisation (PyTorch-like scales; see model.cpp).
  void init(uint32_t seed);

  // mlp: points [B,2], T must be 1. gpt: tokens [B,T]. With targets, returns the mean loss.
  double forward(const float* points, const int* tokens, const int* targets, int B, int T);
  // Adds d(loss)/d(params) into grads() for the last forward (which must have had targets).
  void backward();
  void zero_grad();

  // Views into the last forward, valid until the next forward.
  const float* probs() const;                // [B*T, vocab]
  const float* logits() const;               // [B*T, vocab]
  const float* attention(int layer) const;   // gpt: [B, heads, T, T]
  float block_rms(int block) const;          // RMS of the residual stream after the block
  int rows() const { return B_ * T_; }

  // Total bytes of the allocated blocks (parameters, gradients, activations and their gradients).
  size_t bytes() const;

 private:
  enum class Branch { Act, Attn, Ffn };
  static constexpr size_t npos = static_cast<size_t>(-1);
  struct Sub {
    Branch branch;
    int block = 0, layer = 0;
    size_t nin_w = npos, nin_b = npos, nout_w = npos, nout_b = npos, rz = npos;  // params
    size_t w1 = npos, b1 = npos, w2 = npos, b2 = npos;
    size_t x = 0, h = 0, h_m = 0, h_r = 0, u = 0, v = 0, f = 0, g = 0, g_m = 0, g_r = 0, z = 0, z_m = 0, z_r = 0,
           y = 0;  // activations
    size_t att = 0;  // into att_
  };

  size_t add_param(const std::string& name, std::vector<int> shape, int block, bool decay);
  size_t add_act(size_t per_row);
  void add_norm(const std::string& prefix, int block, size_t& w, size_t& b);
  void build();

  float* P(size_t o) { return params_.data() + o; }
  float* G(size_t o) { return grads_.data() + o; }
  float* A(size_t o) { return acts_.data() + o; }
  float* D(size_t o) { return dacts_.data() + o; }

  void norm_forward(size_t out, size_t mean, size_t rstd, size_t in, size_t w, size_t b, int N);
  void norm_backward(size_t din, size_t dout, size_t in, size_t w, size_t b, size_t mean, size_t rstd, int N);
  float residual_scale(const Sub& s) const;
  void sub_forward(const Sub& s, int N);
  void sub_backward(const Sub& s, int N);

  ModelConfig cfg_;
  int vocab_, max_rows_;
  int B_ = 0, T_ = 0;
  const float* points_ = nullptr;
  const int* tokens_ = nullptr;
  const int* targets_ = nullptr;

  std::vector<Slice> slices_;
  size_t num_params_ = 0, num_acts_ = 0, num_att_ = 0;
  std::vector<Sub> subs_;
  size_t stem_w_ = npos, stem_b_ = npos, wte_ = npos, wpe_ = npos, nf_w_ = npos, nf_b_ = npos, head_w_ = npos,
         head_b_ = npos;
  size_t x0_ = 0, hf_ = 0, hf_m_ = 0, hf_r_ = 0, logits_ = 0, probs_ = 0;

  FloatBuffer params_, grads_, acts_, dacts_, att_, scratch_;
};

}  // namespace resnorm
