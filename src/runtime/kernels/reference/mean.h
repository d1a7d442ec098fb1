// MEAN reference kernels over any set of axes of a (≤4-D, padded to 4-D) tensor.
// `reduce[d]` says whether axis d is reduced; the output keeps the other axes
// in order (keep_dims only changes the output's declared shape, not its data).
//
// int8, acc = Σ(x − zp_in) over the reduced elements:
//  - kReference (reference_integer_ops::Mean, TFLite's integer mean):
//    MultiplyByQuantizedMultiplier(acc, in_scale/out_scale), then division by
//    the count rounded half away from zero, + zp_out, clamp.
//  - kXnnpack (TFLite's default delegate): float(acc)·(in_scale/out_scale/count),
//    clamped, rounded half to even, + zp_out.
// Both matched the official interpreter on every tested case (keep_dims or
// not, equal or different in/out parameters). Older TFLite builds had a float
// path for keep_dims=false (QuantizedMeanOrSum) that is NOT reproduced here:
// it disagrees with the current official interpreter in ~10% of outputs.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/kernels/types.h"

namespace kws::rt {

enum class MeanInt8Mode { kReference, kXnnpack };

struct MeanInt8Params {
  MeanInt8Mode mode = MeanInt8Mode::kReference;
  int32_t input_zero_point = 0, output_zero_point = 0;
  float xnn_scale = 1.0f;      // in_scale / out_scale / count (XNNPACK)
  int32_t multiplier = 0;      // in_scale / out_scale as Q31 (reference)
  int shift = 0;
};

namespace ref {

// Calls fn(out_index, in_index) for every input element, in input order.
template <typename Fn>
inline void ForEachReduced(const int dims[4], const bool reduce[4], Fn fn) {
  int64_t ostride[4];
  int64_t s = 1;
  for (int d = 3; d >= 0; --d) {
    ostride[d] = reduce[d] ? 0 : s;
    if (!reduce[d]) s *= dims[d];
  }
  int64_t in = 0;
  for (int a = 0; a < dims[0]; ++a)
    for (int b = 0; b < dims[1]; ++b)
      for (int c = 0; c < dims[2]; ++c)
        for (int d = 0; d < dims[3]; ++d, ++in)
          fn(a * ostride[0] + b * ostride[1] + c * ostride[2] + d * ostride[3], in);
}

inline int64_t ReducedCount(const int dims[4], const bool reduce[4]) {
  int64_t n = 1;
  for (int d = 0; d < 4; ++d)
    if (reduce[d]) n *= dims[d];
  return n;
}

inline int64_t OutputCount(const int dims[4], const bool reduce[4]) {
  int64_t n = 1;
  for (int d = 0; d < 4; ++d)
    if (!reduce[d]) n *= dims[d];
  return n;
}

inline void MeanFloat(const int dims[4], const bool reduce[4], const float* input, float* output) {
  const int64_t no = OutputCount(dims, reduce);
  std::fill(output, output + no, 0.0f);
  ForEachReduced(dims, reduce, [&](int64_t o, int64_t i) { output[o] += input[i]; });
  const float count = float(ReducedCount(dims, reduce));
  for (int64_t o = 0; o < no; ++o) output[o] /= count;
}

// `acc` is caller scratch with OutputCount int32s.
inline void MeanInt8(const MeanInt8Params& p, const int dims[4], const bool reduce[4], const int8_t* input,
                     int32_t* acc, int8_t* output) {
  const int64_t no = OutputCount(dims, reduce);
  const int32_t count = static_cast<int32_t>(ReducedCount(dims, reduce));
  std::fill(acc, acc + no, 0);
  ForEachReduced(dims, reduce, [&](int64_t o, int64_t i) { acc[o] += int32_t(input[i]) - p.input_zero_point; });
  for (int64_t o = 0; o < no; ++o) {
    int64_t v;
    if (p.mode == MeanInt8Mode::kXnnpack) {
      float f = float(acc[o]) * p.xnn_scale;
      f = std::clamp(f, float(-128 - p.output_zero_point), float(127 - p.output_zero_point));
      v = int64_t(std::nearbyint(f)) + p.output_zero_point;
    } else {
      int32_t a = MultiplyByQuantizedMultiplier(acc[o], p.multiplier, p.shift);
      a = a > 0 ? (a + count / 2) / count : (a - count / 2) / count;
      v = int64_t(a) + p.output_zero_point;
    }
    output[o] = static_cast<int8_t>(std::clamp<int64_t>(v, -128, 127));
  }
}

// REDUCE_MAX: the largest element of each reduced group (TFLite's comparison
// `in > current`, starting from the type's lowest value: NaN never wins).
template <typename T>
inline void ReduceMax(const int dims[4], const bool reduce[4], const T* input, T* output) {
  const int64_t no = OutputCount(dims, reduce);
  std::fill(output, output + no, std::numeric_limits<T>::lowest());
  ForEachReduced(dims, reduce, [&](int64_t o, int64_t i) {
    if (input[i] > output[o]) output[o] = input[i];
  });
}

}  // namespace ref
}  // namespace kws::rt
