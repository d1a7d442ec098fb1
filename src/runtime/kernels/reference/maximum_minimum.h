// MAXIMUM / MINIMUM with broadcasting (TFLite kernels/maximum_minimum.cc:
// `a > b ? a : b` and `a < b ? a : b`, so a NaN in the first input yields the
// second). int8 compares the stored values: inputs and output share scale and
// zero point.
#pragma once
#include <cstdint>

#include "runtime/kernels/reference/broadcast.h"

namespace kws::rt::ref {

template <typename T>
inline void Maximum(const Broadcast4& b, const T* x1, const T* x2, T* y) {
  ForEachBroadcast(b, [&](int64_t o, int64_t i1, int64_t i2) { y[o] = x1[i1] > x2[i2] ? x1[i1] : x2[i2]; });
}

template <typename T>
inline void Minimum(const Broadcast4& b, const T* x1, const T* x2, T* y) {
  ForEachBroadcast(b, [&](int64_t o, int64_t i1, int64_t i2) { y[o] = x1[i1] < x2[i2] ? x1[i1] : x2[i2]; });
}

}  // namespace kws::rt::ref
