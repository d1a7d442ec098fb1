// Element-wise float kernels as TFLite's reference kernels compute them
// (kernels/elementwise.cc, activations.cc): LOG (std::log), RSQRT (1/sqrt),
// LEAKY_RELU (x > 0 ? x : alpha·x).
#pragma once
#include <cmath>
#include <cstdint>

namespace kws::rt::ref {

inline void LogFloat(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::log(x[i]);
}

inline void RsqrtFloat(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = 1.0f / std::sqrt(x[i]);
}

inline void LeakyReluFloat(int64_t n, float alpha, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : x[i] * alpha;
}

}  // namespace kws::rt::ref
