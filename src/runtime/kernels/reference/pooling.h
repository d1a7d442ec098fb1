// AVERAGE_POOL_2D / MAX_POOL_2D reference kernels, NHWC, window fs.h×fs.w
// (only the window's h/w are used). The average counts only the positions that
// fall inside the input (TFLite behaviour with SAME padding).
#pragma once
#include <algorithm>

#include "runtime/kernels/types.h"

namespace kws::rt::ref {

template <typename T, typename Fn>
inline void PoolWindows(const ConvGeometry& g, int fh, int fw, const Shape4& is, const Shape4& os, Fn fn) {
  for (int b = 0; b < os.n; ++b)
    for (int oy = 0; oy < os.h; ++oy)
      for (int ox = 0; ox < os.w; ++ox) {
        const int y0 = oy * g.stride_h - g.pad_top, x0 = ox * g.stride_w - g.pad_left;
        const int ys = std::max(0, y0), ye = std::min(is.h, y0 + fh);
        const int xs = std::max(0, x0), xe = std::min(is.w, x0 + fw);
        fn(b, oy, ox, ys, ye, xs, xe);
      }
}

inline void AveragePoolFloat(const ConvGeometry& g, const FloatAct& act, int fh, int fw, const Shape4& is,
                             const float* input, const Shape4& os, float* output) {
  PoolWindows<float>(g, fh, fw, is, os, [&](int b, int oy, int ox, int ys, int ye, int xs, int xe) {
    for (int c = 0; c < os.c; ++c) {
      float sum = 0.0f;
      int count = 0;
      for (int y = ys; y < ye; ++y)
        for (int x = xs; x < xe; ++x, ++count) sum += input[Offset(is, b, y, x, c)];
      const float v = count > 0 ? sum / float(count) : 0.0f;
      output[Offset(os, b, oy, ox, c)] = std::clamp(v, act.min, act.max);
    }
  });
}

// int8 average: int32 sum, division rounded half away from zero, clamp.
// `offset` (128 for uint8 models run shifted into int8) is added to every input before averaging and
// removed after, so the rounding is the one of the original (unsigned) values.
inline void AveragePoolInt8(const ConvGeometry& g, int32_t act_min, int32_t act_max, int fh, int fw,
                            const Shape4& is, const int8_t* input, const Shape4& os, int8_t* output,
                            int32_t offset = 0) {
  PoolWindows<int8_t>(g, fh, fw, is, os, [&](int b, int oy, int ox, int ys, int ye, int xs, int xe) {
    for (int c = 0; c < os.c; ++c) {
      int32_t sum = 0;
      int32_t count = 0;
      for (int y = ys; y < ye; ++y)
        for (int x = xs; x < xe; ++x, ++count) sum += input[Offset(is, b, y, x, c)] + offset;
      int32_t v = 0;
      if (count > 0) v = (sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count) - offset;
      output[Offset(os, b, oy, ox, c)] = static_cast<int8_t>(std::clamp(v, act_min, act_max));
    }
  });
}

inline void MaxPoolFloat(const ConvGeometry& g, const FloatAct& act, int fh, int fw, const Shape4& is,
                         const float* input, const Shape4& os, float* output) {
  PoolWindows<float>(g, fh, fw, is, os, [&](int b, int oy, int ox, int ys, int ye, int xs, int xe) {
    for (int c = 0; c < os.c; ++c) {
      float m = -3.402823466e+38f;
      for (int y = ys; y < ye; ++y)
        for (int x = xs; x < xe; ++x) m = std::max(m, input[Offset(is, b, y, x, c)]);
      output[Offset(os, b, oy, ox, c)] = std::clamp(m, act.min, act.max);
    }
  });
}

inline void MaxPoolInt8(const ConvGeometry& g, int32_t act_min, int32_t act_max, int fh, int fw,
                        const Shape4& is, const int8_t* input, const Shape4& os, int8_t* output) {
  PoolWindows<int8_t>(g, fh, fw, is, os, [&](int b, int oy, int ox, int ys, int ye, int xs, int xe) {
    for (int c = 0; c < os.c; ++c) {
      int32_t m = -128;
      for (int y = ys; y < ye; ++y)
        for (int x = xs; x < xe; ++x) m = std::max<int32_t>(m, input[Offset(is, b, y, x, c)]);
      output[Offset(os, b, oy, ox, c)] = static_cast<int8_t>(std::clamp(m, act_min, act_max));
    }
  });
}

}  // namespace kws::rt::ref
