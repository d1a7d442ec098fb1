// Stand-alone activations: LOGISTIC, TANH, RELU, RELU6 (float32 and int8).
//
// int8 LOGISTIC / TANH use a 256-entry table built once from the float
// function, as TFLite does (PopulateLookupTable in kernels/activations.cc):
// dequantize each possible input, apply the function, quantize with the output
// scale (LOGISTIC: 1/256, zero point −128; TANH: 1/128, zero point 0).
// int8 RELU / RELU6 (TFLite ReluQuantized): requantize x − zp_in by
// s_in/s_out, add zp_out, clamp to the quantized [0, 6] (or [0, ∞)).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "runtime/kernels/types.h"

namespace kws::rt::ref {

inline void LogisticFloat(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
}

inline void TanhFloat(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

inline void ClampFloat(int64_t n, float lo, float hi, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::min(std::max(x[i], lo), hi);
}

// table[q + 128] for every int8 q. `half_even`: round the scaled value half to
// even (XNNPACK's lrintf) instead of half away from zero (TFLite's std::round).
template <typename F>
inline void PrepareInt8Table(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp, bool half_even, F&& f,
                             int8_t* table) {
  const float inv = 1.0f / out_scale;
  for (int q = -128; q <= 127; ++q) {
    const float x = in_scale * float(q - in_zp);
    const float v = f(x) * inv;
    const float r = half_even ? std::nearbyint(v) : std::round(v);
    const int32_t o = std::isfinite(r) ? int32_t(std::clamp(r, -1000.0f, 1000.0f)) + out_zp : out_zp;
    table[q + 128] = static_cast<int8_t>(std::clamp<int32_t>(o, -128, 127));
  }
}

inline void LookupInt8(int64_t n, const int8_t* table, const int8_t* x, int8_t* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = table[int(x[i]) + 128];
}

struct ReluInt8Params {
  int32_t input_offset = 0, output_offset = 0;  // −zp_in, +zp_out
  int32_t multiplier = 0;
  int shift = 0;
  int32_t act_min = -128, act_max = 127;
};

inline void ReluInt8(int64_t n, const ReluInt8Params& p, const int8_t* x, int8_t* y) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = int64_t(MultiplyByQuantizedMultiplier(int32_t(x[i]) + p.input_offset, p.multiplier, p.shift)) +
                      p.output_offset;
    y[i] = static_cast<int8_t>(std::clamp<int64_t>(v, p.act_min, p.act_max));
  }
}

}  // namespace kws::rt::ref
