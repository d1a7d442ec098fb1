// Sparse CONV_2D (see sparse_conv.h): phase planes + per-channel tap lists,
// output pixels in SIMD lanes. Plain C++ path first, then the AVX-512 one.
#include "runtime/kernels/optimized/sparse_conv.h"

#include "util/cpu.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KWS_X86 1
#endif

namespace kws::rt::opt {
namespace {

int64_t Round16(int64_t v) { return (v + 15) / 16 * 16; }



// ---- plan -------------------------------------------------------------------

template <typename W>
void Prepare(const ConvGeometry& g, const Shape4& is, const Shape4& fs, const Shape4& os, const W* filter,
             SparseConvPlan* plan) {
  SparseConvPlan& p = *plan;
  p.g = g;
  p.is = is;
  p.fs = fs;
  p.os = os;
  const int sh = g.stride_h, sw = g.stride_w;
  const int max_dy = (fs.h - 1) * g.dilation_h / sh, max_dx = (fs.w - 1) * g.dilation_w / sw;
  p.hq = os.h + max_dy;
  p.wq = os.w + max_dx;
  p.span = Round16(int64_t(os.h) * p.wq);
  p.plane = Round16(std::max(p.span + int64_t(max_dy) * p.wq + max_dx, int64_t(p.hq) * p.wq + 16));
  p.start.assign(size_t(os.c) + 1, 0);
  p.off.clear();
  p.w.clear();
  p.exact_int = true;
  struct Tap {
    int64_t off;
    float w;
  };
  std::vector<Tap> taps;
  for (int co = 0; co < os.c; ++co) {
    taps.clear();
    double abs_sum = 0.0;
    for (int ky = 0; ky < fs.h; ++ky)
      for (int kx = 0; kx < fs.w; ++kx)
        for (int ci = 0; ci < fs.c; ++ci) {
          const float v = float(filter[Offset(fs, co, ky, kx, ci)]);
          if (v == 0.0f) continue;
          const int ty = ky * g.dilation_h, tx = kx * g.dilation_w;
          const int64_t pl = (int64_t(ty % sh) * sw + tx % sw) * is.c + ci;
          taps.push_back({pl * p.plane + int64_t(ty / sh) * p.wq + tx / sw, v});
          abs_sum += std::fabs(double(v));
        }
    std::stable_sort(taps.begin(), taps.end(), [](const Tap& a, const Tap& b) { return a.off < b.off; });
    for (const Tap& t : taps) {
      p.off.push_back(int32_t(std::min<int64_t>(t.off, INT32_MAX)));
      p.w.push_back(t.w);
    }
    p.start[size_t(co) + 1] = int32_t(p.off.size());
    if (abs_sum * 255.0 >= double(1 << 24)) p.exact_int = false;
  }
}

// ---- hybrid input quantization (same arithmetic as ref::*Quantize) ----------

struct HybridQ {
  float inv = 1.0f;   // 1/scale (127/range when symmetric)
  float zp = 0.0f;    // zero point as float
  float lo = -128.0f, hi = 127.0f;
  bool symmetric = false;
  bool all_zero = false;  // degenerate input: every quantized value is 0 (= zp)
  float scale = 1.0f;
};

HybridQ HybridParams(bool asymmetric, float mn, float mx) {
  HybridQ h;
  if (!asymmetric) {
    h.symmetric = true;
    h.lo = -127.0f;
    const float range = std::max(std::fabs(mn), std::fabs(mx));
    if (!(range > 0.0f) || !std::isfinite(range)) {
      h.all_zero = true;
      return h;
    }
    h.scale = range / 127.0f;
    h.inv = 127.0f / range;
    return h;
  }
  const double rmin = mn, rmax = mx;
  if (rmin == rmax || !std::isfinite(rmin) || !std::isfinite(rmax)) {
    h.all_zero = true;
    return h;
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
  h.scale = static_cast<float>(s);
  h.zp = float(zp);
  h.inv = 1.0f / h.scale;
  return h;
}

// std::round (half away from zero) of v already clamped to integer bounds within ±2^22, without
// a libm call: the truncation plus a half-step correction (v − trunc(v) is exact here).
inline float RoundClamped(float v) {
  const float t = float(static_cast<int32_t>(v));
  const float f = v - t;
  return t + float(f >= 0.5f) - float(f <= -0.5f);
}

// q − zp for one input value. Clamping before rounding gives round-then-clamp's result (the bounds
// are integers and rounding is monotonic); NaN maps to 0.
inline float HybridValue(const HybridQ& h, float x) {
  if (h.all_zero) return 0.0f;
  if (h.symmetric) {
    const float v = x * h.inv;
    return std::isnan(v) ? 0.0f : RoundClamped(std::clamp(v, -127.0f, 127.0f));
  }
  const float v = h.zp + x * h.inv;
  return std::isnan(v) ? 0.0f : RoundClamped(std::clamp(v, -128.0f, 127.0f)) - h.zp;
}

// ---- plain C++ path -----------------------------------------------------------

// planes[(py·sw + px)·C + c][i·wq + j] = f(input at padded (sh·i + py, sw·j + px)) or 0.
template <typename T, typename F>
void BuildPlanesPlain(const SparseConvPlan& p, Layout lay, const T* in, F f, float* planes) {
  const int H = p.is.h, W = p.is.w, C = p.is.c, sh = p.g.stride_h, sw = p.g.stride_w;
  for (int py = 0; py < sh; ++py)
    for (int px = 0; px < sw; ++px)
      for (int c = 0; c < C; ++c) {
        float* dst = planes + (int64_t(py * sw + px) * C + c) * p.plane;
        for (int i = 0; i < p.hq; ++i) {
          const int y = sh * i + py - p.g.pad_top;
          float* d = dst + int64_t(i) * p.wq;
          if (y < 0 || y >= H) {
            std::fill(d, d + p.wq, 0.0f);
            continue;
          }
          for (int j = 0; j < p.wq; ++j) {
            const int x = sw * j + px - p.g.pad_left;
            if (x < 0 || x >= W) {
              d[j] = 0.0f;
            } else {
              const int64_t idx = lay == Layout::kChw ? (int64_t(c) * H + y) * W + x : (int64_t(y) * W + x) * C + c;
              d[j] = f(in[idx]);
            }
          }
        }
        std::fill(dst + int64_t(p.hq) * p.wq, dst + p.plane, 0.0f);
      }
}

inline __attribute__((always_inline)) void AccumulateBody(const SparseConvPlan& p, const float* planes, float* acc) {
  const int64_t span = p.span;
  for (int co = 0; co < p.os.c; ++co) {
    float* a = acc + int64_t(co) * span;
    for (int64_t i = 0; i < span; ++i) a[i] = 0.0f;
    for (int32_t t = p.start[size_t(co)]; t < p.start[size_t(co) + 1]; ++t) {
      const float* s = planes + p.off[size_t(t)];
      const float wv = p.w[size_t(t)];
      for (int64_t i = 0; i < span; ++i) a[i] += wv * s[i];
    }
  }
}

void AccumulatePlain(const SparseConvPlan& p, const float* planes, float* acc) { AccumulateBody(p, planes, acc); }

#ifdef KWS_X86
__attribute__((target("avx2,fma"))) void AccumulateAvx2(const SparseConvPlan& p, const float* planes, float* acc) {
  AccumulateBody(p, planes, acc);
}

// HybridValue over n floats (n a multiple of 8), 8 lanes at a time: the same values (round half
// away from zero as truncation plus a half-step correction, clamp, − zp; NaN → 0).
__attribute__((target("avx2,fma"))) void QuantizePlanesAvx2(const HybridQ& h, int64_t n, float* x) {
  if (h.all_zero) {
    std::fill(x, x + n, 0.0f);
    return;
  }
  const __m256 inv = _mm256_set1_ps(h.inv), zp = _mm256_set1_ps(h.zp), lo = _mm256_set1_ps(h.lo),
               hi = _mm256_set1_ps(h.hi), half = _mm256_set1_ps(0.5f), sign = _mm256_set1_ps(-0.0f),
               one = _mm256_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 8) {
    __m256 y = _mm256_mul_ps(_mm256_loadu_ps(x + i), inv);
    if (!h.symmetric) y = _mm256_add_ps(zp, y);
    const __m256 ordered = _mm256_cmp_ps(y, y, _CMP_ORD_Q);
    const __m256 t = _mm256_round_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 up = _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_sub_ps(y, t)), half, _CMP_GE_OQ);
    const __m256 step = _mm256_and_ps(up, _mm256_or_ps(_mm256_and_ps(y, sign), one));  // ±1 or 0
    __m256 r = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(t, step), lo), hi);
    _mm256_storeu_ps(x + i, _mm256_and_ps(_mm256_sub_ps(r, zp), ordered));
  }
}
#endif

// out (one batch item) = e(acc value, channel) in NHWC or CHW.
template <typename U, typename E>
void EpiloguePlain(const SparseConvPlan& p, const float* acc, Layout lay, U* out, E e) {
  const int OH = p.os.h, OW = p.os.w, C = p.os.c;
  for (int co = 0; co < C; ++co)
    for (int oy = 0; oy < OH; ++oy) {
      const float* a = acc + int64_t(co) * p.span + int64_t(oy) * p.wq;
      for (int ox = 0; ox < OW; ++ox) {
        const int64_t idx = lay == Layout::kChw ? (int64_t(co) * OH + oy) * OW + ox : (int64_t(oy) * OW + ox) * C + co;
        out[idx] = e(a[ox], co);
      }
    }
}

// Fused hand-off, plain: e(acc, channel) into the next conv's phase planes. e runs in place over
// each channel's whole accumulator rows first (one contiguous, vectorisable loop; the columns past
// OW hold finite sums and are never copied), then the rows are copied into the planes.
template <typename E>
void EpilogueToPlanesPlain(const SparseConvPlan& p, float* acc, const SparseConvPlan& nx, float* planes, E e) {
  std::fill(planes, planes + nx.planes() * nx.plane, 0.0f);
  const int sh = nx.g.stride_h, sw = nx.g.stride_w, C = p.os.c;
  const int64_t used = int64_t(p.os.h) * p.wq;
  for (int co = 0; co < C; ++co) {
    float* ac = acc + int64_t(co) * p.span;
    for (int64_t k = 0; k < used; ++k) ac[k] = e(ac[k], co);
    for (int oy = 0; oy < p.os.h; ++oy) {
      const int y = oy + nx.g.pad_top, py = y % sh, i = y / sh;
      if (i >= nx.hq) continue;
      const float* a = ac + int64_t(oy) * p.wq;
      // Column x = ox + pad_left goes to phase px = x % sw, column j = x / sw: walk each phase's
      // columns with a stride of sw (no division per element).
      for (int px = 0; px < sw; ++px) {
        const int x0 = nx.g.pad_left <= px ? px : px + (nx.g.pad_left - px + sw - 1) / sw * sw;  // first x >= pad_left
        float* dst = planes + (int64_t(py * sw + px) * C + co) * nx.plane + int64_t(i) * nx.wq;
        for (int x = x0, j = x0 / sw; x - nx.g.pad_left < p.os.w && j < nx.wq; x += sw, ++j)
          dst[j] = a[x - nx.g.pad_left];
      }
    }
  }
}

void Accumulate(Isa isa, const SparseConvPlan& p, const float* planes, float* acc);

// ---- AVX-512 path -------------------------------------------------------------

#ifdef KWS_X86
// GCC 12's AVX-512 intrinsics (min/max/convert/reduce) trip false
// -Wmaybe-uninitialized warnings on their internal undefined operands.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define KWS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

KWS_AVX512 inline __mmask16 LaneMask(int n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u);
}
// Lanes l with 0 <= x0 + l < n.
KWS_AVX512 inline __mmask16 RangeMask(int x0, int n) {
  const int lo = std::max(0, -x0), hi = std::min(16, n - x0);
  if (hi <= lo) return 0;
  return __mmask16(LaneMask(hi) & ~LaneMask(lo));
}

struct LoadFloat {
  KWS_AVX512 __m512 operator()(const float* p, __mmask16 m) const { return _mm512_maskz_loadu_ps(m, p); }
};
struct LoadInt8 {
  int32_t offset;
  KWS_AVX512 __m512 operator()(const int8_t* p, __mmask16 m) const {
    const __m512i v = _mm512_add_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p)), _mm512_set1_epi32(offset));
    return _mm512_maskz_mov_ps(m, _mm512_cvtepi32_ps(v));
  }
};
// std::round (half away from zero) for every lane.
KWS_AVX512 inline __m512 RoundHalfAway(__m512 y) {
  const __m512 t = _mm512_roundscale_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 d = _mm512_abs_ps(_mm512_sub_ps(y, t));
  const __mmask16 up = _mm512_cmp_ps_mask(d, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 one = _mm512_or_ps(_mm512_and_ps(y, _mm512_set1_ps(-0.0f)), _mm512_set1_ps(1.0f));
  return _mm512_mask_add_ps(t, up, t, one);
}
struct LoadHybrid {
  HybridQ h;
  KWS_AVX512 __m512 operator()(const float* p, __mmask16 m) const {
    if (h.all_zero) return _mm512_setzero_ps();
    const __m512 x = _mm512_maskz_loadu_ps(m, p);
    __m512 y = _mm512_mul_ps(x, _mm512_set1_ps(h.inv));
    if (!h.symmetric) y = _mm512_add_ps(_mm512_set1_ps(h.zp), y);
    const __mmask16 nan = _mm512_cmp_ps_mask(y, y, _CMP_UNORD_Q);
    __m512 r = RoundHalfAway(y);
    r = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(h.lo)), _mm512_set1_ps(h.hi));
    r = _mm512_sub_ps(r, _mm512_set1_ps(h.zp));
    return _mm512_maskz_mov_ps(__mmask16(m & ~nan), r);
  }
};

// Channel-planar input (CHW, or NHWC with C == 1), strides 1 or 2. Rows are
// written in order with full 16-float stores (a row's spill past wq is
// overwritten by the next row; the plan leaves >= 16 floats of slack).
template <typename T, typename L>
KWS_AVX512 void BuildPlanesAvx512(const SparseConvPlan& p, const T* in, const L& load, float* planes) {
  const int H = p.is.h, W = p.is.w, C = p.is.c, sh = p.g.stride_h, sw = p.g.stride_w;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512 zero = _mm512_setzero_ps();
  const int nb = (p.wq + 15) / 16;
  for (int py = 0; py < sh; ++py)
    for (int px = 0; px < sw; ++px) {
      // Rows [i0, i1) of this phase read input rows; the others are padding.
      const int first = py - p.g.pad_top;  // input row of plane row 0
      const int i0 = std::min(p.hq, first >= 0 ? 0 : (-first + sh - 1) / sh);
      const int i1 = std::max(i0, std::min(p.hq, first >= H ? 0 : (H - first + sh - 1) / sh));
      for (int c = 0; c < C; ++c) {
        float* dst = planes + (int64_t(py * sw + px) * C + c) * p.plane;
        const T* src = in + int64_t(c) * H * W;
        for (int64_t k = 0; k < int64_t(i0) * p.wq; k += 16) _mm512_storeu_ps(dst + k, zero);
        // Rows outer, 16-column blocks inner: stores go strictly forward, so
        // each block's spill is overwritten by the next block or row.
        __mmask16 mlo[8], mhi[8];
        int x0[8];
        for (int b = 0; b < nb; ++b) {
          x0[b] = sw == 1 ? 16 * b - p.g.pad_left : 32 * b + px - p.g.pad_left;
          mlo[b] = RangeMask(x0[b], W);
          mhi[b] = RangeMask(x0[b] + 16, W);
        }
        float* d = dst + int64_t(i0) * p.wq;
        const T* row = src + int64_t(sh * i0 + first) * W;
        for (int i = i0; i < i1; ++i, d += p.wq, row += int64_t(sh) * W) {
          if (sw == 1) {
            for (int b = 0; b < nb; ++b) _mm512_storeu_ps(d + 16 * b, load(row + x0[b], mlo[b]));
          } else {
            for (int b = 0; b < nb; ++b)
              _mm512_storeu_ps(d + 16 * b,
                               _mm512_permutex2var_ps(load(row + x0[b], mlo[b]), even, load(row + x0[b] + 16, mhi[b])));
          }
        }
        for (int64_t k = int64_t(i1) * p.wq; k < p.plane; k += 16)
          _mm512_mask_storeu_ps(dst + k, LaneMask(int(std::min<int64_t>(16, p.plane - k))), zero);
      }
    }
}

template <int NV>
KWS_AVX512 inline void AccBlock(const float* planes, const int32_t* off, const float* w, int nt, int64_t base,
                                float* out) {
  __m512 a[NV];
  for (int v = 0; v < NV; ++v) a[v] = _mm512_setzero_ps();
  for (int t = 0; t < nt; ++t) {
    const __m512 wv = _mm512_set1_ps(w[t]);
    const float* s = planes + off[t] + base;
    for (int v = 0; v < NV; ++v) a[v] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(s + 16 * v), a[v]);
  }
  for (int v = 0; v < NV; ++v) _mm512_storeu_ps(out + 16 * v, a[v]);
}

KWS_AVX512 void AccumulateAvx512(const SparseConvPlan& p, const float* planes, float* acc) {
  const int64_t nvec = p.span / 16;
  for (int co = 0; co < p.os.c; ++co) {
    const int32_t t0 = p.start[size_t(co)];
    const int nt = p.start[size_t(co) + 1] - t0;
    const int32_t* off = p.off.data() + t0;
    const float* w = p.w.data() + t0;
    float* a = acc + int64_t(co) * p.span;
    int64_t v = 0;
    for (; v + 8 <= nvec; v += 8) AccBlock<8>(planes, off, w, nt, 16 * v, a + 16 * v);
    switch (nvec - v) {
      case 1: AccBlock<1>(planes, off, w, nt, 16 * v, a + 16 * v); break;
      case 2: AccBlock<2>(planes, off, w, nt, 16 * v, a + 16 * v); break;
      case 3: AccBlock<3>(planes, off, w, nt, 16 * v, a + 16 * v); break;
      case 4: AccBlock<4>(planes, off, w, nt, 16 * v, a + 16 * v); break;
      case 5: AccBlock<5>(planes, off, w, nt, 16 * v, a + 16 * v); break;
      case 6: AccBlock<6>(planes, off, w, nt, 16 * v, a + 16 * v); break;
      case 7: AccBlock<7>(planes, off, w, nt, 16 * v, a + 16 * v); break;
      default: break;
    }
  }
}

// r[0..16) rows → r[j] = column j.
KWS_AVX512 inline void Transpose16(__m512* r) {
  __m512 t[16], u[16];
  for (int k = 0; k < 16; k += 2) {
    t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
  }
  for (int k = 0; k < 16; k += 4) {
    const __m512d a = _mm512_castps_pd(t[k]), b = _mm512_castps_pd(t[k + 1]);
    const __m512d c = _mm512_castps_pd(t[k + 2]), d = _mm512_castps_pd(t[k + 3]);
    u[k] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  // u[4q + g] holds rows 4q..4q+3 of columns 4k + g in 128-bit lane k.
  for (int g = 0; g < 4; ++g) {
    const __m512 v0 = _mm512_shuffle_f32x4(u[g], u[4 + g], 0x88), v1 = _mm512_shuffle_f32x4(u[g], u[4 + g], 0xDD);
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + g], u[12 + g], 0x88),
                 v3 = _mm512_shuffle_f32x4(u[8 + g], u[12 + g], 0xDD);
    r[g] = _mm512_shuffle_f32x4(v0, v2, 0x88);
    r[g + 8] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
    r[g + 4] = _mm512_shuffle_f32x4(v1, v3, 0x88);
    r[g + 12] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
  }
}

// Epilogues: Bcast(c) = every lane is channel c; Lanes(cb, m) = lane l is
// channel cb + l; Store(dst, m, acc) writes the masked lanes.
struct EpiFloat {
  const float* bias;
  float lo, hi;
  __m512 b;
  KWS_AVX512 void Bcast(int c) { b = _mm512_set1_ps(bias ? bias[c] : 0.0f); }
  KWS_AVX512 void Lanes(int cb, __mmask16 m) { b = bias ? _mm512_maskz_loadu_ps(m, bias + cb) : _mm512_setzero_ps(); }
  KWS_AVX512 __m512 Plane(__m512 acc) const {
    return _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(acc, b), _mm512_set1_ps(lo)), _mm512_set1_ps(hi));
  }
  KWS_AVX512 void Store(float* dst, __mmask16 m, __m512 acc) const { _mm512_mask_storeu_ps(dst, m, Plane(acc)); }
};
struct EpiHybrid {
  const float* bias;
  const float* fscale;
  float in_scale, lo, hi;
  __m512 b, s;
  KWS_AVX512 void Bcast(int c) {
    b = _mm512_set1_ps(bias ? bias[c] : 0.0f);
    s = _mm512_set1_ps(fscale[c]);
  }
  KWS_AVX512 void Lanes(int cb, __mmask16 m) {
    b = bias ? _mm512_maskz_loadu_ps(m, bias + cb) : _mm512_setzero_ps();
    s = _mm512_maskz_loadu_ps(m, fscale + cb);
  }
  KWS_AVX512 __m512 Plane(__m512 acc) const {
    __m512 v = _mm512_mul_ps(_mm512_mul_ps(acc, _mm512_set1_ps(in_scale)), s);
    v = _mm512_add_ps(v, b);
    return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(lo)), _mm512_set1_ps(hi));
  }
  KWS_AVX512 void Store(float* dst, __mmask16 m, __m512 acc) const { _mm512_mask_storeu_ps(dst, m, Plane(acc)); }
};
// XNNPACK-style fp32 requantization (QuantParams::fp32_scale set).
struct EpiInt8 {
  const int32_t* bias;
  const float* scale;
  float lo, hi;  // act_min − zp, act_max − zp
  int32_t zp;
  __m512i b;
  __m512 s;
  KWS_AVX512 void Bcast(int c) {
    b = _mm512_set1_epi32(bias ? bias[c] : 0);
    s = _mm512_set1_ps(scale[c]);
  }
  KWS_AVX512 void Lanes(int cb, __mmask16 m) {
    b = bias ? _mm512_maskz_loadu_epi32(m, bias + cb) : _mm512_setzero_si512();
    s = _mm512_maskz_loadu_ps(m, scale + cb);
  }
  int32_t next_offset;  // Plane(): the next conv's input offset
  KWS_AVX512 __m512i Out(__m512 acc) const {
    const __m512i a = _mm512_add_epi32(_mm512_cvtps_epi32(acc), b);
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(a), s);
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(lo)), _mm512_set1_ps(hi));
    return _mm512_add_epi32(_mm512_cvtps_epi32(v), _mm512_set1_epi32(zp));
  }
  KWS_AVX512 __m512 Plane(__m512 acc) const {
    return _mm512_cvtepi32_ps(_mm512_add_epi32(Out(acc), _mm512_set1_epi32(next_offset)));
  }
  KWS_AVX512 void Store(int8_t* dst, __mmask16 m, __m512 acc) const {
    _mm512_mask_cvtepi32_storeu_epi8(dst, m, Out(acc));
  }
};

// x → q − zp in place over n floats (n a multiple of 16).
KWS_AVX512 void QuantizePlanesAvx512(const HybridQ& h, int64_t n, float* x) {
  const LoadHybrid q{h};
  for (int64_t i = 0; i < n; i += 16) _mm512_storeu_ps(x + i, q(x + i, 0xFFFF));
}

// Running min/max from 0 over n floats (NaN ignored, as std::min(mn, x)).
KWS_AVX512 void MinMaxAvx512(const float* in, int64_t n, float* mn, float* mx) {
  __m512 vmn = _mm512_setzero_ps(), vmx = vmn;
  for (int64_t i = 0; i < n; i += 16) {
    const __m512 x = _mm512_maskz_loadu_ps(LaneMask(int(std::min<int64_t>(16, n - i))), in + i);
    vmn = _mm512_min_ps(x, vmn);  // returns the second operand when x is NaN
    vmx = _mm512_max_ps(x, vmx);
  }
  *mn = _mm512_reduce_min_ps(vmn);
  *mx = _mm512_reduce_max_ps(vmx);
}

template <typename U, typename E>
KWS_AVX512 void EpilogueAvx512(const SparseConvPlan& p, const float* acc, Layout lay, U* out, E e) {
  const int OH = p.os.h, OW = p.os.w, C = p.os.c, wq = p.wq;
  if (lay == Layout::kChw) {
    for (int co = 0; co < C; ++co) {
      e.Bcast(co);
      for (int oy = 0; oy < OH; ++oy) {
        const float* a = acc + int64_t(co) * p.span + int64_t(oy) * wq;
        U* d = out + (int64_t(co) * OH + oy) * OW;
        for (int ox = 0; ox < OW; ox += 16) {
          const __mmask16 m = LaneMask(OW - ox);
          e.Store(d + ox, m, _mm512_maskz_loadu_ps(m, a + ox));
        }
      }
    }
    return;
  }
  const int64_t positions = int64_t(OH) * wq;
  for (int cb = 0; cb < C; cb += 16) {
    const int nc = std::min(16, C - cb);
    const __mmask16 cm = LaneMask(nc);
    e.Lanes(cb, cm);
    int oy = 0, ox = 0;
    for (int64_t pb = 0; pb < positions; pb += 16) {
      __m512 r[16];
      for (int l = 0; l < 16; ++l)
        r[l] = l < nc ? _mm512_loadu_ps(acc + int64_t(cb + l) * p.span + pb) : _mm512_setzero_ps();
      Transpose16(r);
      for (int j = 0; j < 16 && oy < OH; ++j) {
        if (ox < OW) e.Store(out + (int64_t(oy) * OW + ox) * C + cb, cm, r[j]);
        if (++ox == wq) ox = 0, ++oy;
      }
    }
  }
}
// Fused hand-off: the values go straight into the next conv's phase planes
// (`nx`), zero padding included. Stores run strictly forward in every plane
// with the lanes past the row's end zeroed, so each spill only writes zeros
// where padding belongs or where a later store writes.
template <typename E>
KWS_AVX512 void EpilogueToPlanesAvx512(const SparseConvPlan& p, const float* acc, const SparseConvPlan& nx,
                                       float* planes, E e) {
  const int64_t total = nx.planes() * nx.plane;
  for (int64_t k = 0; k < total; k += 16) _mm512_storeu_ps(planes + k, _mm512_setzero_ps());
  const int OH = p.os.h, OW = p.os.w, C = p.os.c, sh = nx.g.stride_h, sw = nx.g.stride_w;
  const int pt = nx.g.pad_top, pl = nx.g.pad_left, wq = nx.wq;
  const __m512i idx[2] = {
      _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0),
      _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0)};
  const int shift_h = sh - 1;  // strides 1 or 2 (SparseConvCanFuse): shifts, not divisions
  // Per 16-column block and destination phase: column, lane count, lane mask.
  struct Part {
    int ph_x, j0, ox0;
    __mmask16 load, store;
    __m512i idx;
  };
  const int nblocks = (OW + 15) / 16;
  std::vector<Part> parts_storage;  // only for rows wider than 64 columns
  Part small[8];
  Part* parts = small;
  if (nblocks * 2 > 8) {
    parts_storage.resize(size_t(nblocks) * 2);
    parts = parts_storage.data();
  }
  int np = 0;
  for (int ox0 = 0; ox0 < OW; ox0 += 16) {
    const int n = std::min(16, OW - ox0);
    if (sw == 1) {
      const int j0 = ox0 + pl;
      if (j0 >= wq) break;
      parts[np++] = {0, j0, ox0, LaneMask(n), LaneMask(std::min(n, wq - j0)), idx[0]};
    } else {
      for (int px = 0; px < 2; ++px) {
        const int lf = (px + pl) & 1;  // first lane whose column lands in phase px
        const int j0 = (ox0 + lf + pl) >> 1;
        const int nk = std::min((n - lf + 1) >> 1, wq - j0);
        if (nk > 0) parts[np++] = {px, j0, ox0, LaneMask(n), LaneMask(nk), idx[lf]};
      }
    }
  }
  const int rows = std::min(OH, (nx.hq << shift_h) - pt);  // output rows that land in the planes
  for (int co = 0; co < C; ++co) {
    e.Bcast(co);
    float* base = planes + int64_t(co) * nx.plane;
    const int64_t phase_stride = int64_t(C) * nx.plane;  // next phase plane of the same channel
    const float* a = acc + int64_t(co) * p.span;
    if (sw == 1 && np == 1) {  // one 16-column block (OW <= 16), stride-1 consumer
      const Part q = parts[0];
      for (int oy = 0; oy < rows; ++oy, a += p.wq) {
        const int y = oy + pt;
        float* d = base + int64_t(y & shift_h) * phase_stride + int64_t(y >> shift_h) * wq + q.j0;
        _mm512_storeu_ps(d, _mm512_maskz_mov_ps(q.store, e.Plane(_mm512_maskz_loadu_ps(q.load, a))));
      }
      continue;
    }
    if (sw == 2 && np == 2 && parts[0].ox0 == 0 && parts[1].ox0 == 0) {  // one block, stride-2 consumer
      const Part q0 = parts[0], q1 = parts[1];
      for (int oy = 0; oy < rows; ++oy, a += p.wq) {
        const int y = oy + pt;
        float* d = base + int64_t((y & shift_h) * 2) * phase_stride + int64_t(y >> shift_h) * wq;
        const __m512 v = e.Plane(_mm512_maskz_loadu_ps(q0.load, a));
        _mm512_storeu_ps(d + q0.ph_x * phase_stride + q0.j0, _mm512_maskz_permutexvar_ps(q0.store, q0.idx, v));
        _mm512_storeu_ps(d + q1.ph_x * phase_stride + q1.j0, _mm512_maskz_permutexvar_ps(q1.store, q1.idx, v));
      }
      continue;
    }
    for (int oy = 0; oy < rows; ++oy, a += p.wq) {
      const int y = oy + pt;
      float* d = base + int64_t((y & shift_h) * sw) * phase_stride + int64_t(y >> shift_h) * wq;
      for (int k = 0; k < np; ++k) {
        const Part& q = parts[k];
        const __m512 v = e.Plane(_mm512_maskz_loadu_ps(q.load, a + q.ox0));
        const __m512 w = sw == 1 ? _mm512_maskz_mov_ps(q.store, v) : _mm512_maskz_permutexvar_ps(q.store, q.idx, v);
        _mm512_storeu_ps(d + q.ph_x * phase_stride + q.j0, w);
      }
    }
  }
}
#pragma GCC diagnostic pop
#endif  // KWS_X86

void Accumulate(Isa isa, const SparseConvPlan& p, const float* planes, float* acc) {
#ifdef KWS_X86
  if (isa == Isa::kAvx512) return AccumulateAvx512(p, planes, acc);
  if (isa == Isa::kAvx2) return AccumulateAvx2(p, planes, acc);
#endif
  (void)isa;
  AccumulatePlain(p, planes, acc);
}

[[maybe_unused]] bool VectorPlanes(const SparseConvPlan& p, Layout lay) {  // used by the x86 paths
  return (lay == Layout::kChw || p.is.c == 1) && p.g.stride_h <= 2 && (p.g.stride_w == 1 || p.g.stride_w == 2) &&
         p.wq <= 128;
}

#ifdef KWS_X86
// The AVX-512 paths' input planes: nothing to do when the previous sparse conv already wrote them
// (Layout::kPlanes), the vector builder where the layout allows it, the plain one otherwise.
template <typename T, typename L, typename F>
void FillPlanesAvx512(const SparseConvPlan& p, Layout lay, const T* in, const L& load, F f, float* planes) {
  if (lay == Layout::kPlanes) return;
  if (VectorPlanes(p, lay))
    BuildPlanesAvx512(p, in, load, planes);
  else
    BuildPlanesPlain(p, lay, in, f, planes);
}
#endif

}  // namespace

// ---- public -------------------------------------------------------------------

// The runtime's ISA is util/cpu.h's (one probe, one cap for every optimised path).
void SetMaxIsa(Isa isa) { cpu::SetMax(cpu::Isa(int(isa))); }
Isa MaxIsa() { return Isa(int(cpu::Max())); }
Isa ActiveIsa() { return Isa(int(cpu::Active())); }

void PrepareSparseConv(const ConvGeometry& g, const Shape4& is, const Shape4& fs, const Shape4& os,
                       const float* filter, SparseConvPlan* plan) {
  Prepare(g, is, fs, os, filter, plan);
}
void PrepareSparseConv(const ConvGeometry& g, const Shape4& is, const Shape4& fs, const Shape4& os,
                       const int8_t* filter, SparseConvPlan* plan) {
  Prepare(g, is, fs, os, filter, plan);
}

bool SparseConvPays(const SparseConvPlan& p, bool int8) {
  if (int8 && !p.exact_int) return false;
  if (p.g.stride_h > 4 || p.g.stride_w > 4) return false;
  const int64_t scratch = p.planes() * p.plane + int64_t(p.os.c) * p.span;
  if (scratch > (int64_t(1) << 24) || p.planes() * p.plane >= INT32_MAX) return false;
  // Vector operations per batch item: sparse = one FMA per non-zero weight per
  // 16 acc floats, plus building the planes and the epilogue; dense direct =
  // one FMA per weight per output pixel per 16 output channels.
  const double sparse = double(p.nonzero()) * double(p.span / 16) + double(p.planes() * p.plane) / 16.0 * 2.0 +
                        double(p.os.c) * double(p.span) / 16.0 * 2.0;
  const double dense = double(p.os.h) * p.os.w * double((p.os.c + 15) / 16) * p.fs.h * p.fs.w * p.fs.c;
  // int8 1-D convolutions (width 1, e.g. TC-ResNet's temporal ones) with an unpruned filter (over half its
  // weights non-zero): the dense int8 GEMM wins (TC-ResNet8 int8 91 -> 51 us); on 2-D inputs the sparse path
  // stays faster even unpruned (seed 43 vs 110 us, DS-CNN-S 215 vs 287, BC-ResNet-1 1.40 vs 1.85 ms).
  if (int8 && p.is.w == 1 && p.os.w == 1 && double(p.nonzero()) > 0.5 * double(p.os.c) * p.fs.h * p.fs.w * p.fs.c)
    return false;
  return sparse < (int8 ? 1.5 : 0.8) * dense;
}

bool SparseConvCanFuse(const SparseConvPlan& a, const SparseConvPlan& b) {
  if (a.os.n != 1 || b.is.n != 1 || a.os.h != b.is.h || a.os.w != b.is.w || a.os.c != b.is.c) return false;
  if (b.g.stride_h > 2 || b.g.stride_w > 2) return false;
  // Every input element must land in the planes (hybrid min/max reads them).
  return (b.is.h - 1 + b.g.pad_top) / b.g.stride_h < b.hq && (b.is.w - 1 + b.g.pad_left) / b.g.stride_w < b.wq;
}

void SparseConvFloat(const SparseConvPlan& p, const FloatAct& act, Layout in_layout, const float* input,
                     const float* bias, Layout out_layout, float* output, float* scratch, const SparseNext* next) {
  const Isa isa = ActiveIsa();
  float* planes = scratch;
  float* acc = scratch + p.planes() * p.plane;
  const int64_t in_n = int64_t(p.is.h) * p.is.w * p.is.c, out_n = int64_t(p.os.h) * p.os.w * p.os.c;
  const float lo = act.min, hi = act.max;
  const auto plain = [=](float a, int c) { return std::clamp(a + (bias ? bias[c] : 0.0f), lo, hi); };
  for (int b = 0; b < p.os.n; ++b) {
    const float* in = input + b * in_n;
    float* out = output + b * out_n;
#ifdef KWS_X86
    if (isa == Isa::kAvx512) {
      FillPlanesAvx512(p, in_layout, in, LoadFloat{}, [](float v) { return v; }, planes);
      AccumulateAvx512(p, planes, acc);
      const EpiFloat e{bias, act.min, act.max, {}};
      if (next)
        EpilogueToPlanesAvx512(p, acc, *next->plan, next->planes, e);
      else
        EpilogueAvx512(p, acc, out_layout, out, e);
      continue;
    }
#endif
    if (in_layout != Layout::kPlanes) BuildPlanesPlain(p, in_layout, in, [](float v) { return v; }, planes);
    Accumulate(isa, p, planes, acc);
    if (next)
      EpilogueToPlanesPlain(p, acc, *next->plan, next->planes, plain);
    else
      EpiloguePlain(p, acc, out_layout, out, plain);
  }
}

void SparseConvInt8(const SparseConvPlan& p, const QuantParams& q, const int32_t* multiplier, const int* shift,
                    Layout in_layout, const int8_t* input, const int32_t* bias, Layout out_layout, int8_t* output,
                    float* scratch, const SparseNext* next) {
  const Isa isa = ActiveIsa();
  float* planes = scratch;
  float* acc = scratch + p.planes() * p.plane;
  const int64_t in_n = int64_t(p.is.h) * p.is.w * p.is.c, out_n = int64_t(p.os.h) * p.os.w * p.os.c;
  const int32_t off = q.input_offset;
  const auto to_float = [off](int8_t v) { return float(int32_t(v) + off); };
  // The plain epilogue, instantiated once per requantization so the per-element code has no
  // branch on it and keeps its values in registers.
  const auto epilogue = [&](int8_t* out, auto requant) {
    if (next) {
      const int32_t noff = next->input_offset;
      EpilogueToPlanesPlain(p, acc, *next->plan, next->planes,
                            [=](float a, int c) { return float(requant(a, c) + noff); });
    } else {
      EpiloguePlain(p, acc, out_layout, out, [=](float a, int c) { return static_cast<int8_t>(requant(a, c)); });
    }
  };
  // Requantize's fp32 arithmetic written out, with round-half-even done by adding and subtracting
  // 1.5·2^23 (exact for |v| < 2^22; v is clamped to the int8 range) instead of a call to nearbyint
  // per element.
  const float lo = float(q.act_min - q.output_offset), hi = float(q.act_max - q.output_offset);
  const float* scale = q.fp32_scale;
  const int32_t zp = q.output_offset;
  const auto requant_fp32 = [=](float a, int c) {
    constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
    const int32_t v = static_cast<int32_t>(a) + (bias ? bias[c] : 0);  // a is an exact integer
    const float r = std::clamp(float(v) * scale[c], lo, hi) + kMagic;
    return static_cast<int32_t>(r - kMagic) + zp;
  };
  const auto requant_fixed = [=, &q](float a, int c) {
    return Requantize(static_cast<int32_t>(a) + (bias ? bias[c] : 0), q, multiplier, shift, c);
  };
  for (int b = 0; b < p.os.n; ++b) {
    const int8_t* in = input + b * in_n;
    int8_t* out = output + b * out_n;
#ifdef KWS_X86
    if (isa == Isa::kAvx512) {
      FillPlanesAvx512(p, in_layout, in, LoadInt8{off}, to_float, planes);
      AccumulateAvx512(p, planes, acc);
      if (q.fp32_scale) {
        const EpiInt8 e{bias, q.fp32_scale, float(q.act_min - q.output_offset), float(q.act_max - q.output_offset),
                        q.output_offset, {}, {}, next ? next->input_offset : 0};
        if (next)
          EpilogueToPlanesAvx512(p, acc, *next->plan, next->planes, e);
        else
          EpilogueAvx512(p, acc, out_layout, out, e);
        continue;
      }
    } else
#endif
    {
      if (in_layout != Layout::kPlanes) BuildPlanesPlain(p, in_layout, in, to_float, planes);
      Accumulate(isa, p, planes, acc);
    }
    if (scale)
      epilogue(out, requant_fp32);
    else
      epilogue(out, requant_fixed);
  }
}

void SparseConvHybrid(const SparseConvPlan& p, const FloatAct& act, bool asymmetric, Layout in_layout,
                      const float* input, const float* filter_scale, const float* bias, Layout out_layout,
                      float* output, float* scratch, const SparseNext* next) {
  const Isa isa = ActiveIsa();
  float* planes = scratch;
  float* acc = scratch + p.planes() * p.plane;
  const int64_t in_n = int64_t(p.is.h) * p.is.w * p.is.c, out_n = int64_t(p.os.h) * p.os.w * p.os.c;
  const int64_t np = p.planes() * p.plane;
  for (int b = 0; b < p.os.n; ++b) {
    const float* in = input + b * in_n;
    float* out = output + b * out_n;
    // min/max over the input (or over the planes, which then hold every input
    // value plus zeros: the same result, since both start from 0).
    const float* mm = in_layout == Layout::kPlanes ? planes : in;
    const int64_t mm_n = in_layout == Layout::kPlanes ? np : in_n;
    float mn = 0.0f, mx = 0.0f;
#ifdef KWS_X86
    if (isa == Isa::kAvx512) {
      MinMaxAvx512(mm, mm_n, &mn, &mx);
    } else
#endif
    {
      for (int64_t i = 0; i < mm_n; ++i) {
        mn = std::min(mn, mm[i]);
        mx = std::max(mx, mm[i]);
      }
    }
    const HybridQ h = HybridParams(asymmetric, mn, mx);
    const float in_scale = h.scale;
    const float lo = act.min, hi = act.max;
    const auto plain = [=](float a, int c) {  // by value: the per-element code keeps these in registers
      float v = float(static_cast<int32_t>(a)) * in_scale * filter_scale[c];
      if (bias) v += bias[c];
      return std::clamp(v, lo, hi);
    };
    // Float planes, then q − zp in place (padding 0 maps to 0).
#ifdef KWS_X86
    if (isa == Isa::kAvx512) {
      FillPlanesAvx512(p, in_layout, in, LoadFloat{}, [](float v) { return v; }, planes);
      QuantizePlanesAvx512(h, np, planes);
      AccumulateAvx512(p, planes, acc);
      const EpiHybrid e{bias, filter_scale, in_scale, act.min, act.max, {}, {}};
      if (next)
        EpilogueToPlanesAvx512(p, acc, *next->plan, next->planes, e);
      else
        EpilogueAvx512(p, acc, out_layout, out, e);
      continue;
    }
#endif
    if (in_layout != Layout::kPlanes) BuildPlanesPlain(p, in_layout, in, [](float v) { return v; }, planes);
#ifdef KWS_X86
    if (isa == Isa::kAvx2)
      QuantizePlanesAvx2(h, np, planes);
    else
#endif
      for (int64_t i = 0; i < np; ++i) planes[i] = HybridValue(h, planes[i]);
    Accumulate(isa, p, planes, acc);
    if (next)
      EpilogueToPlanesPlain(p, acc, *next->plan, next->planes, plain);
    else
      EpiloguePlain(p, acc, out_layout, out, plain);
  }
}

}  // namespace kws::rt::opt
