// FULLY_CONNECTED reference kernels. input [batches, depth] (any input shape
// flattened so that the last `depth` elements form one row), weights
// [units, depth], bias [units] (optional), output [batches, units].
#pragma once
#include <algorithm>

#include "runtime/kernels/types.h"

namespace kws::rt::ref {

inline void FullyConnectedFloat(const FloatAct& act, int batches, int depth, int units, const float* input,
                                const float* weights, const float* bias, float* output) {
  for (int b = 0; b < batches; ++b)
    for (int u = 0; u < units; ++u) {
      float acc = 0.0f;
      const float* in = input + int64_t(b) * depth;
      const float* w = weights + int64_t(u) * depth;
      for (int d = 0; d < depth; ++d) acc += in[d] * w[d];
      if (bias) acc += bias[u];
      output[int64_t(b) * units + u] = std::clamp(acc, act.min, act.max);
    }
}

// acc = Σ (w + weight_offset)(x + input_offset) + bias; requantize per unit
// (per-tensor models pass the same multiplier for every unit); clamp.
inline void FullyConnectedInt8(const QuantParams& q, const int32_t* multiplier, const int* shift, int batches,
                               int depth, int units, const int8_t* input, const int8_t* weights,
                               const int32_t* bias, int8_t* output) {
  for (int b = 0; b < batches; ++b)
    for (int u = 0; u < units; ++u) {
      int32_t acc = 0;
      const int8_t* in = input + int64_t(b) * depth;
      const int8_t* w = weights + int64_t(u) * depth;
      for (int d = 0; d < depth; ++d) acc += (int32_t(w[d]) + q.weight_offset) * (int32_t(in[d]) + q.input_offset);
      if (bias) acc += bias[u];
      output[int64_t(b) * units + u] = static_cast<int8_t>(Requantize(acc, q, multiplier, shift, u));
    }
}

// Hybrid: input quantized per batch row (zero_point[b] is 0 for symmetric).
// out = bias + (Σ w·(x − zero_point[b]))·input_scale[b]·weight_scale[u]; clamp.
inline void FullyConnectedHybrid(const FloatAct& act, int batches, int depth, int units, const int8_t* input,
                                 const float* input_scale, const int32_t* input_zero_point,
                                 const int8_t* weights, const float* weight_scale, const float* bias,
                                 float* output) {
  for (int b = 0; b < batches; ++b)
    for (int u = 0; u < units; ++u) {
      int32_t acc = 0;
      const int8_t* in = input + int64_t(b) * depth;
      const int8_t* w = weights + int64_t(u) * depth;
      for (int d = 0; d < depth; ++d) acc += int32_t(w[d]) * (int32_t(in[d]) - input_zero_point[b]);
      float v = bias ? bias[u] : 0.0f;
      v += float(acc) * (input_scale[b] * weight_scale[u]);
      output[int64_t(b) * units + u] = std::clamp(v, act.min, act.max);
    }
}

}  // namespace kws::rt::ref
