// Comparisons with broadcasting → bool (one byte, 0 or 1), as TFLite's
// kernels/comparisons.cc.
#pragma once
#include <cstdint>

#include "runtime/kernels/reference/broadcast.h"

namespace kws::rt::ref {

template <typename T>
inline void GreaterEqual(const Broadcast4& b, const T* x1, const T* x2, bool* y) {
  ForEachBroadcast(b, [&](int64_t o, int64_t i1, int64_t i2) { y[o] = x1[i1] >= x2[i2]; });
}

}  // namespace kws::rt::ref
