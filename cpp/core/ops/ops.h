// The ops of the core. Each op has its forward and backward in one file (ops/<op>.cpp), placed
// side by side in the style of llm.c: arguments ordered outputs, saved values, inputs, sizes, and
// every backward ADDS into its gradient outputs (+=), so a residual's backward is "pass the
// gradient to both branches". All tensors are row-major float32; shapes are in the comments.
#pragma once
#include <cstddef>

#include "../config.h"

namespace resnorm {

// ---- linear.cpp: out = in @ w^T + b (PyTorch nn.Linear layout: w is [OC, IC])
void linear_forward(float* out /*[N,OC]*/, const float* in /*[N,IC]*/, const float* w /*[OC,IC]*/,
                    const float* b /*[OC] or null*/, int N, int IC, int OC);
void linear_backward(float* din /*[N,IC] or null*/, float* dw /*[OC,IC]*/, float* db /*[OC] or null*/,
                     const float* dout /*[N,OC]*/, const float* in /*[N,IC]*/, const float* w /*[OC,IC]*/,
                     int N, int IC, int OC);

// ---- embedding.cpp: out[b,t] = wte[token[b,t]] + wpe[t]
void embedding_forward(float* out /*[B,T,C]*/, const int* tokens /*[B,T]*/, const float* wte /*[V,C]*/,
                       const float* wpe /*[maxT,C]*/, int B, int T, int C);
void embedding_backward(float* dwte /*[V,C]*/, float* dwpe /*[maxT,C]*/, const float* dout /*[B,T,C]*/,
                        const int* tokens /*[B,T]*/, int B, int T, int C);

// ---- layernorm.cpp: out = (in - mean) * rstd * w + b, rstd = 1/sqrt(var + eps) (Ba et al. 2016)
void layernorm_forward(float* out /*[N,C]*/, float* mean /*[N]*/, float* rstd /*[N]*/, const float* in /*[N,C]*/,
                       const float* w /*[C]*/, const float* b /*[C]*/, int N, int C, float eps);
void layernorm_backward(float* din /*[N,C]*/, float* dw /*[C]*/, float* db /*[C]*/, const float* dout /*[N,C]*/,
                        const float* in /*[N,C]*/, const float* w /*[C]*/, const float* mean /*[N]*/,
                        const float* rstd /*[N]*/, int N, int C);

// ---- rmsnorm.cpp: out = in * rstd * w, rstd = 1/sqrt(mean(in^2) + eps) (Zhang & Sennrich 2019)
void rmsnorm_forward(float* out /*[N,C]*/, float* rstd /*[N]*/, const float* in /*[N,C]*/, const float* w /*[C]*/,
                     int N, int C, float eps);
void rmsnorm_backward(float* din /*[N,C]*/, float* dw /*[C]*/, const float* dout /*[N,C]*/, const float* in /*[N,C]*/,
                      const float* w /*[C]*/, const float* rstd /*[N]*/, int N, int C);

// ---- activation.cpp: ReLU, tanh, GELU (tanh approximation, as PyTorch approximate='tanh')
void activation_forward(float* out /*[n]*/, const float* in /*[n]*/, size_t n, Activation act);
void activation_backward(float* din /*[n]*/, const float* dout /*[n]*/, const float* in /*[n]*/, size_t n,
                         Activation act);

// ---- attention.cpp: causal multi-head self-attention over a packed qkv (Vaswani et al. 2017)
void attention_forward(float* out /*[B,T,C]*/, float* att /*[B,H,T,T]*/, const float* qkv /*[B,T,3C]*/, int B, int T,
                       int C, int H);
void attention_backward(float* dqkv /*[B,T,3C]*/, float* scratch /*[T,T]*/, const float* dout /*[B,T,C]*/,
                        const float* qkv /*[B,T,3C]*/, const float* att /*[B,H,T,T]*/, int B, int T, int C, int H);
// Mean over batch and query positions of the entropy (nats) of each head's attention row.
float attention_entropy_head(const float* att /*[B,H,T,T]*/, int B, int T, int H, int h);

// ---- cross_entropy.cpp: mean softmax cross-entropy over N rows
double cross_entropy_forward(float* probs /*[N,V]*/, const float* logits /*[N,V]*/, const int* targets /*[N]*/,
                             int N, int V);
void cross_entropy_backward(float* dlogits /*[N,V]*/, const float* probs /*[N,V]*/, const int* targets /*[N]*/,
                            int N, int V);

// ---- residual.cpp: how a sublayer's branch output f meets its input x
//   none: out = f   identity: out = x + f   rezero: out = x + a*f   deepnorm: out = a*x + f (a = alpha)
//   doubled: out = f + f (no shortcut at all: the article's `return x + x` after x = F(x))
void residual_forward(float* out /*[n]*/, const float* x /*[n]*/, const float* f /*[n]*/, size_t n, Residual kind,
                      float a);
// da (rezero only) receives sum(dout * f).
void residual_backward(float* dx /*[n]*/, float* df /*[n]*/, float* da /*[1] or null*/, const float* dout /*[n]*/,
                       const float* f /*[n]*/, size_t n, Residual kind, float a);

// ---- conv2d.cpp: 2-D convolution without bias over NHWC activations, PyTorch weight layout, as
// im2col + GEMM. cols/dcols are scratch of [B*Ho*Wo, IC*K*K]; Ho = conv2d_out_size(H, K, S, P).
int conv2d_out_size(int in, int K, int S, int P);
void conv2d_forward(float* out /*[B,Ho,Wo,OC]*/, float* cols /*scratch*/, const float* in /*[B,H,W,IC]*/,
                    const float* w /*[OC,IC,K,K]*/, int B, int H, int W, int IC, int OC, int K, int S, int P);
void conv2d_backward(float* din /*[B,H,W,IC] or null*/, float* dw /*[OC,IC,K,K]*/, float* cols /*scratch*/,
                     float* dcols /*scratch*/, const float* dout /*[B,Ho,Wo,OC]*/, const float* in /*[B,H,W,IC]*/,
                     const float* w /*[OC,IC,K,K]*/, int B, int H, int W, int IC, int OC, int K, int S, int P);

// ---- pool.cpp: global average pooling over HW positions of [B,HW,C]
void global_avgpool_forward(float* out /*[B,C]*/, const float* in /*[B,HW,C]*/, int B, int HW, int C);
void global_avgpool_backward(float* din /*[B,HW,C]*/, const float* dout /*[B,C]*/, int B, int HW, int C);

// ---- batchnorm.cpp: per-channel normalisation over the N rows of [N,C] (Ioffe & Szegedy 2015).
// train: batch statistics (mean, rstd saved for backward), running statistics updated with momentum;
// eval: running statistics, nothing updated. Backward is for train mode; scratch holds [2C].
void batchnorm_forward(float* out /*[N,C]*/, float* mean /*[C]*/, float* rstd /*[C]*/, float* running_mean /*[C]*/,
                       float* running_var /*[C]*/, const float* in /*[N,C]*/, const float* w /*[C]*/,
                       const float* b /*[C]*/, int N, int C, float eps, float momentum, bool train);
void batchnorm_backward(float* din /*[N,C]*/, float* dw /*[C]*/, float* db /*[C]*/, float* scratch /*[2C]*/,
                        const float* dout /*[N,C]*/, const float* in /*[N,C]*/, const float* w /*[C]*/,
                        const float* mean /*[C]*/, const float* rstd /*[C]*/, int N, int C);

}  // namespace resnorm
