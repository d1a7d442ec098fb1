// TRANSPOSE: output dimension i is input dimension perm[i] (TFLite
// kernels/internal/reference/transpose.h); any element size, up to 5
// dimensions (left-padded with size-1 axes and identity entries).
#pragma once
#include <cstdint>
#include <cstring>

namespace kws::rt::ref {

struct TransposeParams {
  int out[5] = {1, 1, 1, 1, 1};             // output dims
  int64_t in_stride[5] = {0, 0, 0, 0, 0};   // input stride (elements) of the axis that output axis i walks
  size_t element_bytes = 1;
};

inline void Transpose(const TransposeParams& p, const uint8_t* x, uint8_t* y) {
  const size_t e = p.element_bytes;
  const int64_t* s = p.in_stride;
  for (int i0 = 0; i0 < p.out[0]; ++i0)
    for (int i1 = 0; i1 < p.out[1]; ++i1)
      for (int i2 = 0; i2 < p.out[2]; ++i2)
        for (int i3 = 0; i3 < p.out[3]; ++i3) {
          const int64_t base = i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3];
          for (int i4 = 0; i4 < p.out[4]; ++i4) {
            std::memcpy(y, x + size_t(base + i4 * s[4]) * e, e);
            y += e;
          }
        }
}

}  // namespace kws::rt::ref
