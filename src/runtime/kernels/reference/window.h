// The filter taps of one output position of CONV_2D / DEPTHWISE_CONV_2D, shared by the reference
// kernels and the optimized float depthwise kernel: taps that fall outside the input read as real zero,
// so they are skipped. (The optimized int8 depthwise body keeps its own loop: it is compiled into an AVX2
// copy, and a lambda called from here would not share that target.)
#pragma once

#include "runtime/kernels/types.h"

namespace kws::rt::ref {

// Calls tap(y, x, ky, kx) for every filter position (ky, kx) of output (oy, ox) whose input row y and
// column x lie inside the input, in row-major filter order (the order the sums are taken in).
template <typename Tap>
inline void ForEachTap(const ConvGeometry& g, const Shape4& is, const Shape4& fs, int oy, int ox, Tap&& tap) {
  const int y0 = oy * g.stride_h - g.pad_top, x0 = ox * g.stride_w - g.pad_left;
  for (int ky = 0; ky < fs.h; ++ky) {
    const int y = y0 + ky * g.dilation_h;
    if (y < 0 || y >= is.h) continue;
    for (int kx = 0; kx < fs.w; ++kx) {
      const int x = x0 + kx * g.dilation_w;
      if (x < 0 || x >= is.w) continue;
      tap(y, x, ky, kx);
    }
  }
}

}  // namespace kws::rt::ref
