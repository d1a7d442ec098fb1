// Shapes and parameter structs the runtime kernels take (NHWC throughout).
// Kernels are plain functions: params struct + shapes + pointers, no
// allocation, no validation (the interpreter's Prepare checks every shape).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "runtime/kernels/fixed_point.h"

namespace kws::rt {

struct Shape4 {
  int n = 1, h = 1, w = 1, c = 1;
  int64_t size() const { return int64_t(n) * h * w * c; }
};

// Offset of (b, y, x, ch) in an NHWC tensor.
inline int64_t Offset(const Shape4& s, int b, int y, int x, int ch) {
  return ((int64_t(b) * s.h + y) * s.w + x) * s.c + ch;
}

// CONV_2D / DEPTHWISE_CONV_2D / pooling geometry.
struct ConvGeometry {
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0;  // rows/cols of implicit zeros before the input
  int depth_multiplier = 1;       // depthwise only
};

// Float kernels: fused activation as a clamp.
struct FloatAct {
  float min = -3.402823466e+38f;
  float max = 3.402823466e+38f;
};

// Quantized kernels: offsets and clamps; per-channel multipliers live in the
// interpreter's prepared data and are passed as arrays (per-tensor = same value
// for every channel).
struct QuantParams {
  int32_t input_offset = 0;   // −input_zero_point
  int32_t weight_offset = 0;  // −weight_zero_point (FULLY_CONNECTED only; 0 for symmetric)
  int32_t output_offset = 0;  // +output_zero_point
  int32_t act_min = -128, act_max = 127;
  // Non-null: requantize the XNNPACK way (TFLite's default delegate) instead
  // of TFLite's reference fixed point: float(acc)·fp32_scale[c], clamped,
  // rounded half to even. See Requantize().
  const float* fp32_scale = nullptr;
};

// acc (int32, bias included) → int8 output value for channel c.
//  reference: MultiplyByQuantizedMultiplier(acc, multiplier[c], shift[c]) + zp, clamp
//  fp32:      round_half_even(clamp(float(acc)·scale[c], min − zp, max − zp)) + zp
inline int32_t Requantize(int32_t acc, const QuantParams& q, const int32_t* multiplier, const int* shift, int c) {
  if (q.fp32_scale) {
    float v = float(acc) * q.fp32_scale[c];
    v = std::clamp(v, float(q.act_min - q.output_offset), float(q.act_max - q.output_offset));
    return static_cast<int32_t>(std::nearbyint(v)) + q.output_offset;
  }
  // int64: a saturated product plus the zero point must not overflow.
  const int64_t v = int64_t(MultiplyByQuantizedMultiplier(acc, multiplier[c], shift[c])) + q.output_offset;
  return static_cast<int32_t>(std::clamp<int64_t>(v, q.act_min, q.act_max));
}

// Hybrid (dynamic-range) kernels: float activations, int8 weights.
struct HybridParams {
  FloatAct act;
};

}  // namespace kws::rt
