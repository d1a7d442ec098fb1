// ADD and SUB (with broadcasting, fused activation), float32 and int8.
//
// int8 follows TFLite's reference kernels (kernels/add.cc, sub.cc): both inputs
// are shifted left by 20 bits, each rescaled by s_i / (2·max(s1, s2)) with a
// Q31 multiplier (exponent <= 0), summed (or subtracted), and the sum rescaled
// by 2·max(s1, s2) / (2^20 · s_out); then + output zero point and clamped to the
// activation range.
#pragma once
#include <algorithm>
#include <cstdint>

#include "runtime/kernels/reference/broadcast.h"
#include "runtime/kernels/types.h"

namespace kws::rt::ref {

struct AddInt8Params {
  int32_t input1_offset = 0, input2_offset = 0;  // −zero points
  int32_t output_offset = 0;                      // +zero point
  int left_shift = 20;
  int32_t input1_multiplier = 0, input2_multiplier = 0, output_multiplier = 0;
  int input1_shift = 0, input2_shift = 0, output_shift = 0;
  int32_t act_min = -128, act_max = 127;
  bool subtract = false;
};

inline void PrepareAddInt8(float s1, float s2, float so, bool subtract, AddInt8Params* p) {
  p->left_shift = 20;
  p->subtract = subtract;
  const double twice_max = 2.0 * std::max(double(s1), double(s2));
  QuantizeMultiplier(double(s1) / twice_max, &p->input1_multiplier, &p->input1_shift);
  QuantizeMultiplier(double(s2) / twice_max, &p->input2_multiplier, &p->input2_shift);
  QuantizeMultiplier(twice_max / (double(1 << p->left_shift) * double(so)), &p->output_multiplier, &p->output_shift);
}

inline void AddFloat(const Broadcast4& b, const FloatAct& act, bool subtract, const float* x1, const float* x2,
                     float* y) {
  ForEachBroadcast(b, [&](int64_t o, int64_t i1, int64_t i2) {
    const float v = subtract ? x1[i1] - x2[i2] : x1[i1] + x2[i2];
    y[o] = std::min(std::max(v, act.min), act.max);
  });
}

inline void AddInt8(const Broadcast4& b, const AddInt8Params& p, const int8_t* x1, const int8_t* x2, int8_t* y) {
  ForEachBroadcast(b, [&](int64_t o, int64_t i1, int64_t i2) {
    const int32_t a = (p.input1_offset + x1[i1]) * (1 << p.left_shift);
    const int32_t c = (p.input2_offset + x2[i2]) * (1 << p.left_shift);
    const int32_t sa = MultiplyByQuantizedMultiplier(a, p.input1_multiplier, p.input1_shift);
    const int32_t sc = MultiplyByQuantizedMultiplier(c, p.input2_multiplier, p.input2_shift);
    const int32_t sum = p.subtract ? sa - sc : sa + sc;
    const int64_t v = int64_t(MultiplyByQuantizedMultiplier(sum, p.output_multiplier, p.output_shift)) + p.output_offset;
    y[o] = static_cast<int8_t>(std::clamp<int64_t>(v, p.act_min, p.act_max));
  });
}

}  // namespace kws::rt::ref
