// 64-byte aligned buffers for the flat parameter / gradient / activation blocks. Eigen's
// vectorised reductions peel scalars until an aligned address, so the summation order (and the
// last bits of the result) would depend on where malloc put a buffer; fixed alignment makes every
// run of the same build bit-identical.
#pragma once
#include <cstdlib>
#include <new>
#include <vector>

namespace resnorm {

template <class T>
struct AlignedAllocator {
  using value_type = T;
  static constexpr std::size_t kAlign = 64;
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(std::size_t n) {
    const std::size_t bytes = ((n * sizeof(T) + kAlign - 1) / kAlign) * kAlign;
    void* p = std::aligned_alloc(kAlign, bytes ? bytes : kAlign);
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) { std::free(p); }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
  template <class U>
  bool operator!=(const AlignedAllocator<U>&) const { return false; }
};

using FloatBuffer = std::vector<float, AlignedAllocator<float>>;

}  // namespace resnorm
