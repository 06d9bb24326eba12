// Model structure: parameter layout and names, causality, no allocation in a train step.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>

#include "trainer.h"
#include "testing.h"

using namespace resnorm;

// Count heap allocations while a flag is set. On glibc every allocation path (operator new,
// Eigen's aligned_malloc) ends in malloc, so the test binary wraps malloc itself; elsewhere
// (wasm) it replaces the global operator new.
namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocs{0};
}  // namespace
#if defined(__GLIBC__)
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* malloc(std::size_t n) {
  if (g_counting) ++g_allocs;
  return __libc_malloc(n);
}
#else
void* operator new(std::size_t n) {
  if (g_counting) ++g_allocs;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

TEST_CASE("gpt parameter layout matches the nanoGPT-style count and PyTorch names", "[model]") {
  Config c = preset("gpt-tiny");
  const int V = 65, C = 128, L = 4, T = 64;
  Model m(c.model, V, 12 * T);
  // wte + wpe + per layer (ln 2C, qkv 3C^2+3C, proj C^2+C, ln 2C, fc 4C^2+4C, proj 4C^2+C) + ln_f 2C + lm_head
  const size_t expect = static_cast<size_t>(V) * C + T * C + L * (12 * C * C + 13 * C) + 2 * C + V * C;
  CHECK(m.num_params() == expect);
  for (const char* name : {"wte.weight", "wpe.weight", "blocks.0.attn.norm_in.weight", "blocks.0.attn.qkv.weight",
                           "blocks.3.mlp.proj.bias", "norm_f.bias", "lm_head.weight"})
    CHECK(m.find(name) != nullptr);
  CHECK(m.find("blocks.0.attn.qkv.weight")->shape == std::vector<int>{3 * C, C});
  // Slices tile the flat block in order, without gaps.
  size_t off = 0;
  for (const Slice& s : m.slices()) {
    CHECK(s.offset == off);
    off += s.size;
  }
  CHECK(off == m.num_params());
}

TEST_CASE("placement decides which norms exist", "[model]") {
  ModelConfig mc;
  mc.depth = 2;
  mc.placement = Placement::Post;
  Model post(mc, 2, 4);
  CHECK(post.find("blocks.0.mlp.norm_out.weight"));
  CHECK_FALSE(post.find("blocks.0.mlp.norm_in.weight"));
  CHECK_FALSE(post.find("norm_f.weight"));
  mc.placement = Placement::Sandwich;
  mc.norm = NormKind::RmsNorm;
  Model sw(mc, 2, 4);
  CHECK(sw.find("blocks.1.mlp.norm_in.weight"));
  CHECK(sw.find("blocks.1.mlp.norm_out.weight"));
  CHECK_FALSE(sw.find("blocks.1.mlp.norm_out.bias"));  // RMSNorm has no bias
  CHECK(sw.find("norm_f.weight"));
  mc.norm = NormKind::None;
  mc.residual = Residual::ReZero;
  Model rz(mc, 2, 4);
  CHECK(rz.find("blocks.0.mlp.rezero"));
  CHECK_FALSE(rz.find("norm_f.weight"));
}

TEST_CASE("gpt is causal: a later token never changes earlier logits", "[model]") {
  Config c = preset("gpt-tiny");
  c.model.depth = 2;
  c.model.width = 32;
  c.model.context = 8;
  c.optim.batch = 1;
  Trainer tr(c, "abcdefghij klmnop\nqrstuvwxyz abc def ghi jkl mno pqr stu vwx yz. " + std::string(200, 'x'));
  std::vector<int> a = {1, 2, 3, 4, 5, 6}, b = a;
  b[4] = 9;
  const auto la = tr.logits(a), lb = tr.logits(b);
  const int V = tr.model().vocab();
  for (int i = 0; i < 4 * V; ++i) CHECK(la[i] == lb[i]);
  bool later_differs = false;
  for (int i = 4 * V; i < 6 * V; ++i) later_differs = later_differs || la[i] != lb[i];
  CHECK(later_differs);
}

TEST_CASE("after the first step, a train step allocates nothing", "[model]") {
  for (const char* name : {"mlp-residual-deep", "gpt-tiny"}) {
    INFO(name);
    Config c = preset(name);
    if (c.is_gpt()) { c.model.depth = 2; c.optim.batch = 2; }
    std::string text;
    if (c.is_gpt()) for (int i = 0; i < 2000; ++i) text += static_cast<char>('a' + (i * 7) % 26);
    Trainer tr(c, text);
    tr.step();
    g_allocs = 0;
    g_counting = true;
    for (int i = 0; i < 3; ++i) tr.step();
    g_counting = false;
    CHECK(g_allocs == 0);
  }
}
