// QUANTIZE (float → int8), DEQUANTIZE (int8 → float), and the on-the-fly input
// quantization the hybrid kernels use (TFLite tensor_utils Symmetric/
// AsymmetricQuantizeFloats semantics).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "runtime/kernels/types.h"

namespace kws::rt::ref {

inline void QuantizeFloatToInt8(float scale, int32_t zero_point, int64_t n, const float* in, int8_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = QuantizeToInt8(in[i], scale, zero_point);
}

// XNNPACK's float → int8 conversion: x·(1/scale), clamped, rounded half to even.
inline void QuantizeFloatToInt8HalfEven(float scale, int32_t zero_point, int64_t n, const float* in, int8_t* out) {
  const float inv = 1.0f / scale;
  const float lo = float(-128 - zero_point), hi = float(127 - zero_point);
  for (int64_t i = 0; i < n; ++i) {
    float v = in[i] * inv;
    v = std::isnan(v) ? 0.0f : std::clamp(v, lo, hi);
    out[i] = static_cast<int8_t>(static_cast<int32_t>(std::nearbyint(v)) + zero_point);
  }
}

inline void DequantizeInt8(float scale, int32_t zero_point, int64_t n, const int8_t* in, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = float(int32_t(in[i]) - zero_point) * scale;
}

// int8 → int8 requantization (QUANTIZE with int8 input).
inline void RequantizeInt8(int32_t multiplier, int shift, int32_t in_zp, int32_t out_zp, int64_t n,
                           const int8_t* in, int8_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = int64_t(MultiplyByQuantizedMultiplier(int32_t(in[i]) - in_zp, multiplier, shift)) + out_zp;
    out[i] = static_cast<int8_t>(std::clamp<int64_t>(v, -128, 127));
  }
}

// Symmetric: scale = max|x|/127, q = round(x·127/max|x|) in [−127, 127];
// all-zero input gives scale 1 and zeros. NaN/inf-safe (never UB).
inline void SymmetricQuantize(int64_t n, const float* in, int8_t* out, float* scale) {
  float mn = 0.0f, mx = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    mn = std::min(mn, in[i]);
    mx = std::max(mx, in[i]);
  }
  const float range = std::max(std::fabs(mn), std::fabs(mx));
  if (!(range > 0.0f) || !std::isfinite(range)) {
    std::fill(out, out + n, int8_t(0));
    *scale = 1.0f;
    return;
  }
  *scale = range / 127.0f;
  const float inv = 127.0f / range;
  for (int64_t i = 0; i < n; ++i) {
    const float r = std::round(in[i] * inv);
    out[i] = static_cast<int8_t>(std::isnan(r) ? 0 : std::clamp(r, -127.0f, 127.0f));
  }
}

// Asymmetric over [min(0,x), max(0,x)] mapped to [−128, 127] with a nudged
// integer zero point; real = (q − zero_point)·scale.
inline void AsymmetricQuantize(int64_t n, const float* in, int8_t* out, float* scale, int32_t* zero_point) {
  float mn = 0.0f, mx = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    mn = std::min(mn, in[i]);
    mx = std::max(mx, in[i]);
  }
  const double rmin = mn, rmax = mx;
  if (rmin == rmax || !std::isfinite(rmin) || !std::isfinite(rmax)) {
    std::fill(out, out + n, int8_t(0));
    *scale = 1.0f;
    *zero_point = 0;
    return;
  }
  const double qmin = -128.0, qmax = 127.0;
  const double s = (rmax - rmin) / (qmax - qmin);
  const double zp_from_min = qmin - rmin / s;
  const double zp_from_max = qmax - rmax / s;
  const double err_min = std::fabs(qmin) + std::fabs(rmin / s);
  const double err_max = std::fabs(qmax) + std::fabs(rmax / s);
  const double zp_real = err_min < err_max ? zp_from_min : zp_from_max;
  int32_t zp;
  if (zp_real <= qmin) zp = -128;
  else if (zp_real >= qmax) zp = 127;
  else zp = static_cast<int32_t>(std::round(zp_real));
  *scale = static_cast<float>(s);
  *zero_point = zp;
  const float inv = 1.0f / *scale;
  for (int64_t i = 0; i < n; ++i) {
    const float r = std::round(float(zp) + in[i] * inv);
    out[i] = static_cast<int8_t>(std::isnan(r) ? zp : std::clamp(r, -128.0f, 127.0f));
  }
}

}  // namespace kws::rt::ref

namespace kws::rt::ref {

// float <-> uint8 for Interpreter::RunFloat on uint8 inputs/outputs (same arithmetic as the int8
// versions with the range [0, 255]).
inline void QuantizeFloatToUInt8(float scale, int32_t zero_point, bool half_even, int64_t n, const float* in,
                                 uint8_t* out) {
  const float inv = 1.0f / scale;
  for (int64_t i = 0; i < n; ++i) {
    float v = half_even ? in[i] * inv : in[i] / scale;
    v = std::isnan(v) ? 0.0f : std::clamp(v, -1.0e6f, 1.0e6f);
    const int32_t q = int32_t(half_even ? std::nearbyint(v) : std::round(v)) + zero_point;
    out[i] = static_cast<uint8_t>(std::clamp<int32_t>(q, 0, 255));
  }
}

inline void DequantizeUInt8(float scale, int32_t zero_point, int64_t n, const uint8_t* in, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = float(int32_t(in[i]) - zero_point) * scale;
}

}  // namespace kws::rt::ref
