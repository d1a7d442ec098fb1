// STRIDED_SLICE as TFLite computes it (kernels/internal/strided_slice_logic.h):
// per axis a start (begin, or the first/last element under begin_mask;
// negative counts from the end; clamped), a stop (end, or past the last/first
// element under end_mask; start + 1 for a shrunk axis; clamped) and a stride.
// Any element size; up to 5 dimensions (left-padded with size-1 axes).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

namespace kws::rt::ref {

struct StridedSliceParams {
  int in[5] = {1, 1, 1, 1, 1};  // input dims
  int start[5] = {0, 0, 0, 0, 0};
  int stop[5] = {1, 1, 1, 1, 1};
  int stride[5] = {1, 1, 1, 1, 1};
  size_t element_bytes = 1;
};

// TFLite's StartForAxis / StopForAxis.
inline int SliceStart(int begin, bool begin_mask, int stride, int dim) {
  int64_t s = begin;
  if (begin_mask) s = stride > 0 ? std::numeric_limits<int>::lowest() : std::numeric_limits<int>::max();
  if (s < 0) s += dim;
  return int(stride > 0 ? std::clamp<int64_t>(s, 0, dim) : std::clamp<int64_t>(s, -1, dim - 1));
}

inline int SliceStop(int end, bool end_mask, bool shrink, int stride, int dim, int start) {
  if (shrink) return start + 1;
  int64_t s = end;
  if (end_mask) s = stride > 0 ? std::numeric_limits<int>::max() : std::numeric_limits<int>::lowest();
  if (s < 0) s += dim;
  return int(stride > 0 ? std::clamp<int64_t>(s, 0, dim) : std::clamp<int64_t>(s, -1, dim - 1));
}

// Number of elements an axis keeps: ceil((stop − start) / stride), at least 0.
inline int SliceSize(int start, int stop, int stride) {
  const int64_t n = stride > 0 ? (int64_t(stop) - start + stride - 1) / stride
                               : (int64_t(start) - stop + (-int64_t(stride)) - 1) / (-int64_t(stride));
  return int(std::max<int64_t>(n, 0));
}

inline void StridedSlice(const StridedSliceParams& p, const uint8_t* x, uint8_t* y) {
  int64_t st[5];  // input strides in elements
  int64_t s = 1;
  for (int a = 4; a >= 0; --a) {
    st[a] = s;
    s *= p.in[a];
  }
  auto more = [&](int a, int i) { return p.stride[a] > 0 ? i < p.stop[a] : i > p.stop[a]; };
  const size_t e = p.element_bytes;
  for (int i0 = p.start[0]; more(0, i0); i0 += p.stride[0])
    for (int i1 = p.start[1]; more(1, i1); i1 += p.stride[1])
      for (int i2 = p.start[2]; more(2, i2); i2 += p.stride[2])
        for (int i3 = p.start[3]; more(3, i3); i3 += p.stride[3]) {
          const int64_t base = i0 * st[0] + i1 * st[1] + i2 * st[2] + i3 * st[3];
          if (p.stride[4] == 1) {  // one contiguous run
            const int64_t n = std::max(p.stop[4] - p.start[4], 0);
            std::memcpy(y, x + size_t(base + p.start[4]) * e, size_t(n) * e);
            y += size_t(n) * e;
          } else {
            for (int i4 = p.start[4]; more(4, i4); i4 += p.stride[4]) {
              std::memcpy(y, x + size_t(base + i4) * e, e);
              y += e;
            }
          }
        }
}

}  // namespace kws::rt::ref
