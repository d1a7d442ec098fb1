#include "layers/conv2d.h"

#include <algorithm>
#include <cstring>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "layers/gemm.h"
#include "layers/layer_util.h"
#include "util/parallel.h"

namespace kws {


Conv2DShape MakeConv2DShape(const Shape& in, int kh, int kw, int sh, int sw, bool same, int oc,
                            const std::string& where) {
  return MakeConv2DShape(in, kh, kw, sh, sw, same, same, 1, 1, oc, where);
}

Conv2DShape MakeConv2DShape(const Shape& in, int kh, int kw, int sh, int sw, bool same_h, bool same_w, int dh,
                            int dw, int oc, const std::string& where) {
  Conv2DShape s;
  s.ih = in.h, s.iw = in.w, s.ic = in.c;
  s.kh = kh, s.kw = kw, s.sh = sh, s.sw = sw, s.oc = oc, s.dh = dh, s.dw = dw;
  // A dilated kernel spans (k-1)*d+1 inputs.
  AxisGeometry gy = PadAxis(in.h, (kh - 1) * dh + 1, sh, same_h), gx = PadAxis(in.w, (kw - 1) * dw + 1, sw, same_w);
  s.oh = gy.out, s.ow = gx.out, s.pt = gy.pad_before, s.pl = gx.pad_before;
  if (in.h <= 0 || in.w <= 0 || in.c <= 0 || s.oh <= 0 || s.ow <= 0) {
    const std::string pad = same_h == same_w ? (same_h ? "SAME" : "VALID")
                                             : std::string(same_h ? "SAME" : "VALID") + "/" + (same_w ? "SAME" : "VALID");
    throw UsageError(where + ": kernel " + std::to_string(kh) + "x" + std::to_string(kw) +
                     (dh != 1 || dw != 1 ? " dilated " + std::to_string(dh) + "x" + std::to_string(dw) : "") +
                     " with " + pad + " padding does not fit input " + std::to_string(in.h) + "x" +
                     std::to_string(in.w) + "x" + std::to_string(in.c) + " (empty output)");
  }
  return s;
}

// ---------------------------------------------------------------------------
// Reference: plain loops.
// ---------------------------------------------------------------------------
void conv2d_forward_ref(float* out, const float* in, const float* weight, const float* bias, const Conv2DShape& s) {
  for (int n = 0; n < s.n; ++n)
    for (int oy = 0; oy < s.oh; ++oy)
      for (int ox = 0; ox < s.ow; ++ox) {
        float* o = out + ((size_t(n) * s.oh + oy) * s.ow + ox) * s.oc;
        for (int f = 0; f < s.oc; ++f) {
          float acc = bias ? bias[f] : 0.0f;
          for (int ky = 0; ky < s.kh; ++ky) {
            int iy = oy * s.sh + ky * s.dh - s.pt;
            if (iy < 0 || iy >= s.ih) continue;
            for (int kx = 0; kx < s.kw; ++kx) {
              int ix = ox * s.sw + kx * s.dw - s.pl;
              if (ix < 0 || ix >= s.iw) continue;
              const float* x = in + ((size_t(n) * s.ih + iy) * s.iw + ix) * s.ic;
              const float* w = weight + (size_t(ky) * s.kw + kx) * s.ic * s.oc + f;
              for (int i = 0; i < s.ic; ++i) acc += x[i] * w[size_t(i) * s.oc];
            }
          }
          o[f] = acc;
        }
      }
}

void conv2d_backward_ref(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                         const float* weight, const Conv2DShape& s) {
  if (din) std::fill(din, din + size_t(s.n) * s.ih * s.iw * s.ic, 0.0f);
  for (int n = 0; n < s.n; ++n)
    for (int oy = 0; oy < s.oh; ++oy)
      for (int ox = 0; ox < s.ow; ++ox) {
        const float* d = dout + ((size_t(n) * s.oh + oy) * s.ow + ox) * s.oc;
        for (int f = 0; f < s.oc; ++f) {
          if (dbias) dbias[f] += d[f];
          for (int ky = 0; ky < s.kh; ++ky) {
            int iy = oy * s.sh + ky * s.dh - s.pt;
            if (iy < 0 || iy >= s.ih) continue;
            for (int kx = 0; kx < s.kw; ++kx) {
              int ix = ox * s.sw + kx * s.dw - s.pl;
              if (ix < 0 || ix >= s.iw) continue;
              size_t xi = ((size_t(n) * s.ih + iy) * s.iw + ix) * s.ic;
              size_t wi = (size_t(ky) * s.kw + kx) * s.ic * s.oc + f;
              for (int i = 0; i < s.ic; ++i) {
                dweight[wi + size_t(i) * s.oc] += in[xi + i] * d[f];
                if (din) din[xi + i] += weight[wi + size_t(i) * s.oc] * d[f];
              }
            }
          }
        }
      }
}

// ---------------------------------------------------------------------------
// Fast: im2col + small GEMM kernels per sample, parallel over the batch.
//   col: (OH*OW, KH*KW*IC), row = one output pixel's receptive field in HWC order,
//   which is exactly the row order of the HWIO weight seen as (KH*KW*IC, OC).
// ---------------------------------------------------------------------------
namespace {

bool IsPointwise(const Conv2DShape& s) {
  return s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pt == 0 && s.pl == 0;
}

// Copies of a compile-time length are inlined as vector moves; a libc memcpy
// call per receptive-field row cost ~15% of a training step.
template <int L>
void im2col_t(float* col, const float* x, const Conv2DShape& s) {
  const int K = s.kh * s.kw * s.ic;
  const size_t rowlen = L > 0 ? size_t(L) : size_t(s.kw) * s.ic;
  for (int oy = 0; oy < s.oh; ++oy)
    for (int ox = 0; ox < s.ow; ++ox) {
      float* row = col + (size_t(oy) * s.ow + ox) * K;
      const int x0 = ox * s.sw - s.pl;
      const bool inside_x = x0 >= 0 && x0 + s.kw <= s.iw;
      for (int ky = 0; ky < s.kh; ++ky, row += rowlen) {
        int iy = oy * s.sh + ky - s.pt;
        if (iy < 0 || iy >= s.ih) {
          std::memset(row, 0, rowlen * sizeof(float));
          continue;
        }
        const float* xr = x + size_t(iy) * s.iw * s.ic;
        if (inside_x) {  // fully inside: one contiguous copy
          if constexpr (L > 0)
            __builtin_memcpy(row, xr + size_t(x0) * s.ic, L * sizeof(float));
          else
            std::memcpy(row, xr + size_t(x0) * s.ic, rowlen * sizeof(float));
          continue;
        }
        for (int kx = 0; kx < s.kw; ++kx) {
          int ix = x0 + kx;
          float* r = row + size_t(kx) * s.ic;
          if (ix < 0 || ix >= s.iw)
            std::memset(r, 0, s.ic * sizeof(float));
          else
            std::memcpy(r, xr + size_t(ix) * s.ic, s.ic * sizeof(float));
        }
      }
    }
}

void im2col(float* col, const float* x, const Conv2DShape& s) {
  switch (s.kw * s.ic) {
    case 3: return im2col_t<3>(col, x, s);
    case 24: return im2col_t<24>(col, x, s);
    case 48: return im2col_t<48>(col, x, s);
    case 96: return im2col_t<96>(col, x, s);
    default: return im2col_t<0>(col, x, s);
  }
}

// dx (IH,IW,IC) = sum of dcol rows scattered back (dx is overwritten). 16 channels on AVX-512
// machines: one zmm add per pixel and tap (the same adds in the same order: bit-identical).
void col2im_generic(float* dx, const float* dcol, const Conv2DShape& s) {
  const int K = s.kh * s.kw * s.ic;
  std::fill(dx, dx + size_t(s.ih) * s.iw * s.ic, 0.0f);
  for (int oy = 0; oy < s.oh; ++oy)
    for (int ox = 0; ox < s.ow; ++ox) {
      const float* row = dcol + (size_t(oy) * s.ow + ox) * K;
      for (int ky = 0; ky < s.kh; ++ky) {
        int iy = oy * s.sh + ky - s.pt;
        if (iy < 0 || iy >= s.ih) continue;
        for (int kx = 0; kx < s.kw; ++kx) {
          int ix = ox * s.sw + kx - s.pl;
          if (ix < 0 || ix >= s.iw) continue;
          const float* r = row + (size_t(ky) * s.kw + kx) * s.ic;
          float* d = dx + (size_t(iy) * s.iw + ix) * s.ic;
          for (int i = 0; i < s.ic; ++i) d[i] += r[i];
        }
      }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) void col2im16_512(float* dx, const float* dcol, const Conv2DShape& s) {
  const int K = s.kh * s.kw * 16;
  std::fill(dx, dx + size_t(s.ih) * s.iw * 16, 0.0f);
  for (int oy = 0; oy < s.oh; ++oy)
    for (int ox = 0; ox < s.ow; ++ox) {
      const float* row = dcol + (size_t(oy) * s.ow + ox) * K;
      for (int ky = 0; ky < s.kh; ++ky) {
        int iy = oy * s.sh + ky - s.pt;
        if (iy < 0 || iy >= s.ih) continue;
        for (int kx = 0; kx < s.kw; ++kx) {
          int ix = ox * s.sw + kx - s.pl;
          if (ix < 0 || ix >= s.iw) continue;
          float* d = dx + (size_t(iy) * s.iw + ix) * 16;
          _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), _mm512_loadu_ps(row + (size_t(ky) * s.kw + kx) * 16)));
        }
      }
    }
}
#endif

void col2im(float* dx, const float* dcol, const Conv2DShape& s) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (s.ic == 16 && GemmUsesAvx512()) return col2im16_512(dx, dcol, s);
#endif
  col2im_generic(dx, dcol, s);
}

void Grow(std::vector<std::vector<float>>& v, size_t chunks) {
  if (v.size() < chunks) v.resize(chunks);
}

// P (PH,PW,C) = x (H,W,C) placed at (pt,pl), zeros elsewhere (rows/cols of x
// beyond the extent are dropped: VALID convs may not read them).
// Only the padding is zeroed (the rest is overwritten by the copy).
void PadInto(std::vector<float>& P, const float* x, int H, int W, int C, int pt, int pl, int PH, int PW) {
  P.resize(size_t(PH) * PW * C);
  const size_t row = size_t(PW) * C;
  for (int py = 0; py < PH; ++py) {
    float* pr = P.data() + size_t(py) * row;
    const int iy = py - pt;
    const int px0 = std::max(pl, 0), px1 = std::min(PW, W + pl);
    if (iy < 0 || iy >= H || px1 <= px0) {
      std::memset(pr, 0, row * sizeof(float));
      continue;
    }
    std::memset(pr, 0, size_t(px0) * C * sizeof(float));
    std::memcpy(pr + size_t(px0) * C, x + (size_t(iy) * W + (px0 - pl)) * C, size_t(px1 - px0) * C * sizeof(float));
    std::memset(pr + size_t(px1) * C, 0, size_t(PW - px1) * C * sizeof(float));
  }
}

// The conv's A operand over a padded input (see ConvA in gemm.h).
ConvA ImplicitA(const float* P, const Conv2DShape& s, int PW) {
  ConvA a;
  a.base = P;
  a.ow = s.ow;
  a.line_stride = long(s.sh) * PW * s.ic;
  a.pix_stride = s.sw * s.ic;
  a.nseg = s.kh;
  a.seg_len = s.kw * s.ic;
  a.seg_stride = long(PW) * s.ic;
  return a;
}

// Dilated convolutions (rare in kws's models, so one plain path): explicit im2col with dilated taps
// (zeros outside the input), a GEMM, and for the input gradient the transposed product scattered back.
void im2col_dilated(float* col, const float* x, const Conv2DShape& s) {
  const size_t K = size_t(s.kh) * s.kw * s.ic;
  for (int oy = 0; oy < s.oh; ++oy)
    for (int ox = 0; ox < s.ow; ++ox) {
      float* row = col + (size_t(oy) * s.ow + ox) * K;
      for (int ky = 0; ky < s.kh; ++ky)
        for (int kx = 0; kx < s.kw; ++kx, row += s.ic) {
          const int iy = oy * s.sh + ky * s.dh - s.pt, ix = ox * s.sw + kx * s.dw - s.pl;
          if (iy < 0 || iy >= s.ih || ix < 0 || ix >= s.iw)
            std::memset(row, 0, size_t(s.ic) * sizeof(float));
          else
            std::memcpy(row, x + (size_t(iy) * s.iw + ix) * s.ic, size_t(s.ic) * sizeof(float));
        }
    }
}

void col2im_dilated(float* dx, const float* dcol, const Conv2DShape& s) {
  std::fill(dx, dx + size_t(s.ih) * s.iw * s.ic, 0.0f);
  const size_t K = size_t(s.kh) * s.kw * s.ic;
  for (int oy = 0; oy < s.oh; ++oy)
    for (int ox = 0; ox < s.ow; ++ox) {
      const float* row = dcol + (size_t(oy) * s.ow + ox) * K;
      for (int ky = 0; ky < s.kh; ++ky)
        for (int kx = 0; kx < s.kw; ++kx, row += s.ic) {
          const int iy = oy * s.sh + ky * s.dh - s.pt, ix = ox * s.sw + kx * s.dw - s.pl;
          if (iy < 0 || iy >= s.ih || ix < 0 || ix >= s.iw) continue;
          float* d = dx + (size_t(iy) * s.iw + ix) * s.ic;
          for (int i = 0; i < s.ic; ++i) d[i] += row[i];
        }
    }
}

void conv2d_forward_dilated(float* out, const float* in, const float* weight, const float* bias,
                            const Conv2DShape& s, Conv2DScratch& scratch) {
  const size_t M = size_t(s.oh) * s.ow, K = size_t(s.kh) * s.kw * s.ic;
  const size_t in_sz = size_t(s.ih) * s.iw * s.ic, out_sz = M * s.oc;
  Grow(scratch.col, size_t(NumThreads()));
  ParallelFor(s.n, [&](long b, long e, int c) {
    auto& col = scratch.col[c];
    if (col.size() < M * K) col.resize(M * K);
    for (long n = b; n < e; ++n) {
      float* o = out + n * out_sz;
      im2col_dilated(col.data(), in + n * in_sz, s);
      gemm_nn(o, col.data(), weight, int(M), int(K), s.oc);
      if (bias)
        for (size_t m = 0; m < M; ++m)
          for (int f = 0; f < s.oc; ++f) o[m * s.oc + f] += bias[f];
    }
  });
}

void conv2d_backward_dilated(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                             const float* weight, const Conv2DShape& s, Conv2DScratch& scratch) {
  const size_t M = size_t(s.oh) * s.ow, K = size_t(s.kh) * s.kw * s.ic;
  const size_t in_sz = size_t(s.ih) * s.iw * s.ic, out_sz = M * s.oc;
  const size_t chunks = size_t(NumThreads());
  Grow(scratch.col, chunks), Grow(scratch.dcol, chunks), Grow(scratch.dw, chunks), Grow(scratch.db, chunks);
  std::vector<char> used(chunks, 0);
  if (din) {
    scratch.wt.resize(K * s.oc);  // W^T (OC, K)
    for (size_t k = 0; k < K; ++k)
      for (int f = 0; f < s.oc; ++f) scratch.wt[size_t(f) * K + k] = weight[k * s.oc + f];
  }
  ParallelFor(s.n, [&](long b, long e, int c) {
    used[c] = 1;
    auto &col = scratch.col[c], &dcol = scratch.dcol[c];
    if (col.size() < M * K) col.resize(M * K);
    if (din && dcol.size() < M * K) dcol.resize(M * K);
    scratch.dw[c].assign(K * s.oc, 0.0f);
    scratch.db[c].assign(s.oc, 0.0f);
    for (long n = b; n < e; ++n) {
      const float* d = dout + n * out_sz;
      im2col_dilated(col.data(), in + n * in_sz, s);
      gemm_tn_acc(scratch.dw[c].data(), col.data(), d, int(M), int(K), s.oc);
      if (dbias)
        for (size_t m = 0; m < M; ++m)
          for (int f = 0; f < s.oc; ++f) scratch.db[c][f] += d[m * s.oc + f];
      if (!din) continue;
      gemm_nn(dcol.data(), d, scratch.wt.data(), int(M), s.oc, int(K));  // dcol = dout W^T
      col2im_dilated(din + n * in_sz, dcol.data(), s);
    }
  });
  for (size_t c = 0; c < chunks; ++c) {  // chunk order: deterministic sums
    if (!used[c]) continue;
    for (size_t i = 0; i < K * s.oc; ++i) dweight[i] += scratch.dw[c][i];
    if (dbias)
      for (int f = 0; f < s.oc; ++f) dbias[f] += scratch.db[c][f];
  }
}

bool g_allow_winograd = true;

// Winograd applies to 3x3 stride-1 convs with a fast GEMM kernel and enough channels for the
// transforms to pay off (measured, 49x10 input, batch 25, forward: 16 ch 0.54 ms implicit vs
// 0.90 Winograd; 32 ch 2.55 vs 2.44; 64 ch 11.1 vs 7.5; 128 ch 53 vs 29).
bool UseWinograd(int kh, int kw, int sh, int sw, int ic, int oc) {
  return g_allow_winograd && kh == 3 && kw == 3 && sh == 1 && sw == 1 && ic >= 48 && oc >= 48 &&
         ConvGemmSupported(oc);
}

}  // namespace

void Conv2DAllowWinograd(bool allow) { g_allow_winograd = allow; }

void conv2d_forward(float* out, const float* in, const float* weight, const float* bias, const Conv2DShape& s,
                    Conv2DScratch& scratch) {
  if (s.dilated()) return conv2d_forward_dilated(out, in, weight, bias, s, scratch);
  const size_t M = size_t(s.oh) * s.ow, K = size_t(s.kh) * s.kw * s.ic;
  const size_t in_sz = size_t(s.ih) * s.iw * s.ic, out_sz = M * s.oc;
  const bool pointwise = IsPointwise(s);
  Grow(scratch.col, NumThreads());
  // Implicit GEMM over a zero-padded copy of the sample (no im2col) when a fast kernel exists.
  const bool wino = UseWinograd(s.kh, s.kw, s.sh, s.sw, s.ic, s.oc);
  const bool implicit = !pointwise && !wino && ConvGemmSupported(s.oc);
  const int PH = (s.oh - 1) * s.sh + s.kh, PW = (s.ow - 1) * s.sw + s.kw;
  if (wino) {
    scratch.U.resize(16 * size_t(s.ic) * s.oc);
    winograd_kernel_transform(scratch.U.data(), weight, s.ic, s.oc);
    if (scratch.wino.size() < size_t(NumThreads())) scratch.wino.resize(NumThreads());
    ParallelFor(s.n, [&](long b, long e, int c) {
      for (long n = b; n < e; ++n)
        winograd_conv3x3(out + n * out_sz, in + n * in_sz, s.ih, s.iw, s.ic, s.pt, s.pl, s.oh, s.ow, s.oc,
                         scratch.U.data(), bias, scratch.wino[c]);
    });
    return;
  }
  ParallelFor(s.n, [&](long b, long e, int c) {
    auto& col = scratch.col[c];
    if (!pointwise && !implicit && col.size() < M * K) col.resize(M * K);
    for (long n = b; n < e; ++n) {
      const float* x = in + n * in_sz;
      float* o = out + n * out_sz;
      if (implicit) {
        PadInto(col, x, s.ih, s.iw, s.ic, s.pt, s.pl, PH, PW);
        conv_gemm_nn(o, ImplicitA(col.data(), s, PW), weight, int(M), s.oc);
      } else {
        if (!pointwise) im2col(col.data(), x, s);
        gemm_nn(o, pointwise ? x : col.data(), weight, int(M), int(K), s.oc);
      }
      if (bias)
        for (size_t m = 0; m < M; ++m)
          for (int f = 0; f < s.oc; ++f) o[m * s.oc + f] += bias[f];
    }
  });
}

// Backward, per sample:
//   dW += col^T dout                                (gemm_tn_acc)
//   din, stride 1: a "full" convolution of dout with the kernel rotated by 180
//        degrees and in/out channels swapped: im2col(dout) * W' (gemm_nn), where
//        W'[ky',kx',f,i] = W[KH-1-ky', KW-1-kx', i, f] and the padding before is
//        KH-1-PT / KW-1-PL;
//   din, stride > 1: dcol = dout W^T (gemm_nn with W^T), then col2im.
void conv2d_backward(float* din, float* dweight, float* dbias, const float* dout, const float* in,
                     const float* weight, const Conv2DShape& s, Conv2DScratch& scratch) {
  if (s.dilated()) return conv2d_backward_dilated(din, dweight, dbias, dout, in, weight, s, scratch);
  const size_t M = size_t(s.oh) * s.ow, K = size_t(s.kh) * s.kw * s.ic;
  const size_t in_sz = size_t(s.ih) * s.iw * s.ic, out_sz = M * s.oc;
  const bool pointwise = IsPointwise(s);
  const bool full_conv = din && !pointwise && s.sh == 1 && s.sw == 1;
  const size_t chunks = size_t(NumThreads());
  Grow(scratch.col, chunks), Grow(scratch.dcol, chunks), Grow(scratch.dw, chunks), Grow(scratch.db, chunks);
  std::vector<char> used(chunks, 0);
  // Geometry of the transposed ("full") convolution that maps dout back to din.
  Conv2DShape t;
  t.ih = s.oh, t.iw = s.ow, t.ic = s.oc, t.kh = s.kh, t.kw = s.kw, t.sh = 1, t.sw = 1;
  t.pt = s.kh - 1 - s.pt, t.pl = s.kw - 1 - s.pl, t.oh = s.ih, t.ow = s.iw, t.oc = s.ic;
  const size_t Kt = size_t(t.kh) * t.kw * t.ic, Mt = size_t(t.oh) * t.ow;
  auto& wt = scratch.wt;
  if (full_conv) {
    wt.resize(Kt * s.ic);  // W' (KH,KW,OC,IC)
    for (int ky = 0; ky < s.kh; ++ky)
      for (int kx = 0; kx < s.kw; ++kx)
        for (int i = 0; i < s.ic; ++i)
          for (int f = 0; f < s.oc; ++f)
            wt[((size_t(s.kh - 1 - ky) * s.kw + (s.kw - 1 - kx)) * s.oc + f) * s.ic + i] =
                weight[((size_t(ky) * s.kw + kx) * s.ic + i) * s.oc + f];
  } else if (din) {
    wt.resize(K * s.oc);  // W^T (OC, K)
    for (size_t k = 0; k < K; ++k)
      for (int f = 0; f < s.oc; ++f) wt[size_t(f) * K + k] = weight[k * s.oc + f];
  }
  const bool implicit_dw = !pointwise && ConvGemmSupported(s.oc);
  const bool wino_dx = full_conv && UseWinograd(s.kh, s.kw, 1, 1, s.oc, s.ic);
  const bool implicit_dx = full_conv && !wino_dx && ConvGemmSupported(s.ic);
  if (wino_dx) {
    scratch.U.resize(16 * size_t(s.oc) * s.ic);
    winograd_kernel_transform(scratch.U.data(), wt.data(), s.oc, s.ic);
    if (scratch.wino.size() < chunks) scratch.wino.resize(chunks);
  }
  const int PH = (s.oh - 1) * s.sh + s.kh, PW = (s.ow - 1) * s.sw + s.kw;
  const int PHt = s.ih - 1 + s.kh, PWt = s.iw - 1 + s.kw;  // padded dout for the full conv
  ParallelFor(s.n, [&](long b, long e, int c) {
    used[c] = 1;
    auto& col = scratch.col[c];
    auto& dcol = scratch.dcol[c];
    auto& dw = scratch.dw[c];
    auto& db = scratch.db[c];
    if (!pointwise && !implicit_dw && col.size() < M * K) col.resize(M * K);
    if (full_conv && !implicit_dx && !wino_dx && dcol.size() < Mt * Kt) dcol.resize(Mt * Kt);
    if (din && !full_conv && !pointwise && dcol.size() < M * K) dcol.resize(M * K);
    dw.assign(K * s.oc, 0.0f);
    db.assign(s.oc, 0.0f);
    for (long n = b; n < e; ++n) {
      const float* x = in + n * in_sz;
      const float* d = dout + n * out_sz;
      if (implicit_dw) {
        PadInto(col, x, s.ih, s.iw, s.ic, s.pt, s.pl, PH, PW);
        conv_gemm_tn_acc(dw.data(), ImplicitA(col.data(), s, PW), d, int(M), s.oc);  // dW += A^T dout
      } else {
        if (!pointwise) im2col(col.data(), x, s);
        gemm_tn_acc(dw.data(), pointwise ? x : col.data(), d, int(M), int(K), s.oc);  // dW += col^T dout
      }
      if (dbias)
        for (size_t m = 0; m < M; ++m)
          for (int f = 0; f < s.oc; ++f) db[f] += d[m * s.oc + f];
      if (!din) continue;
      if (wino_dx) {
        winograd_conv3x3(din + n * in_sz, d, s.oh, s.ow, s.oc, t.pt, t.pl, s.ih, s.iw, s.ic, scratch.U.data(),
                         nullptr, scratch.wino[c]);
      } else if (implicit_dx) {
        PadInto(dcol, d, s.oh, s.ow, s.oc, t.pt, t.pl, PHt, PWt);
        conv_gemm_nn(din + n * in_sz, ImplicitA(dcol.data(), t, PWt), wt.data(), int(Mt), s.ic);
      } else if (full_conv) {
        im2col(dcol.data(), d, t);
        gemm_nn(din + n * in_sz, dcol.data(), wt.data(), int(Mt), int(Kt), s.ic);
      } else if (pointwise) {
        gemm_nn(din + n * in_sz, d, wt.data(), int(M), s.oc, int(K));
      } else {
        gemm_nn(dcol.data(), d, wt.data(), int(M), s.oc, int(K));  // dcol = dout W^T
        col2im(din + n * in_sz, dcol.data(), s);
      }
    }
  });
  for (size_t c = 0; c < chunks; ++c) {  // chunk order: deterministic sums
    if (!used[c]) continue;
    for (size_t i = 0; i < K * s.oc; ++i) dweight[i] += scratch.dw[c][i];
    if (dbias)
      for (int f = 0; f < s.oc; ++f) dbias[f] += scratch.db[c][f];
  }
}

// ---------------------------------------------------------------------------
// Layer glue
// ---------------------------------------------------------------------------
Shape Conv2DLayer::OutputShape(const Shape& in) const {
  Conv2DShape s = MakeConv2DShape(in, kh, kw, sh, sw, same, same_w, dh, dw, filters,
                                  "layer '" + (name.empty() ? type() : name) + "'");
  return {s.oh, s.ow, s.oc};
}

Conv2DShape Conv2DLayer::Geometry(int batch) const {
  Conv2DShape s = MakeConv2DShape(input_shape, kh, kw, sh, sw, same, same_w, dh, dw, filters, "layer '" + name + "'");
  s.n = batch;
  return s;
}

int64_t Conv2DLayer::Macs() const {
  const Shape o = OutputShape(input_shape);
  return int64_t(o.h) * o.w * o.c * kh * kw * input_shape.c;
}

void Conv2DLayer::Build(const Shape& in, Rng& rng) {
  OutputShape(in);  // validates
  input_shape = in;
  kernel = MakeParam(name + "/kernel", {kh, kw, in.c, filters}, true, true);
  GlorotUniform(kernel.value, double(kh) * kw * in.c, double(kh) * kw * filters, rng);
  if (use_bias) bias = MakeParam(name + "/bias", {filters}, true, false);
}

void Conv2DLayer::Forward(const float* in, float* out, int batch, bool training) {
  conv2d_forward(out, in, kernel.value.data(), use_bias ? bias.value.data() : nullptr, Geometry(batch), scratch_);
}

void Conv2DLayer::Backward(const float* in, const float* out, const float* dout, float* din, int batch) {
  conv2d_backward(din, kernel.grad.data(), use_bias ? bias.grad.data() : nullptr, dout, in, kernel.value.data(),
                  Geometry(batch), scratch_);
}

std::vector<Param*> Conv2DLayer::Params() {
  if (use_bias) return {&kernel, &bias};
  return {&kernel};
}

nlohmann::json Conv2DLayer::Config() const {
  nlohmann::json j = {{"type", type()},         {"filters", filters}, {"kernel", {kh, kw}},
                      {"strides", {sh, sw}},    {"padding", PaddingJson(same, same_w)},
                      {"use_bias", use_bias}};
  if (dh != 1 || dw != 1) j["dilation"] = {dh, dw};  // absent at 1: configs without it stay byte-identical
  if (!name.empty()) j["name"] = name;
  return j;
}

std::unique_ptr<Layer> MakeConv2DLayer(const nlohmann::json& cfg) {
  LayerConfig c(cfg);
  auto l = std::make_unique<Conv2DLayer>();
  l->name = c.name();
  l->filters = c.Int("filters", 0, 1);
  auto k = c.Pair("kernel", {0, 0}, 1);
  auto st = c.Pair("strides", {1, 1}, 1);
  auto di = c.Pair("dilation", {1, 1}, 1);
  l->kh = k[0], l->kw = k[1], l->sh = st[0], l->sw = st[1], l->dh = di[0], l->dw = di[1];
  ReadPadding(c, &l->same, &l->same_w);
  l->use_bias = c.Bool("use_bias", true);
  if ((l->dh > 1 && l->sh > 1) || (l->dw > 1 && l->sw > 1))
    c.Fail("dilation > 1 with stride > 1 on the same axis is not supported (as in tf.nn.conv2d)");
  c.Finish();
  return l;
}

}  // namespace kws
