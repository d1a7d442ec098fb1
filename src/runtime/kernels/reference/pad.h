// PAD / PADV2 on up to 4 dimensions, any element size: the output is filled
// with the pad value (float 0 / the int8 zero point for PAD, the constant for
// PADV2), then each input row is copied to its place.
#pragma once
#include <cstdint>
#include <cstring>

namespace kws::rt::ref {

struct PadParams {
  int in[4] = {1, 1, 1, 1};      // input dims (right-aligned to rank 4)
  int out[4] = {1, 1, 1, 1};
  int before[4] = {0, 0, 0, 0};  // padding before each dimension
};

template <typename T>
inline void Pad(const PadParams& p, T pad_value, const T* x, T* y) {
  const int64_t n = int64_t(p.out[0]) * p.out[1] * p.out[2] * p.out[3];
  for (int64_t i = 0; i < n; ++i) y[i] = pad_value;
  for (int a = 0; a < p.in[0]; ++a)
    for (int b = 0; b < p.in[1]; ++b)
      for (int c = 0; c < p.in[2]; ++c) {
        const int64_t src = ((int64_t(a) * p.in[1] + b) * p.in[2] + c) * p.in[3];
        const int64_t dst = ((int64_t(a + p.before[0]) * p.out[1] + b + p.before[1]) * p.out[2] + c + p.before[2]) *
                                p.out[3] + p.before[3];
        std::memcpy(y + dst, x + src, sizeof(T) * size_t(p.in[3]));
      }
}

}  // namespace kws::rt::ref
