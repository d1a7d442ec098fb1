// Shapes and parameter structs the runtime kernels take (NHWC throughout).
// Kernels are plain functions: params struct + shapes + pointers, no
// allocation, no validation (the interpreter's Prepare checks every shape).
#pragma once
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
};

// Hybrid (dynamic-range) kernels: float activations, int8 weights.
struct HybridParams {
  FloatAct act;
};

}  // namespace kws::rt
