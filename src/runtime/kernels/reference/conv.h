// CONV_2D reference kernels (float, int8 per-channel, hybrid per-channel).
// input [N,H,W,Cin], filter [Cout,KH,KW,Cin] (OHWI), bias [Cout] (optional),
// output [N,OH,OW,Cout]. Positions outside the input read as real zero.
#pragma once
#include <algorithm>

#include "runtime/kernels/reference/window.h"
#include "runtime/kernels/types.h"

namespace kws::rt::ref {

inline void ConvFloat(const ConvGeometry& g, const FloatAct& act, const Shape4& is, const float* input,
                      const Shape4& fs, const float* filter, const float* bias, const Shape4& os,
                      float* output) {
  for (int b = 0; b < os.n; ++b)
    for (int oy = 0; oy < os.h; ++oy)
      for (int ox = 0; ox < os.w; ++ox)
        for (int oc = 0; oc < os.c; ++oc) {
          float acc = 0.0f;
          ForEachTap(g, is, fs, oy, ox, [&](int y, int x, int ky, int kx) {
            const float* in = input + Offset(is, b, y, x, 0);
            const float* f = filter + Offset(fs, oc, ky, kx, 0);
            for (int ic = 0; ic < is.c; ++ic) acc += in[ic] * f[ic];
          });
          if (bias) acc += bias[oc];
          output[Offset(os, b, oy, ox, oc)] = std::clamp(acc, act.min, act.max);
        }
}

// acc = Σ (filter + weight_offset)·(input + input_offset) + bias[oc]; requantize with
// (multiplier[oc], shift[oc]); + output_offset; clamp.
inline void ConvInt8(const ConvGeometry& g, const QuantParams& q, const int32_t* multiplier, const int* shift,
                     const Shape4& is, const int8_t* input, const Shape4& fs, const int8_t* filter,
                     const int32_t* bias, const Shape4& os, int8_t* output) {
  for (int b = 0; b < os.n; ++b)
    for (int oy = 0; oy < os.h; ++oy)
      for (int ox = 0; ox < os.w; ++ox)
        for (int oc = 0; oc < os.c; ++oc) {
          int32_t acc = 0;
          ForEachTap(g, is, fs, oy, ox, [&](int y, int x, int ky, int kx) {
            const int8_t* in = input + Offset(is, b, y, x, 0);
            const int8_t* f = filter + Offset(fs, oc, ky, kx, 0);
            for (int ic = 0; ic < is.c; ++ic)
              acc += (int32_t(f[ic]) + q.weight_offset) * (int32_t(in[ic]) + q.input_offset);
          });
          if (bias) acc += bias[oc];
          output[Offset(os, b, oy, ox, oc)] = static_cast<int8_t>(Requantize(acc, q, multiplier, shift, oc));
        }
}

// Hybrid: `input` already quantized per batch item (quantized = round(x/scale[b]) + zero_point[b]);
// acc = Σ filter·(input − zero_point[b]); out = acc·input_scale[b]·filter_scale[oc] + bias; clamp.
inline void ConvHybrid(const ConvGeometry& g, const FloatAct& act, const Shape4& is, const int8_t* input,
                       const float* input_scale, const int32_t* input_zero_point, const Shape4& fs,
                       const int8_t* filter, const float* filter_scale, const float* bias, const Shape4& os,
                       float* output) {
  for (int b = 0; b < os.n; ++b)
    for (int oy = 0; oy < os.h; ++oy)
      for (int ox = 0; ox < os.w; ++ox)
        for (int oc = 0; oc < os.c; ++oc) {
          int32_t acc = 0;
          ForEachTap(g, is, fs, oy, ox, [&](int y, int x, int ky, int kx) {
            const int8_t* in = input + Offset(is, b, y, x, 0);
            const int8_t* f = filter + Offset(fs, oc, ky, kx, 0);
            for (int ic = 0; ic < is.c; ++ic) acc += int32_t(f[ic]) * (int32_t(in[ic]) - input_zero_point[b]);
          });
          float v = float(acc) * input_scale[b] * filter_scale[oc];
          if (bias) v += bias[oc];
          output[Offset(os, b, oy, ox, oc)] = std::clamp(v, act.min, act.max);
        }
}

}  // namespace kws::rt::ref
