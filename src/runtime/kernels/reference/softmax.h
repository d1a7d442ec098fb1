// SOFTMAX reference kernels over the last dimension: rows × depth.
//
// int8 comes in two flavours because TFLite itself has two:
//  - SoftmaxInt8FixedPoint: the reference / TFLite Micro kernel (gemmlowp
//    fixed-point exp on negative values, Q0 reciprocal by Newton–Raphson).
//  - SoftmaxInt8Table: desktop TFLite's optimized kernel (float exp table over
//    the 256 possible differences, float normalization, round-half-away).
// The interpreter uses the table flavour (that is what the official
// interpreter computes; see tests/runtime).
#pragma once
#include <algorithm>
#include <cmath>

#include "runtime/kernels/types.h"

namespace kws::rt {

// ---- gemmlowp-style fixed point (raw int32 values, integer bits as template) ----
namespace fp {

inline int32_t Add(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b)); }
inline int32_t Sub(int32_t a, int32_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b)); }
inline int32_t Mul(int32_t a, int32_t b) { return SaturatingRoundingDoublingHighMul(a, b); }

// x · 2^exponent, saturating for exponent > 0, rounding for exponent < 0.
inline int32_t MulByPOT(int32_t x, int exponent) {
  if (exponent == 0) return x;
  if (exponent < 0) return RoundingDivideByPOT(x, -exponent);
  const int32_t threshold = static_cast<int32_t>((1LL << (31 - exponent)) - 1);
  if (x > threshold) return std::numeric_limits<int32_t>::max();
  if (x < -threshold) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(static_cast<uint32_t>(x) << exponent);
}

// exp(a) for a in [−1/4, 0), a and result in Q0.31.
inline int32_t ExpQuarterInterval(int32_t a) {
  const int32_t kExpMinusOneEighth = 1895147668;  // exp(−1/8) in Q0.31
  const int32_t kOneThird = 715827883;             // 1/3 in Q0.31
  const int32_t x = Add(a, 1 << 28);               // a + 1/8
  const int32_t x2 = Mul(x, x), x3 = Mul(x2, x), x4 = Mul(x2, x2);
  const int32_t x4_over_4 = MulByPOT(x4, -2);
  const int32_t poly = MulByPOT(Add(Mul(Add(x4_over_4, x3), kOneThird), x2), -1);
  return Add(kExpMinusOneEighth, Mul(kExpMinusOneEighth, Add(x, poly)));
}

// exp(a) for a <= 0 given in Q5.26; result in Q0.31.
inline int32_t ExpOnNegativeValues(int32_t a) {
  constexpr int kIntegerBits = 5, kFractionalBits = 31 - kIntegerBits;
  const int32_t kOneQuarter = 1 << (kFractionalBits - 2);
  const int32_t mask = kOneQuarter - 1;
  const int32_t a_mod_quarter_minus_quarter = Sub(a & mask, kOneQuarter);
  int32_t result = ExpQuarterInterval(MulByPOT(a_mod_quarter_minus_quarter, kIntegerBits));
  const int32_t remainder = Sub(a_mod_quarter_minus_quarter, a);
  // Multiply by exp(−2^k) for every bit k of the remainder (k = −2 … 4).
  static constexpr int32_t kMultipliers[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  for (int e = -2; e <= 4; ++e) {
    if (remainder & (1 << (kFractionalBits + e))) result = Mul(result, kMultipliers[e + 2]);
  }
  return a == 0 ? std::numeric_limits<int32_t>::max() : result;
}

// 1/(1+x) for x in [0,1), x in Q0.31; result in Q0.31.
inline int32_t OneOverOnePlusX(int32_t x) {
  const int64_t sum = int64_t(x) + std::numeric_limits<int32_t>::max();
  const int32_t half_denominator = static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);  // Q0.31
  const int32_t k48over17 = 1515870810, kNeg32over17 = -1010580540;                     // Q2.29
  int32_t r = Add(k48over17, Mul(half_denominator, kNeg32over17));
  for (int i = 0; i < 3; ++i) {
    const int32_t hd_times_r = Mul(half_denominator, r);                 // Q2.29
    const int32_t one_minus = Sub(1 << 29, hd_times_r);                  // Q2.29
    r = Add(r, MulByPOT(Mul(r, one_minus), 2));                          // Q4.27 → Q2.29
  }
  return MulByPOT(r, 1);  // r/2 in Q1.30 read as Q0.31
}

// Reciprocal of a positive Q(int_digits) value: returns Q0.31 mantissa and
// the number of bits the true value is above 1.
inline int32_t Reciprocal(int32_t x, int int_digits, int* bits_over_unit) {
  const int headroom_plus_one = __builtin_clz(static_cast<uint32_t>(x));
  *bits_over_unit = int_digits - headroom_plus_one;
  const int32_t shifted_minus_one =
      static_cast<int32_t>((static_cast<uint32_t>(x) << headroom_plus_one) - (uint32_t(1) << 31));
  return OneOverOnePlusX(shifted_minus_one);
}

}  // namespace fp

struct SoftmaxInt8Params {
  // Fixed-point flavour.
  int32_t input_multiplier = 0;
  int input_left_shift = 0;
  int32_t diff_min = 0;
  // Table flavour: table[255 − d] = exp(−input_scale·beta·d), d = max − x.
  const float* table = nullptr;
  float output_scale = 1.0f / 256.0f;
  int32_t output_zero_point = -128;
};

// Prepare-time helpers.
inline void PrepareSoftmaxFixedPoint(float beta, float input_scale, SoftmaxInt8Params* p) {
  constexpr int kScaledDiffIntegerBits = 5;
  const double max_real = double((1LL << 31) - 1);
  const double real = std::min(double(beta) * double(input_scale) * double(1LL << (31 - kScaledDiffIntegerBits)), max_real);
  QuantizeMultiplier(real, &p->input_multiplier, &p->input_left_shift);
  if (p->input_left_shift < 0) {  // multiplier < 1: TFLite requires >= 1; clamp to the same behaviour
    p->input_left_shift = 0;
  }
  const double radius = double((1 << kScaledDiffIntegerBits) - 1) * double(1LL << (31 - kScaledDiffIntegerBits)) /
                        double(1LL << p->input_left_shift);
  p->diff_min = -static_cast<int32_t>(std::floor(radius));
}

inline void PrepareSoftmaxTable(float beta, float input_scale, float* table /*256*/) {
  const float scale = -input_scale * beta;
  for (int v = 0; v <= 255; ++v) table[255 - v] = std::exp(scale * float(v));
}

namespace ref {

inline void SoftmaxFloat(float beta, int rows, int depth, const float* input, float* output) {
  for (int r = 0; r < rows; ++r) {
    const float* in = input + int64_t(r) * depth;
    float* out = output + int64_t(r) * depth;
    float mx = in[0];
    for (int i = 1; i < depth; ++i) mx = std::max(mx, in[i]);
    float sum = 0.0f;
    for (int i = 0; i < depth; ++i) sum += (out[i] = std::exp((in[i] - mx) * beta));
    const float inv = 1.0f / sum;
    for (int i = 0; i < depth; ++i) out[i] *= inv;
  }
}

inline void SoftmaxInt8FixedPoint(const SoftmaxInt8Params& p, int rows, int depth, const int8_t* input,
                                  int8_t* output) {
  constexpr int kAccumulationIntegerBits = 12;
  for (int r = 0; r < rows; ++r) {
    const int8_t* in = input + int64_t(r) * depth;
    int8_t* out = output + int64_t(r) * depth;
    int32_t mx = -128;
    for (int i = 0; i < depth; ++i) mx = std::max<int32_t>(mx, in[i]);
    auto scaled_diff = [&](int32_t diff) {
      const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(diff) << p.input_left_shift);
      return SaturatingRoundingDoublingHighMul(shifted, p.input_multiplier);  // Q5.26
    };
    int32_t sum = 0;  // Q12.19
    for (int i = 0; i < depth; ++i) {
      const int32_t diff = int32_t(in[i]) - mx;
      if (diff >= p.diff_min) sum = fp::Add(sum, fp::MulByPOT(fp::ExpOnNegativeValues(scaled_diff(diff)), -kAccumulationIntegerBits));
    }
    int bits_over_unit = 0;
    const int32_t recip = fp::Reciprocal(sum, kAccumulationIntegerBits, &bits_over_unit);
    for (int i = 0; i < depth; ++i) {
      const int32_t diff = int32_t(in[i]) - mx;
      int32_t v = -128;
      if (diff >= p.diff_min) {
        const int32_t e = fp::ExpOnNegativeValues(scaled_diff(diff));
        const int32_t unsat = RoundingDivideByPOT(fp::Mul(recip, e), bits_over_unit + 31 - 8);
        v = std::clamp(unsat - 128, -128, 127);
      }
      out[i] = static_cast<int8_t>(v);
    }
  }
}

inline void SoftmaxInt8Table(const SoftmaxInt8Params& p, int rows, int depth, const int8_t* input,
                             int8_t* output) {
  for (int r = 0; r < rows; ++r) {
    const int8_t* in = input + int64_t(r) * depth;
    int8_t* out = output + int64_t(r) * depth;
    int32_t mx = -128;
    for (int i = 0; i < depth; ++i) mx = std::max<int32_t>(mx, in[i]);
    const float* t = p.table + (255 - mx);  // t[x] = exp(−scale·(mx − x)), x in [mx−255, mx]
    float sum = 0.0f;
    for (int i = 0; i < depth; ++i) sum += t[in[i]];
    const float inv = 1.0f / (sum * p.output_scale);
    for (int i = 0; i < depth; ++i) {
      const float pr = t[in[i]] * inv;
      const int32_t q = static_cast<int32_t>(std::round(pr)) + p.output_zero_point;
      out[i] = static_cast<int8_t>(std::clamp(q, -128, 127));
    }
  }
}

}  // namespace ref
}  // namespace kws::rt
