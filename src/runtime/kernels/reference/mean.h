// MEAN reference kernels over any set of axes of a (≤4-D, padded to 4-D) tensor.
// `reduce[d]` says whether axis d is reduced; the output keeps the other axes
// in order (keep_dims only changes the output's declared shape, not its data).
//
// int8 follows TFLite's dispatch (kernels/reduce.cc, reference path):
//  - kMultiplierHW: keep_dims, 4-D, axes {1,2}: acc = Σ(x − zp_in),
//    MultiplyByQuantizedMultiplier(acc, in_scale/out_scale), rounded division
//    by the count, + zp_out, clamp (reference_integer_ops::Mean).
//  - kSameParams: same scale and zero point: Σx / count, truncating.
//  - kFloatRescale: otherwise: round((Σx/count)·s + (−zp_in·s + 0.5)) + zp_out,
//    clamp, s = in_scale/out_scale, in float (QuantizedMeanOrSum).
#pragma once
#include <algorithm>
#include <cmath>

#include "runtime/kernels/types.h"

namespace kws::rt {

enum class MeanInt8Mode { kMultiplierHW, kSameParams, kFloatRescale };

struct MeanInt8Params {
  MeanInt8Mode mode = MeanInt8Mode::kFloatRescale;
  int32_t input_zero_point = 0, output_zero_point = 0;
  float scale = 1.0f;          // in_scale / out_scale (float rescale)
  int32_t multiplier = 0;      // in_scale / out_scale as Q31 (multiplier mode)
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

// `sum` is caller scratch with OutputCount floats (Eval never allocates).
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
  const int32_t sub = p.mode == MeanInt8Mode::kMultiplierHW ? p.input_zero_point : 0;
  ForEachReduced(dims, reduce, [&](int64_t o, int64_t i) { acc[o] += int32_t(input[i]) - sub; });
  for (int64_t o = 0; o < no; ++o) {
    int32_t v;
    switch (p.mode) {
      case MeanInt8Mode::kMultiplierHW: {
        int32_t a = MultiplyByQuantizedMultiplier(acc[o], p.multiplier, p.shift);
        a = a > 0 ? (a + count / 2) / count : (a - count / 2) / count;
        v = a + p.output_zero_point;
        break;
      }
      case MeanInt8Mode::kSameParams:
        v = acc[o] / count;
        break;
      case MeanInt8Mode::kFloatRescale:
      default: {
        const float bias = float(-p.input_zero_point) * p.scale + 0.5f;
        const float mean = float(acc[o]) / float(count);
        float r = std::round(mean * p.scale + bias) + float(p.output_zero_point);
        r = std::clamp(r, -128.0f, 127.0f);
        v = static_cast<int32_t>(r);
        break;
      }
    }
    output[o] = static_cast<int8_t>(std::clamp(v, -128, 127));
  }
}

}  // namespace ref
}  // namespace kws::rt
