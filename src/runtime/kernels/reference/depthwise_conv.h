// DEPTHWISE_CONV_2D reference kernels. input [N,H,W,Cin], filter [1,KH,KW,Cout]
// with Cout = Cin·depth_multiplier (output channel ic·m + j reads input channel ic),
// bias [Cout], output [N,OH,OW,Cout].
#pragma once
#include <algorithm>

#include "runtime/kernels/reference/window.h"
#include "runtime/kernels/types.h"

namespace kws::rt::ref {

inline void DepthwiseFloat(const ConvGeometry& g, const FloatAct& act, const Shape4& is, const float* input,
                           const Shape4& fs, const float* filter, const float* bias, const Shape4& os,
                           float* output) {
  const int m = g.depth_multiplier;
  for (int b = 0; b < os.n; ++b)
    for (int oy = 0; oy < os.h; ++oy)
      for (int ox = 0; ox < os.w; ++ox)
        for (int ic = 0; ic < is.c; ++ic)
          for (int j = 0; j < m; ++j) {
            const int oc = ic * m + j;
            float acc = 0.0f;
            ForEachTap(g, is, fs, oy, ox, [&](int y, int x, int ky, int kx) {
              acc += input[Offset(is, b, y, x, ic)] * filter[Offset(fs, 0, ky, kx, oc)];
            });
            if (bias) acc += bias[oc];
            output[Offset(os, b, oy, ox, oc)] = std::clamp(acc, act.min, act.max);
          }
}

inline void DepthwiseInt8(const ConvGeometry& g, const QuantParams& q, const int32_t* multiplier,
                          const int* shift, const Shape4& is, const int8_t* input, const Shape4& fs,
                          const int8_t* filter, const int32_t* bias, const Shape4& os, int8_t* output) {
  const int m = g.depth_multiplier;
  for (int b = 0; b < os.n; ++b)
    for (int oy = 0; oy < os.h; ++oy)
      for (int ox = 0; ox < os.w; ++ox)
        for (int ic = 0; ic < is.c; ++ic)
          for (int j = 0; j < m; ++j) {
            const int oc = ic * m + j;
            int32_t acc = 0;
            ForEachTap(g, is, fs, oy, ox, [&](int y, int x, int ky, int kx) {
              acc += (int32_t(filter[Offset(fs, 0, ky, kx, oc)]) + q.weight_offset) *
                     (int32_t(input[Offset(is, b, y, x, ic)]) + q.input_offset);
            });
            if (bias) acc += bias[oc];
            output[Offset(os, b, oy, ox, oc)] = static_cast<int8_t>(Requantize(acc, q, multiplier, shift, oc));
          }
}

inline void DepthwiseHybrid(const ConvGeometry& g, const FloatAct& act, const Shape4& is, const int8_t* input,
                            const float* input_scale, const int32_t* input_zero_point, const Shape4& fs,
                            const int8_t* filter, const float* filter_scale, const float* bias,
                            const Shape4& os, float* output) {
  const int m = g.depth_multiplier;
  for (int b = 0; b < os.n; ++b)
    for (int oy = 0; oy < os.h; ++oy)
      for (int ox = 0; ox < os.w; ++ox)
        for (int ic = 0; ic < is.c; ++ic)
          for (int j = 0; j < m; ++j) {
            const int oc = ic * m + j;
            int32_t acc = 0;
            ForEachTap(g, is, fs, oy, ox, [&](int y, int x, int ky, int kx) {
              acc += int32_t(filter[Offset(fs, 0, ky, kx, oc)]) *
                     (int32_t(input[Offset(is, b, y, x, ic)]) - input_zero_point[b]);
            });
            float v = float(acc) * input_scale[b] * filter_scale[oc];
            if (bias) v += bias[oc];
            output[Offset(os, b, oy, ox, oc)] = std::clamp(v, act.min, act.max);
          }
}

}  // namespace kws::rt::ref
