// Fixed-point helpers shared by the int8 kernels, with TFLite's exact
// rounding (tensorflow/lite/kernels/internal/common.h and
// quantization_util.cc describe the arithmetic; this is our own code).
//
// A real multiplier m > 0 is stored as (q, shift) with m ≈ q · 2^(shift − 31),
// q a Q31 value in [2^30, 2^31). Applying it to an int32 accumulator:
//
//   double rounding (TFLite's classic path, gemmlowp):
//     RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x · 2^max(shift,0), q), max(−shift,0))
//   single rounding (TFLITE_SINGLE_ROUNDING builds):
//     (x · q + 2^(30 − shift)) >> (31 − shift), saturated to int32
//
// Which one a given TFLite binary uses is a build option; kws uses
// kDefaultRounding (checked against the official interpreter in tests/runtime).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace kws::rt {

enum class Rounding { kDouble, kSingle };
inline constexpr Rounding kDefaultRounding = Rounding::kDouble;

// frexp-based Q31 quantization of a real multiplier (any sign handled as TFLite:
// the result is only meaningful for m >= 0). m == 0 gives (0, 0).
inline void QuantizeMultiplier(double m, int32_t* quantized, int* shift) {
  if (m == 0.0 || !std::isfinite(m)) {
    *quantized = 0;
    *shift = 0;
    return;
  }
  int exp = 0;
  const double frac = std::frexp(m, &exp);  // m = frac · 2^exp, frac in [0.5, 1)
  int64_t q = static_cast<int64_t>(std::round(frac * static_cast<double>(1LL << 31)));
  if (q == (1LL << 31)) {  // rounding reached 1.0
    q /= 2;
    ++exp;
  }
  if (exp < -31) {  // too small to represent: flush to zero
    exp = 0;
    q = 0;
  }
  if (exp > 30) {  // too large: saturate (newer TFLite does the same)
    exp = 30;
    q = (1LL << 31) - 1;
  }
  *quantized = static_cast<int32_t>(q);
  *shift = exp;
}

// round(a·b / 2^31) with ties away from zero, saturating the one overflow case.
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (1LL << 30) : (1 - (1LL << 30));
  return static_cast<int32_t>((ab + nudge) / (1LL << 31));
}

// x / 2^exponent rounded to nearest, ties away from zero. 0 <= exponent <= 31.
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((1LL << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

inline int32_t MultiplyByQuantizedMultiplierDouble(int32_t x, int32_t q, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  // x · 2^left wraps like TFLite's int32 multiply for huge values; do it in
  // uint32 so it stays defined behaviour.
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(shifted, q), right);
}

inline int32_t MultiplyByQuantizedMultiplierSingle(int32_t x, int32_t q, int shift) {
  // shift is in [-31, 30] for multipliers produced by QuantizeMultiplier.
  const int total = 31 - shift;
  const int64_t round = 1LL << (total - 1);
  int64_t r = static_cast<int64_t>(x) * q + round;
  r >>= total;
  r = std::clamp<int64_t>(r, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
  return static_cast<int32_t>(r);
}

inline int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t q, int shift) {
  if constexpr (kDefaultRounding == Rounding::kSingle) {
    return MultiplyByQuantizedMultiplierSingle(x, q, shift);
  } else {
    return MultiplyByQuantizedMultiplierDouble(x, q, shift);
  }
}

// Quantizes one real value to int8 as TFLite's reference QUANTIZE does:
// round-half-away(x / scale) + zero_point, clamped.
inline int8_t QuantizeToInt8(float x, float scale, int32_t zero_point) {
  const float r = std::round(x / scale);
  // Clamp in float first so huge/NaN inputs never overflow the int conversion.
  float v = std::isnan(r) ? 0.0f : std::clamp(r, -1.0e6f, 1.0e6f);
  const int32_t q = static_cast<int32_t>(v) + zero_point;
  return static_cast<int8_t>(std::clamp<int32_t>(q, -128, 127));
}

// The int8 range a fused activation allows (TFLite CalculateActivationRangeQuantized).
enum class Activation { kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3 };

inline void ActivationRangeInt8(Activation act, float scale, int32_t zero_point, int32_t* lo, int32_t* hi) {
  auto q = [&](float x) {
    const float r = std::round(x / scale);
    const float c = std::clamp(r, -1.0e6f, 1.0e6f);
    return zero_point + static_cast<int32_t>(c);
  };
  int32_t mn = -128, mx = 127;
  switch (act) {
    case Activation::kNone: break;
    case Activation::kRelu: mn = std::max(mn, q(0.0f)); break;
    case Activation::kRelu6: mn = std::max(mn, q(0.0f)); mx = std::min(mx, q(6.0f)); break;
    case Activation::kReluN1To1: mn = std::max(mn, q(-1.0f)); mx = std::min(mx, q(1.0f)); break;
  }
  *lo = mn;
  *hi = mx;
}

inline void ActivationRangeFloat(Activation act, float* lo, float* hi) {
  *lo = -std::numeric_limits<float>::max();
  *hi = std::numeric_limits<float>::max();
  switch (act) {
    case Activation::kNone: break;
    case Activation::kRelu: *lo = 0.0f; break;
    case Activation::kRelu6: *lo = 0.0f; *hi = 6.0f; break;
    case Activation::kReluN1To1: *lo = -1.0f; *hi = 1.0f; break;
  }
}

}  // namespace kws::rt
