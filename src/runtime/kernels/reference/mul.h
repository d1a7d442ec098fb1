// MUL (with broadcasting, fused activation), float32 and int8.
// int8 (TFLite reference kernels/mul.cc): (x1 − zp1)·(x2 − zp2) rescaled by
// s1·s2/s_out (Q31 multiplier and shift), + output zero point, clamped.
#pragma once
#include <algorithm>
#include <cstdint>

#include "runtime/kernels/reference/broadcast.h"
#include "runtime/kernels/types.h"

namespace kws::rt::ref {

struct MulInt8Params {
  int32_t input1_offset = 0, input2_offset = 0, output_offset = 0;
  int32_t multiplier = 0;
  int shift = 0;
  int32_t act_min = -128, act_max = 127;
};

inline void MulFloat(const Broadcast4& b, const FloatAct& act, const float* x1, const float* x2, float* y) {
  ForEachBroadcast(b, [&](int64_t o, int64_t i1, int64_t i2) {
    y[o] = std::min(std::max(x1[i1] * x2[i2], act.min), act.max);
  });
}

inline void MulInt8(const Broadcast4& b, const MulInt8Params& p, const int8_t* x1, const int8_t* x2, int8_t* y) {
  ForEachBroadcast(b, [&](int64_t o, int64_t i1, int64_t i2) {
    const int32_t prod = (p.input1_offset + x1[i1]) * (p.input2_offset + x2[i2]);
    const int64_t v = int64_t(MultiplyByQuantizedMultiplier(prod, p.multiplier, p.shift)) + p.output_offset;
    y[o] = static_cast<int8_t>(std::clamp<int64_t>(v, p.act_min, p.act_max));
  });
}

}  // namespace kws::rt::ref
