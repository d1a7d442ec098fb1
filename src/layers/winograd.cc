#include "layers/winograd.h"

#include <algorithm>
#include <cstring>

#include "layers/gemm.h"

namespace kws {

void winograd_kernel_transform(float* U, const float* w, int ic, int oc) {
  const size_t plane = size_t(ic) * oc;
  for (size_t p = 0; p < plane; ++p) {
    float g[3][3];
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 3; ++x) g[y][x] = w[(size_t(y) * 3 + x) * plane + p];
    float t[4][3];  // G g
    for (int x = 0; x < 3; ++x) {
      t[0][x] = g[0][x];
      t[1][x] = 0.5f * (g[0][x] + g[1][x] + g[2][x]);
      t[2][x] = 0.5f * (g[0][x] - g[1][x] + g[2][x]);
      t[3][x] = g[2][x];
    }
    for (int i = 0; i < 4; ++i) {  // (G g) G^T
      float u[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]), 0.5f * (t[i][0] - t[i][1] + t[i][2]), t[i][2]};
      for (int j = 0; j < 4; ++j) U[size_t(i * 4 + j) * plane + p] = u[j];
    }
  }
}

namespace {

// The whole algorithm, inlined into an AVX2 and a portable entry point below
// (the channel loops are where the time goes; AVX2 doubles their width).
__attribute__((always_inline)) inline void WinogradBody(float* out, const float* x, int ih, int iw, int ic, int pt,
                                                       int pl, int oh, int ow, int oc, const float* U,
                                                       const float* bias, WinogradScratch& s) {
  const int TH = (oh + 1) / 2, TW = (ow + 1) / 2, T = TH * TW;
  const int PH = 2 * TH + 2, PW = 2 * TW + 2;
  // Zero-padded input covering every tile.
  s.pad.assign(size_t(PH) * PW * ic, 0.0f);
  for (int py = 0; py < PH; ++py) {
    const int iy = py - pt;
    if (iy < 0 || iy >= ih) continue;
    const int px0 = std::max(pl, 0), px1 = std::min(PW, iw + pl);
    if (px1 > px0)
      std::memcpy(s.pad.data() + (size_t(py) * PW + px0) * ic, x + (size_t(iy) * iw + (px0 - pl)) * ic,
                  size_t(px1 - px0) * ic * sizeof(float));
  }
  // Input transform: V[xi][t][c].
  const size_t vplane = size_t(T) * ic;
  s.V.resize(16 * vplane);
  std::vector<float>& r = s.tmp;
  r.resize(16 * size_t(std::max(ic, oc)));
  for (int ty = 0; ty < TH; ++ty)
    for (int tx = 0; tx < TW; ++tx) {
      const int t = ty * TW + tx;
      const float* base = s.pad.data() + (size_t(2 * ty) * PW + 2 * tx) * ic;
      // rows of B^T d: r0 = d0 - d2, r1 = d1 + d2, r2 = d2 - d1, r3 = d1 - d3 (d_i = input row i)
      for (int j = 0; j < 4; ++j) {
        const float* __restrict d0 = base + size_t(0 * PW + j) * ic;
        const float* __restrict d1 = base + size_t(1 * PW + j) * ic;
        const float* __restrict d2 = base + size_t(2 * PW + j) * ic;
        const float* __restrict d3 = base + size_t(3 * PW + j) * ic;
        float* __restrict r0 = r.data() + size_t(0 * 4 + j) * ic;
        float* __restrict r1 = r.data() + size_t(1 * 4 + j) * ic;
        float* __restrict r2 = r.data() + size_t(2 * 4 + j) * ic;
        float* __restrict r3 = r.data() + size_t(3 * 4 + j) * ic;
        for (int c = 0; c < ic; ++c) {
          r0[c] = d0[c] - d2[c];
          r1[c] = d1[c] + d2[c];
          r2[c] = d2[c] - d1[c];
          r3[c] = d1[c] - d3[c];
        }
      }
      // columns: (B^T d) B
      for (int i = 0; i < 4; ++i) {
        const float* __restrict q0 = r.data() + size_t(i * 4 + 0) * ic;
        const float* __restrict q1 = r.data() + size_t(i * 4 + 1) * ic;
        const float* __restrict q2 = r.data() + size_t(i * 4 + 2) * ic;
        const float* __restrict q3 = r.data() + size_t(i * 4 + 3) * ic;
        float* __restrict v0 = s.V.data() + size_t(i * 4 + 0) * vplane + size_t(t) * ic;
        float* __restrict v1 = s.V.data() + size_t(i * 4 + 1) * vplane + size_t(t) * ic;
        float* __restrict v2 = s.V.data() + size_t(i * 4 + 2) * vplane + size_t(t) * ic;
        float* __restrict v3 = s.V.data() + size_t(i * 4 + 3) * vplane + size_t(t) * ic;
        for (int c = 0; c < ic; ++c) {
          v0[c] = q0[c] - q2[c];
          v1[c] = q1[c] + q2[c];
          v2[c] = q2[c] - q1[c];
          v3[c] = q1[c] - q3[c];
        }
      }
    }
  // 16 GEMMs.
  const size_t mplane = size_t(T) * oc;
  s.M.resize(16 * mplane);
  for (int xi = 0; xi < 16; ++xi)
    gemm_nn(s.M.data() + xi * mplane, s.V.data() + xi * vplane, U + size_t(xi) * ic * oc, T, ic, oc);
  // Output transform: Y = A^T M A, rows s0 = m0 + m1 + m2, s1 = m1 - m2 - m3.
  std::vector<float>& q = s.tmp;
  for (int ty = 0; ty < TH; ++ty)
    for (int tx = 0; tx < TW; ++tx) {
      const int t = ty * TW + tx;
      for (int j = 0; j < 4; ++j) {
        const float* __restrict m0 = s.M.data() + size_t(0 * 4 + j) * mplane + size_t(t) * oc;
        const float* __restrict m1 = s.M.data() + size_t(1 * 4 + j) * mplane + size_t(t) * oc;
        const float* __restrict m2 = s.M.data() + size_t(2 * 4 + j) * mplane + size_t(t) * oc;
        const float* __restrict m3 = s.M.data() + size_t(3 * 4 + j) * mplane + size_t(t) * oc;
        float* __restrict a0 = q.data() + size_t(0 * 4 + j) * oc;
        float* __restrict a1 = q.data() + size_t(1 * 4 + j) * oc;
        for (int c = 0; c < oc; ++c) {
          a0[c] = m0[c] + m1[c] + m2[c];
          a1[c] = m1[c] - m2[c] - m3[c];
        }
      }
      for (int a = 0; a < 2; ++a) {
        const int oy = 2 * ty + a;
        if (oy >= oh) continue;
        const float* __restrict s0 = q.data() + size_t(a * 4 + 0) * oc;
        const float* __restrict s1 = q.data() + size_t(a * 4 + 1) * oc;
        const float* __restrict s2 = q.data() + size_t(a * 4 + 2) * oc;
        const float* __restrict s3 = q.data() + size_t(a * 4 + 3) * oc;
        float* __restrict o0 = out + (size_t(oy) * ow + 2 * tx) * oc;
        for (int c = 0; c < oc; ++c) o0[c] = s0[c] + s1[c] + s2[c] + (bias ? bias[c] : 0.0f);
        if (2 * tx + 1 < ow) {
          float* __restrict o1 = o0 + oc;
          for (int c = 0; c < oc; ++c) o1[c] = s1[c] - s2[c] - s3[c] + (bias ? bias[c] : 0.0f);
        }
      }
    }
}


#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2,fma"))) void WinogradAvx2(float* out, const float* x, int ih, int iw, int ic, int pt,
                                                     int pl, int oh, int ow, int oc, const float* U,
                                                     const float* bias, WinogradScratch& s) {
  WinogradBody(out, x, ih, iw, ic, pt, pl, oh, ow, oc, U, bias, s);
}
#define KWS_WINOGRAD_AVX2 1
#endif

}  // namespace

void winograd_conv3x3(float* out, const float* x, int ih, int iw, int ic, int pt, int pl, int oh, int ow, int oc,
                      const float* U, const float* bias, WinogradScratch& s) {
#ifdef KWS_WINOGRAD_AVX2
  if (GemmUsesAvx2()) return WinogradAvx2(out, x, ih, iw, ic, pt, pl, oh, ow, oc, U, bias, s);
#endif
  WinogradBody(out, x, ih, iw, ic, pt, pl, oh, ow, oc, U, bias, s);
}

}  // namespace kws
