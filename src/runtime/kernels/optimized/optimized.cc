// Optimized runtime kernels (see optimized.h). Float: im2col + Eigen GEMM.
// int8: im2col + int32 dot products, AVX-512 VNNI behind a run-time check.
#include "runtime/kernels/optimized/optimized.h"

#include "runtime/kernels/optimized/sparse_conv.h"
#include "runtime/kernels/reference/window.h"
#include "util/cpu.h"

#include <Eigen/Core>
#include <algorithm>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KWS_X86 1
#endif

namespace kws::rt::opt {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

bool IsPointwise(const ConvGeometry& g, const Shape4& fs) {
  return fs.h == 1 && fs.w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 && g.pad_left == 0;
}

// Writes one im2col row per output pixel: [KH·KW·Cin], `pad` where the window
// leaves the input.
template <typename T>
void Im2col(const ConvGeometry& g, const Shape4& is, const T* input, const Shape4& fs, const Shape4& os, T pad,
            T* col) {
  const int64_t k = int64_t(fs.h) * fs.w * is.c;
  for (int b = 0; b < os.n; ++b)
    for (int oy = 0; oy < os.h; ++oy)
      for (int ox = 0; ox < os.w; ++ox) {
        T* row = col + ((int64_t(b) * os.h + oy) * os.w + ox) * k;
        const int y0 = oy * g.stride_h - g.pad_top, x0 = ox * g.stride_w - g.pad_left;
        for (int ky = 0; ky < fs.h; ++ky) {
          const int y = y0 + ky * g.dilation_h;
          for (int kx = 0; kx < fs.w; ++kx) {
            const int x = x0 + kx * g.dilation_w;
            T* dst = row + (int64_t(ky) * fs.w + kx) * is.c;
            if (y < 0 || y >= is.h || x < 0 || x >= is.w) {
              std::fill(dst, dst + is.c, pad);
            } else {
              std::memcpy(dst, input + Offset(is, b, y, x, 0), sizeof(T) * is.c);
            }
          }
        }
      }
}

// ---- int8 dot products ------------------------------------------------------
// Σ a[i]·b[i] over n int8 values (plain C++; the compiler vectorizes it).
inline int32_t DotPlain(const int8_t* a, const int8_t* b, int n) {
  int32_t acc = 0;
  for (int i = 0; i < n; ++i) acc += int32_t(a[i]) * int32_t(b[i]);
  return acc;
}

#ifdef KWS_X86
__attribute__((target("avx512f,avx512bw,avx512vnni"))) inline int32_t DotVnni(const uint8_t* a_u8,
                                                                              const int8_t* b, int n) {
  __m512i acc = _mm512_setzero_si512();
  int i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i va = _mm512_loadu_si512(a_u8 + i);
    const __m512i vb = _mm512_loadu_si512(b + i);
    acc = _mm512_dpbusd_epi32(acc, va, vb);
  }
  if (i < n) {
    const __mmask64 m = (~__mmask64(0)) >> (64 - (n - i));
    const __m512i va = _mm512_maskz_loadu_epi8(m, a_u8 + i);
    const __m512i vb = _mm512_maskz_loadu_epi8(m, b + i);
    acc = _mm512_dpbusd_epi32(acc, va, vb);
  }
  return _mm512_reduce_add_epi32(acc);
}

// Four dot products sharing the activation row (one reduction per filter row).
__attribute__((target("avx512f,avx512bw,avx512vnni"))) inline void Dot4Vnni(const uint8_t* a_u8,
                                                                            const int8_t* b0, const int8_t* b1,
                                                                            const int8_t* b2, const int8_t* b3,
                                                                            int n, int32_t* out) {
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
  int i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i va = _mm512_loadu_si512(a_u8 + i);
    s0 = _mm512_dpbusd_epi32(s0, va, _mm512_loadu_si512(b0 + i));
    s1 = _mm512_dpbusd_epi32(s1, va, _mm512_loadu_si512(b1 + i));
    s2 = _mm512_dpbusd_epi32(s2, va, _mm512_loadu_si512(b2 + i));
    s3 = _mm512_dpbusd_epi32(s3, va, _mm512_loadu_si512(b3 + i));
  }
  if (i < n) {
    const __mmask64 m = (~__mmask64(0)) >> (64 - (n - i));
    const __m512i va = _mm512_maskz_loadu_epi8(m, a_u8 + i);
    s0 = _mm512_dpbusd_epi32(s0, va, _mm512_maskz_loadu_epi8(m, b0 + i));
    s1 = _mm512_dpbusd_epi32(s1, va, _mm512_maskz_loadu_epi8(m, b1 + i));
    s2 = _mm512_dpbusd_epi32(s2, va, _mm512_maskz_loadu_epi8(m, b2 + i));
    s3 = _mm512_dpbusd_epi32(s3, va, _mm512_maskz_loadu_epi8(m, b3 + i));
  }
  out[0] = _mm512_reduce_add_epi32(s0);
  out[1] = _mm512_reduce_add_epi32(s1);
  out[2] = _mm512_reduce_add_epi32(s2);
  out[3] = _mm512_reduce_add_epi32(s3);
}
#endif




alignas(64) const float kZeros[4096] = {};

#ifdef KWS_X86
// 4 output pixels (x0..x0+3 of row oy) × 16 channels [cb, cb+16) per call.
__attribute__((target("avx512f"))) void DirectBlock(const ConvGeometry& g, const Shape4& is, const float* input,
                                                    const Shape4& fs, const float* hwio, int b, int oy, int x0,
                                                    int npix, int cb, __mmask16 m, __m512 init, __m512* out) {
  __m512 a0 = init, a1 = init, a2 = init, a3 = init;
  const int cout = fs.n;
  const int y0 = oy * g.stride_h - g.pad_top;
  for (int ky = 0; ky < fs.h; ++ky) {
    const int y = y0 + ky * g.dilation_h;
    if (y < 0 || y >= is.h) continue;
    for (int kx = 0; kx < fs.w; ++kx) {
      const float* p[4];
      for (int j = 0; j < 4; ++j) {
        const int x = (x0 + j) * g.stride_w - g.pad_left + kx * g.dilation_w;
        p[j] = (j < npix && x >= 0 && x < is.w) ? input + Offset(is, b, y, x, 0) : kZeros;
      }
      const float* w = hwio + (int64_t(ky) * fs.w + kx) * is.c * cout + cb;
      for (int ic = 0; ic < is.c; ++ic) {
        const __m512 wv = _mm512_maskz_loadu_ps(m, w + int64_t(ic) * cout);
        a0 = _mm512_fmadd_ps(_mm512_set1_ps(p[0][ic]), wv, a0);
        a1 = _mm512_fmadd_ps(_mm512_set1_ps(p[1][ic]), wv, a1);
        a2 = _mm512_fmadd_ps(_mm512_set1_ps(p[2][ic]), wv, a2);
        a3 = _mm512_fmadd_ps(_mm512_set1_ps(p[3][ic]), wv, a3);
      }
    }
  }
  out[0] = a0;
  out[1] = a1;
  out[2] = a2;
  out[3] = a3;
}

__attribute__((target("avx512f"))) void ConvDirectAvx512(const ConvGeometry& g, const FloatAct& act,
                                                         const Shape4& is, const float* input, const Shape4& fs,
                                                         const float* hwio, const float* bias, const Shape4& os,
                                                         float* output) {
  const __m512 lo = _mm512_set1_ps(act.min), hi = _mm512_set1_ps(act.max);
  for (int b = 0; b < os.n; ++b)
    for (int oy = 0; oy < os.h; ++oy)
      for (int x0 = 0; x0 < os.w; x0 += 4) {
        const int npix = std::min(4, os.w - x0);
        for (int cb = 0; cb < os.c; cb += 16) {
          const int nc = std::min(16, os.c - cb);
          const __mmask16 m = __mmask16((1u << nc) - 1u);
          const __m512 init = bias ? _mm512_maskz_loadu_ps(m, bias + cb) : _mm512_setzero_ps();
          __m512 acc[4];
          DirectBlock(g, is, input, fs, hwio, b, oy, x0, npix, cb, m, init, acc);
          for (int j = 0; j < npix; ++j) {
            const __m512 v = _mm512_min_ps(_mm512_max_ps(acc[j], lo), hi);
            _mm512_mask_storeu_ps(output + Offset(os, b, oy, x0 + j, cb), m, v);
          }
        }
      }
}
#endif

}  // namespace

// Both honour SetMaxIsa / KWS_FORCE_PORTABLE (sparse_conv.h).
bool HasVnni() { return cpu::UseVnni(); }
bool HasAvx512() { return cpu::UseAvx512(); }

void PackFilterHWIO(const Shape4& fs, const float* ohwi, float* hwio) {
  for (int o = 0; o < fs.n; ++o)
    for (int y = 0; y < fs.h; ++y)
      for (int x = 0; x < fs.w; ++x)
        for (int i = 0; i < fs.c; ++i)
          hwio[((int64_t(y) * fs.w + x) * fs.c + i) * fs.n + o] = ohwi[Offset(fs, o, y, x, i)];
}

void ConvFloatDirect(const ConvGeometry& g, const FloatAct& act, const Shape4& is, const float* input,
                     const Shape4& fs, const float* hwio, const float* bias, const Shape4& os, float* output) {
#ifdef KWS_X86
  if (HasAvx512() && is.c <= 4096) {
    ConvDirectAvx512(g, act, is, input, fs, hwio, bias, os, output);
    return;
  }
#endif
  // Portable fallback with the same packed layout.
  for (int b = 0; b < os.n; ++b)
    for (int oy = 0; oy < os.h; ++oy)
      for (int ox = 0; ox < os.w; ++ox) {
        float* out = output + Offset(os, b, oy, ox, 0);
        for (int c = 0; c < os.c; ++c) out[c] = bias ? bias[c] : 0.0f;
        for (int ky = 0; ky < fs.h; ++ky) {
          const int y = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
          if (y < 0 || y >= is.h) continue;
          for (int kx = 0; kx < fs.w; ++kx) {
            const int x = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
            if (x < 0 || x >= is.w) continue;
            const float* in = input + Offset(is, b, y, x, 0);
            const float* w = hwio + (int64_t(ky) * fs.w + kx) * is.c * os.c;
            for (int ic = 0; ic < is.c; ++ic)
              for (int c = 0; c < os.c; ++c) out[c] += in[ic] * w[int64_t(ic) * os.c + c];
          }
        }
        for (int c = 0; c < os.c; ++c) out[c] = std::clamp(out[c], act.min, act.max);
      }
}

size_t ConvIm2colElements(const ConvGeometry& g, const Shape4& is, const Shape4& fs, const Shape4& os) {
  if (IsPointwise(g, fs)) return 0;
  return size_t(os.n) * os.h * os.w * fs.h * fs.w * is.c;
}

void ConvFloat(const ConvGeometry& g, const FloatAct& act, const Shape4& is, const float* input,
               const Shape4& fs, const float* filter, const float* bias, const Shape4& os, float* output,
               float* im2col) {
  const int64_t rows = int64_t(os.n) * os.h * os.w;
  const int64_t k = int64_t(fs.h) * fs.w * is.c;
  const float* col = input;
  if (!IsPointwise(g, fs)) {
    Im2col<float>(g, is, input, fs, os, 0.0f, im2col);
    col = im2col;
  }
  Eigen::Map<const RowMat> a(col, rows, k);
  Eigen::Map<const RowMat> w(filter, os.c, k);
  Eigen::Map<RowMat> out(output, rows, os.c);
  out.noalias() = a * w.transpose();
  for (int64_t r = 0; r < rows; ++r) {
    float* o = output + r * os.c;
    for (int c = 0; c < os.c; ++c) o[c] = std::clamp(o[c] + (bias ? bias[c] : 0.0f), act.min, act.max);
  }
}

void ConvInt8(const ConvGeometry& g, const QuantParams& q, const int32_t* multiplier, const int* shift,
              const Shape4& is, const int8_t* input, const Shape4& fs, const int8_t* filter,
              const int32_t* filter_sums, const int32_t* bias, const Shape4& os, int8_t* output, int8_t* im2col) {
  const int rows = os.n * os.h * os.w;
  const int k = fs.h * fs.w * is.c;
  const int units = os.c;
  const int8_t pad = static_cast<int8_t>(std::clamp(-q.input_offset, -128, 127));
  const int8_t* col = input;
  if (!IsPointwise(g, fs)) {
    Im2col<int8_t>(g, is, input, fs, os, pad, im2col);
    col = im2col;
  }
  auto finish = [&](int r, int u, int32_t dot) {
    // dot = Σ f·x; the reference computes Σ f·(x + input_offset) + bias.
    int32_t acc = dot + q.input_offset * filter_sums[u];
    if (bias) acc += bias[u];
    output[int64_t(r) * units + u] = static_cast<int8_t>(Requantize(acc, q, multiplier, shift, u));
  };
#ifdef KWS_X86
  if (HasVnni()) {
    // VNNI multiplies unsigned × signed bytes: feed x + 128 (x ^ 0x80) and
    // subtract 128·Σf afterwards.
    uint8_t row_u8[4096];
    if (k <= 4096) {
      for (int r = 0; r < rows; ++r) {
        const int8_t* x = col + int64_t(r) * k;
        for (int i = 0; i < k; ++i) row_u8[i] = static_cast<uint8_t>(x[i]) ^ 0x80u;
        int u = 0;
        int32_t d[4];
        for (; u + 4 <= units; u += 4) {
          const int8_t* f = filter + int64_t(u) * k;
          Dot4Vnni(row_u8, f, f + k, f + 2 * k, f + 3 * k, k, d);
          for (int j = 0; j < 4; ++j) finish(r, u + j, d[j] - 128 * filter_sums[u + j]);
        }
        for (; u < units; ++u) finish(r, u, DotVnni(row_u8, filter + int64_t(u) * k, k) - 128 * filter_sums[u]);
      }
      return;
    }
  }
#endif
  for (int r = 0; r < rows; ++r) {
    const int8_t* x = col + int64_t(r) * k;
    for (int u = 0; u < units; ++u) finish(r, u, DotPlain(x, filter + int64_t(u) * k, k));
  }
}

void DepthwiseFloat(const ConvGeometry& g, const FloatAct& act, const Shape4& is, const float* input,
                    const Shape4& fs, const float* filter, const float* bias, const Shape4& os, float* output) {
  const int m = g.depth_multiplier;
  for (int b = 0; b < os.n; ++b)
    for (int oy = 0; oy < os.h; ++oy)
      for (int ox = 0; ox < os.w; ++ox) {
        float* out = output + Offset(os, b, oy, ox, 0);
        for (int c = 0; c < os.c; ++c) out[c] = bias ? bias[c] : 0.0f;
        ref::ForEachTap(g, is, fs, oy, ox, [&](int y, int x, int ky, int kx) {
          const float* in = input + Offset(is, b, y, x, 0);
          const float* f = filter + Offset(fs, 0, ky, kx, 0);
          if (m == 1) {
            for (int c = 0; c < os.c; ++c) out[c] += in[c] * f[c];
          } else {
            for (int ic = 0; ic < is.c; ++ic)
              for (int j = 0; j < m; ++j) out[ic * m + j] += in[ic] * f[ic * m + j];
          }
        });
        for (int c = 0; c < os.c; ++c) out[c] = std::clamp(out[c], act.min, act.max);
      }
}

// Written once; the compiler vectorizes the channel loops, in an AVX2 copy too (cpu.h), which is what makes
// DS-CNN's and BC-ResNet's depthwise layers faster than the official interpreter's.
KWS_VARIANT_BODY void DepthwiseInt8Body(const ConvGeometry& g, const QuantParams& q, const int32_t* multiplier,
                                        const int* shift, const Shape4& is, const int8_t* input, const Shape4& fs,
                                        const int8_t* filter, const int32_t* bias, const Shape4& os, int8_t* output) {
  constexpr int kBlock = 256;
  const int m = g.depth_multiplier;
  int32_t acc[kBlock];
  for (int b = 0; b < os.n; ++b)
    for (int oy = 0; oy < os.h; ++oy)
      for (int ox = 0; ox < os.w; ++ox) {
        const int y0 = oy * g.stride_h - g.pad_top, x0 = ox * g.stride_w - g.pad_left;
        int8_t* out = output + Offset(os, b, oy, ox, 0);
        for (int c0 = 0; c0 < os.c; c0 += kBlock) {
          const int nc = std::min(kBlock, os.c - c0);
          for (int c = 0; c < nc; ++c) acc[c] = 0;
          for (int ky = 0; ky < fs.h; ++ky) {
            const int y = y0 + ky * g.dilation_h;
            if (y < 0 || y >= is.h) continue;
            for (int kx = 0; kx < fs.w; ++kx) {
              const int x = x0 + kx * g.dilation_w;
              if (x < 0 || x >= is.w) continue;
              const int8_t* in = input + Offset(is, b, y, x, 0);
              const int8_t* f = filter + Offset(fs, 0, ky, kx, c0);
              if (m == 1) {
                const int8_t* inc = in + c0;
                for (int c = 0; c < nc; ++c)
                  acc[c] += (int32_t(f[c]) + q.weight_offset) * (int32_t(inc[c]) + q.input_offset);
              } else {
                for (int c = 0; c < nc; ++c)
                  acc[c] += (int32_t(f[c]) + q.weight_offset) * (int32_t(in[(c0 + c) / m]) + q.input_offset);
              }
            }
          }
          for (int c = 0; c < nc; ++c) {
            const int oc = c0 + c;
            const int32_t a = bias ? acc[c] + bias[oc] : acc[c];
            out[oc] = static_cast<int8_t>(Requantize(a, q, multiplier, shift, oc));
          }
        }
      }
}
KWS_AVX2_VARIANTS(void, DepthwiseInt8,
                  (const ConvGeometry& g, const QuantParams& q, const int32_t* multiplier, const int* shift,
                   const Shape4& is, const int8_t* input, const Shape4& fs, const int8_t* filter,
                   const int32_t* bias, const Shape4& os, int8_t* output),
                  (g, q, multiplier, shift, is, input, fs, filter, bias, os, output))

#ifdef KWS_X86
namespace {
__attribute__((target("avx512f,avx512dq"))) void QuantizeAvx512(float scale, int32_t zp, int64_t n, const float* in,
                                                               int8_t* out) {
  const __m512 vs = _mm512_set1_ps(scale), half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
  const __m512 sign = _mm512_set1_ps(-0.0f), lim = _mm512_set1_ps(1.0e6f);
  const __m512i vzp = _mm512_set1_epi32(zp), lo = _mm512_set1_epi32(-128), hi = _mm512_set1_epi32(127);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1u);
    const __m512 y = _mm512_div_ps(_mm512_maskz_loadu_ps(m, in + i), vs);
    // std::round: truncate, then step away from zero when the dropped part is >= 0.5.
    const __m512 t = _mm512_roundscale_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(y, t)), half, _CMP_GE_OQ);
    __m512 r = _mm512_mask_add_ps(t, up, t, _mm512_or_ps(_mm512_and_ps(y, sign), one));
    r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(r, r, _CMP_ORD_Q), r);  // NaN → 0
    r = _mm512_min_ps(_mm512_max_ps(r, _mm512_sub_ps(_mm512_setzero_ps(), lim)), lim);
    __m512i q = _mm512_add_epi32(_mm512_cvttps_epi32(r), vzp);
    q = _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
    _mm512_mask_cvtepi32_storeu_epi8(out + i, m, q);
  }
}
}  // namespace
#endif

void QuantizeFloatToInt8(float scale, int32_t zero_point, int64_t n, const float* in, int8_t* out) {
#ifdef KWS_X86
  if (HasAvx512()) {
    QuantizeAvx512(scale, zero_point, n, in, out);
    return;
  }
#endif
  for (int64_t i = 0; i < n; ++i) out[i] = QuantizeToInt8(in[i], scale, zero_point);
}

void FullyConnectedFloat(const FloatAct& act, int batches, int depth, int units, const float* input,
                         const float* weights, const float* bias, float* output) {
  Eigen::Map<const RowMat> a(input, batches, depth);
  Eigen::Map<const RowMat> w(weights, units, depth);
  Eigen::Map<RowMat> out(output, batches, units);
  out.noalias() = a * w.transpose();
  for (int b = 0; b < batches; ++b) {
    float* o = output + int64_t(b) * units;
    for (int u = 0; u < units; ++u) o[u] = std::clamp(o[u] + (bias ? bias[u] : 0.0f), act.min, act.max);
  }
}

void BatchMatMulFloat(const ref::BatchMatMulParams& p, const float* lhs, const float* rhs, float* out) {
  ref::ForEachBatch(p, [&](int64_t lo, int64_t ro, int64_t oo) {
    Eigen::Map<RowMat> y(out + oo, p.m, p.n);
    if (!p.adj_x && !p.adj_y)
      y.noalias() = Eigen::Map<const RowMat>(lhs + lo, p.m, p.k) * Eigen::Map<const RowMat>(rhs + ro, p.k, p.n);
    else if (p.adj_x && !p.adj_y)
      y.noalias() = Eigen::Map<const RowMat>(lhs + lo, p.k, p.m).transpose() *
                    Eigen::Map<const RowMat>(rhs + ro, p.k, p.n);
    else if (!p.adj_x)
      y.noalias() = Eigen::Map<const RowMat>(lhs + lo, p.m, p.k) *
                    Eigen::Map<const RowMat>(rhs + ro, p.n, p.k).transpose();
    else
      y.noalias() = Eigen::Map<const RowMat>(lhs + lo, p.k, p.m).transpose() *
                    Eigen::Map<const RowMat>(rhs + ro, p.n, p.k).transpose();
  });
}

}  // namespace kws::rt::opt
