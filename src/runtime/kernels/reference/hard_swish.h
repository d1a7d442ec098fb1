// HARD_SWISH: x · relu6(x + 3) / 6 (Howard et al. 2019, "Searching for
// MobileNetV3"). float32 as TFLite's reference kernel writes it; int8 with
// TFLite's 16-bit fixed-point arithmetic (kernels/internal/reference/
// hard_swish.h): the input on a 2^7-finer scale, a "relu-ish" factor in [0, 1]
// as a Q15 value, their rounding-toward-zero product, then the output shift.
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>

#include "runtime/kernels/types.h"

namespace kws::rt {

struct HardSwishParams {
  int32_t input_zero_point = 0, output_zero_point = 0;
  int16_t reluish_multiplier = 0;  // Q15
  int reluish_exponent = 0;
  int16_t output_multiplier = 0;   // Q15
  int output_exponent = 0;         // <= 0
};

// A Q31 multiplier rounded to Q15 (TFLite DownScaleInt32ToInt16Multiplier).
inline int16_t DownScaleToQ15(int32_t m) {
  constexpr int32_t kRound = 1 << 15;
  if (m >= std::numeric_limits<int32_t>::max() - kRound) return std::numeric_limits<int16_t>::max();
  return static_cast<int16_t>((m + kRound) >> 16);
}

// Returns false when the scales cannot be represented (output exponent > 0).
inline bool PrepareHardSwish(float input_scale, int32_t input_zp, float output_scale, int32_t output_zp,
                             HardSwishParams* p) {
  p->input_zero_point = input_zp;
  p->output_zero_point = output_zp;
  const float hires_input_scale = (1.0f / 128.0f) * input_scale;
  const float reluish_scale = 3.0f / 32768.0f;
  int32_t m = 0;
  QuantizeMultiplier(hires_input_scale / output_scale, &m, &p->output_exponent);
  p->output_multiplier = DownScaleToQ15(m);
  QuantizeMultiplier(hires_input_scale / reluish_scale, &m, &p->reluish_exponent);
  p->reluish_multiplier = DownScaleToQ15(m);
  return p->output_exponent <= 0;
}

namespace ref {

inline void HardSwishFloat(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * std::min(6.0f, std::max(0.0f, x[i] + 3.0f)) / 6.0f;
}

namespace q15 {
// gemmlowp's 16-bit SaturatingRoundingDoublingHighMul.
inline int16_t RoundingHighMul(int16_t a, int16_t b) {
  if (a == b && a == std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::max();
  const int32_t ab = int32_t(a) * int32_t(b);
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<int16_t>((ab + nudge) / (1 << 15));
}
// The same, rounding toward zero (ARM SQDMULH).
inline int16_t HighMul(int16_t a, int16_t b) {
  if (a == b && a == std::numeric_limits<int16_t>::min()) return std::numeric_limits<int16_t>::max();
  return static_cast<int16_t>((int32_t(a) * int32_t(b)) / (1 << 15));
}
inline int16_t SaturatingLeftShift(int16_t v, int amount) {
  const int64_t r = int64_t(v) * (int64_t(1) << amount);
  return static_cast<int16_t>(std::clamp<int64_t>(r, std::numeric_limits<int16_t>::min(),
                                                  std::numeric_limits<int16_t>::max()));
}
inline int16_t RoundingDivideByPOT(int16_t x, int exponent) {
  return static_cast<int16_t>(kws::rt::RoundingDivideByPOT(int32_t(x), std::min(exponent, 31)));
}
}  // namespace q15

inline void HardSwishInt8(const HardSwishParams& p, int64_t n, const int8_t* x, int8_t* y) {
  for (int64_t i = 0; i < n; ++i) {
    const int16_t v = static_cast<int16_t>(int32_t(x[i]) - p.input_zero_point);
    const int16_t hires = static_cast<int16_t>(v * (1 << 7));
    const int16_t preshift_out = q15::RoundingHighMul(hires, p.output_multiplier);
    int16_t reluish = hires;
    if (p.reluish_exponent > 0) reluish = q15::SaturatingLeftShift(reluish, p.reluish_exponent - 1);
    reluish = q15::RoundingHighMul(reluish, p.reluish_multiplier);
    if (p.reluish_exponent > 0) reluish = q15::SaturatingLeftShift(reluish, 1);
    if (p.reluish_exponent < 0) reluish = q15::RoundingDivideByPOT(reluish, -p.reluish_exponent);
    reluish = static_cast<int16_t>((int32_t(reluish) + (1 << 15)) >> 1);  // [−1, 1] → [0, 1]
    const int16_t product = q15::HighMul(reluish, preshift_out);
    int32_t out = q15::RoundingDivideByPOT(product, -p.output_exponent) + p.output_zero_point;
    y[i] = static_cast<int8_t>(std::clamp<int32_t>(out, -128, 127));
  }
}

}  // namespace ref
}  // namespace kws::rt
