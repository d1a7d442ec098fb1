#include "layers/gemm.h"

#include "util/cpu.h"

#include <algorithm>
#include <cstddef>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define KWS_GEMM_AVX2 1
#include <immintrin.h>
#endif

namespace kws {

void gemm_nn_ref(float* C, const float* A, const float* B, int M, int K, int N) {
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      float acc = 0.0f;
      for (int k = 0; k < K; ++k) acc += A[size_t(m) * K + k] * B[size_t(k) * N + n];
      C[size_t(m) * N + n] = acc;
    }
}

void gemm_tn_acc_ref(float* C, const float* A, const float* D, int M, int K, int N) {
  for (int k = 0; k < K; ++k)
    for (int n = 0; n < N; ++n) {
      float acc = 0.0f;
      for (int m = 0; m < M; ++m) acc += A[size_t(m) * K + k] * D[size_t(m) * N + n];
      C[size_t(k) * N + n] += acc;
    }
}

namespace {

// ---------------------------------------------------------------------------
// Portable kernels: blocks of 4 rows held in local arrays (the compiler keeps
// them in SSE registers when N is a compile-time constant). Every element is
// 0 + a0*b0 + a1*b1 + ... in k order, each product rounded before its add; the
// same bodies are also compiled for AVX2 without FMA (8 lanes instead of 4, the
// same operations), which is how N % 8 != 0 runs fast with unchanged results.
// ---------------------------------------------------------------------------
template <int NT>
inline __attribute__((always_inline)) void nn_portable_body(float* C, const float* A, const float* B, int M, int K,
                                                            int Nr) {
  const int N = NT ? NT : Nr;
  if constexpr (NT > 0) {
    int m = 0;
    for (; m + 4 <= M; m += 4) {
      float c0[NT] = {}, c1[NT] = {}, c2[NT] = {}, c3[NT] = {};
      const float* a = A + size_t(m) * K;
      for (int k = 0; k < K; ++k) {
        const float* b = B + size_t(k) * NT;
        const float x0 = a[k], x1 = a[K + k], x2 = a[2 * K + k], x3 = a[3 * K + k];
        for (int j = 0; j < NT; ++j) {
          c0[j] += x0 * b[j], c1[j] += x1 * b[j];
          c2[j] += x2 * b[j], c3[j] += x3 * b[j];
        }
      }
      float* c = C + size_t(m) * NT;
      for (int j = 0; j < NT; ++j) c[j] = c0[j], c[NT + j] = c1[j], c[2 * NT + j] = c2[j], c[3 * NT + j] = c3[j];
    }
    for (; m < M; ++m) {
      float acc[NT] = {};
      const float* a = A + size_t(m) * K;
      for (int k = 0; k < K; ++k)
        for (int j = 0; j < NT; ++j) acc[j] += a[k] * B[size_t(k) * NT + j];
      for (int j = 0; j < NT; ++j) C[size_t(m) * NT + j] = acc[j];
    }
  } else {
    // Rows in blocks of 4 sharing each row of B (each element still sums its k in order).
    int m = 0;
    for (; m + 4 <= M; m += 4) {
      float* __restrict c0 = C + size_t(m) * N;
      float* __restrict c1 = c0 + N;
      float* __restrict c2 = c1 + N;
      float* __restrict c3 = c2 + N;
      std::fill(c0, c0 + 4 * size_t(N), 0.0f);
      const float* a = A + size_t(m) * K;
      for (int k = 0; k < K; ++k) {
        const float x0 = a[k], x1 = a[K + k], x2 = a[2 * K + k], x3 = a[3 * K + k];
        const float* __restrict b = B + size_t(k) * N;
        for (int j = 0; j < N; ++j) {
          const float bj = b[j];
          c0[j] += x0 * bj, c1[j] += x1 * bj, c2[j] += x2 * bj, c3[j] += x3 * bj;
        }
      }
    }
    for (; m < M; ++m) {
      float* c = C + size_t(m) * N;
      std::fill(c, c + N, 0.0f);
      const float* a = A + size_t(m) * K;
      for (int k = 0; k < K; ++k) {
        const float av = a[k];
        const float* b = B + size_t(k) * N;
        for (int j = 0; j < N; ++j) c[j] += av * b[j];
      }
    }
  }
}

template <int NT>
inline __attribute__((always_inline)) void tn_portable_body(float* C, const float* A, const float* D, int M, int K,
                                                            int Nr) {
  const int N = NT ? NT : Nr;
  if constexpr (NT > 0) {
    int k = 0;
    for (; k + 4 <= K; k += 4) {
      float c0[NT], c1[NT], c2[NT], c3[NT];
      float* c = C + size_t(k) * NT;
      for (int j = 0; j < NT; ++j) c0[j] = c[j], c1[j] = c[NT + j], c2[j] = c[2 * NT + j], c3[j] = c[3 * NT + j];
      for (int m = 0; m < M; ++m) {
        const float* a = A + size_t(m) * K + k;
        const float* d = D + size_t(m) * NT;
        const float x0 = a[0], x1 = a[1], x2 = a[2], x3 = a[3];
        for (int j = 0; j < NT; ++j) {
          c0[j] += x0 * d[j], c1[j] += x1 * d[j];
          c2[j] += x2 * d[j], c3[j] += x3 * d[j];
        }
      }
      for (int j = 0; j < NT; ++j) c[j] = c0[j], c[NT + j] = c1[j], c[2 * NT + j] = c2[j], c[3 * NT + j] = c3[j];
    }
    for (; k < K; ++k) {
      float acc[NT];
      float* c = C + size_t(k) * NT;
      for (int j = 0; j < NT; ++j) acc[j] = c[j];
      for (int m = 0; m < M; ++m)
        for (int j = 0; j < NT; ++j) acc[j] += A[size_t(m) * K + k] * D[size_t(m) * NT + j];
      for (int j = 0; j < NT; ++j) c[j] = acc[j];
    }
  } else {
    // Rows of C in blocks of 8 kept hot while m runs (each element still sums its m in order).
    for (int k0 = 0; k0 < K; k0 += 8) {
      const int k1 = std::min(K, k0 + 8);
      for (int m = 0; m < M; ++m) {
        const float* a = A + size_t(m) * K;
        const float* __restrict d = D + size_t(m) * N;
        for (int k = k0; k < k1; ++k) {
          float* __restrict c = C + size_t(k) * N;
          const float x = a[k];
          for (int j = 0; j < N; ++j) c[j] += x * d[j];
        }
      }
    }
  }
}

template <int NT>
void nn_portable(float* C, const float* A, const float* B, int M, int K, int N) {
  nn_portable_body<NT>(C, A, B, M, K, N);
}
template <int NT>
void tn_portable(float* C, const float* A, const float* D, int M, int K, int N) {
  tn_portable_body<NT>(C, A, D, M, K, N);
}

#ifdef KWS_GEMM_AVX2
// The portable kernels built for AVX2 (no FMA: results identical to the plain build).
template <int NT>
__attribute__((target("avx2"))) void nn_portable_avx2(float* C, const float* A, const float* B, int M, int K, int N) {
  nn_portable_body<NT>(C, A, B, M, K, N);
}
template <int NT>
__attribute__((target("avx2"))) void tn_portable_avx2(float* C, const float* A, const float* D, int M, int K, int N) {
  tn_portable_body<NT>(C, A, D, M, K, N);
}
#endif

#ifdef KWS_GEMM_AVX2
// ---------------------------------------------------------------------------
// AVX2 + FMA: N = 8*NV. nn: R rows of C (R*NV accumulators) per pass over K;
// tn: R rows of C (indices k) held while m runs. R*NV <= 12 of the 16 ymm registers.
// ---------------------------------------------------------------------------
template <int NV, int R>
__attribute__((target("avx2,fma"))) void nn_block_avx2(float* C, const float* A, const float* B, int K, int N) {
  __m256 c[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[r][v] = _mm256_setzero_ps();
  for (int k = 0; k < K; ++k) {
    __m256 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = _mm256_loadu_ps(B + size_t(k) * N + 8 * v);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m256 a = _mm256_broadcast_ss(A + size_t(r) * K + k);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) c[r][v] = _mm256_fmadd_ps(a, b[v], c[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm256_storeu_ps(C + size_t(r) * N + 8 * v, c[r][v]);
}

// One panel of 8*NV columns of B/C (row stride N).
template <int NV>
__attribute__((target("avx2,fma"))) void nn_avx2(float* C, const float* A, const float* B, int M, int K, int N) {
  constexpr int R = 12 / NV;
  int m = 0;
  for (; m + R <= M; m += R) nn_block_avx2<NV, R>(C + size_t(m) * N, A + size_t(m) * K, B, K, N);
  for (; m < M; ++m) nn_block_avx2<NV, 1>(C + size_t(m) * N, A + size_t(m) * K, B, K, N);
}

template <int NV, int R>
__attribute__((target("avx2,fma"))) void tn_block_avx2(float* C, const float* A, const float* D, int M, int K, int N) {
  __m256 c[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[r][v] = _mm256_loadu_ps(C + size_t(r) * N + 8 * v);
  for (int m = 0; m < M; ++m) {
    __m256 d[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) d[v] = _mm256_loadu_ps(D + size_t(m) * N + 8 * v);
    const float* a = A + size_t(m) * K;
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m256 x = _mm256_broadcast_ss(a + r);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) c[r][v] = _mm256_fmadd_ps(x, d[v], c[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm256_storeu_ps(C + size_t(r) * N + 8 * v, c[r][v]);
}

template <int NV>
__attribute__((target("avx2,fma"))) void tn_avx2(float* C, const float* A, const float* D, int M, int K, int N) {
  constexpr int R = 12 / NV;
  int k = 0;
  for (; k + R <= K; k += R) tn_block_avx2<NV, R>(C + size_t(k) * N, A + k, D, M, K, N);
  for (; k < K; ++k) tn_block_avx2<NV, 1>(C + size_t(k) * N, A + k, D, M, K, N);
}

// Implicit-A versions. nn: R output pixels (rows of C) per block, one A pointer
// per row; tn: R consecutive k of one segment held in registers while m runs.
template <int NV, int R>
__attribute__((target("avx2,fma"))) void cnn_block_avx2(float* C, const float* const* ap, const ConvA& a,
                                                        const float* B, int N) {
  __m256 c[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[r][v] = _mm256_setzero_ps();
  const float* p[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) p[r] = ap[r];
  const float* b = B;
  for (int seg = 0; seg < a.nseg; ++seg) {
    for (int j = 0; j < a.seg_len; ++j, b += N) {
      __m256 bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = _mm256_loadu_ps(b + 8 * v);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const __m256 x = _mm256_broadcast_ss(p[r] + j);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) c[r][v] = _mm256_fmadd_ps(x, bv[v], c[r][v]);
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) p[r] += a.seg_stride;
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm256_storeu_ps(C + size_t(r) * N + 8 * v, c[r][v]);
}

inline const float* RowPtr(const ConvA& a, int m) {
  const int oy = m / a.ow, ox = m - oy * a.ow;
  return a.base + oy * a.line_stride + long(ox) * a.pix_stride;
}

template <int NV, int R>
void cnn_tail(float* C, const ConvA& a, const float* B, int m, int M, int N) {
  if constexpr (R > 0) {
    if (M - m == R) {
      const float* ap[R];
      for (int r = 0; r < R; ++r) ap[r] = RowPtr(a, m + r);
      return cnn_block_avx2<NV, R>(C + size_t(m) * N, ap, a, B, N);
    }
    cnn_tail<NV, R - 1>(C, a, B, m, M, N);
  }
}

template <int NV>
void cnn_avx2(float* C, const ConvA& a, const float* B, int M, int N) {
  constexpr int R = 12 / NV;
  int m = 0;
  const float* ap[R];
  for (; m + R <= M; m += R) {
    for (int r = 0; r < R; ++r) ap[r] = RowPtr(a, m + r);
    cnn_block_avx2<NV, R>(C + size_t(m) * N, ap, a, B, N);
  }
  if (m < M) cnn_tail<NV, R - 1>(C, a, B, m, M, N);
}

// C rows k0..k0+R-1 (all in segment seg, offsets j0..j0+R-1) += sum_m A[m][k]*D[m]
template <int NV, int R>
__attribute__((target("avx2,fma"))) void ctn_block_avx2(float* C, const ConvA& a, long off, const float* D, int M,
                                                        int N) {
  __m256 c[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[r][v] = _mm256_loadu_ps(C + size_t(r) * N + 8 * v);
  int m = 0;
  for (int oy = 0; m < M; ++oy) {
    const float* row = a.base + oy * a.line_stride + off;
    for (int ox = 0; ox < a.ow && m < M; ++ox, ++m) {
      const float* x = row + long(ox) * a.pix_stride;
      __m256 d[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) d[v] = _mm256_loadu_ps(D + size_t(m) * N + 8 * v);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const __m256 xv = _mm256_broadcast_ss(x + r);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) c[r][v] = _mm256_fmadd_ps(xv, d[v], c[r][v]);
      }
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm256_storeu_ps(C + size_t(r) * N + 8 * v, c[r][v]);
}

template <int NV, int R>
void ctn_tail(float* C, const ConvA& a, long off, const float* D, int M, int rem, int N) {
  if constexpr (R > 0) {
    if (rem == R) return ctn_block_avx2<NV, R>(C, a, off, D, M, N);
    ctn_tail<NV, R - 1>(C, a, off, D, M, rem, N);
  }
}

template <int NV>
void ctn_avx2(float* C, const ConvA& a, const float* D, int M, int N) {
  constexpr int R = 12 / NV;
  for (int seg = 0; seg < a.nseg; ++seg) {
    float* cs = C + size_t(seg) * a.seg_len * N;
    int j = 0;
    for (; j + R <= a.seg_len; j += R)
      ctn_block_avx2<NV, R>(cs + size_t(j) * N, a, seg * a.seg_stride + j, D, M, N);
    if (j < a.seg_len)
      ctn_tail<NV, R - 1>(cs + size_t(j) * N, a, seg * a.seg_stride + j, D, M, a.seg_len - j, N);
  }
}

// The same blocks without FMA (separate multiplies and adds; built for AVX2 alone so the compiler cannot
// fuse them): each element is the portable kernels' sum, so widths that are not a multiple of 8 run
// register-blocked with unchanged results. Columns [0, 8*NV) of a panel; row stride N.
template <int NV, int R>
__attribute__((target("avx2"))) void nn_block_nofma(float* C, const float* A, const float* B, int K, int N) {
  __m256 c[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[r][v] = _mm256_setzero_ps();
  for (int k = 0; k < K; ++k) {
    __m256 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = _mm256_loadu_ps(B + size_t(k) * N + 8 * v);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m256 a = _mm256_broadcast_ss(A + size_t(r) * K + k);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) c[r][v] = _mm256_add_ps(c[r][v], _mm256_mul_ps(a, b[v]));
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm256_storeu_ps(C + size_t(r) * N + 8 * v, c[r][v]);
}

template <int NV>
void nn_nofma(float* C, const float* A, const float* B, int M, int K, int N) {
  constexpr int R = 12 / NV;
  int m = 0;
  for (; m + R <= M; m += R) nn_block_nofma<NV, R>(C + size_t(m) * N, A + size_t(m) * K, B, K, N);
  for (; m < M; ++m) nn_block_nofma<NV, 1>(C + size_t(m) * N, A + size_t(m) * K, B, K, N);
}

template <int NV, int R>
__attribute__((target("avx2"))) void tn_block_nofma(float* C, const float* A, const float* D, int M, int K, int N) {
  __m256 c[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[r][v] = _mm256_loadu_ps(C + size_t(r) * N + 8 * v);
  for (int m = 0; m < M; ++m) {
    __m256 d[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) d[v] = _mm256_loadu_ps(D + size_t(m) * N + 8 * v);
    const float* a = A + size_t(m) * K;
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m256 x = _mm256_broadcast_ss(a + r);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) c[r][v] = _mm256_add_ps(c[r][v], _mm256_mul_ps(x, d[v]));
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm256_storeu_ps(C + size_t(r) * N + 8 * v, c[r][v]);
}

template <int NV>
void tn_nofma(float* C, const float* A, const float* D, int M, int K, int N) {
  constexpr int R = 12 / NV;
  int k = 0;
  for (; k + R <= K; k += R) tn_block_nofma<NV, R>(C + size_t(k) * N, A + k, D, M, K, N);
  for (; k < K; ++k) tn_block_nofma<NV, 1>(C + size_t(k) * N, A + k, D, M, K, N);
}

// Runs f.template operator()<NV>(panel_offset) over column panels of NV = 4/3/2/1 vectors of
// `Lanes` floats (N % Lanes == 0): a kernel templated on its panel width is called as
// PanelsOf<8>(N, [&]<int NV>(int j) { kernel<NV>(C + j, ...); }).
template <int Lanes, class F>
void PanelsOf(int N, F f) {
  for (int j0 = 0; j0 < N;) {
    const int w = std::min(4 * Lanes, N - j0);
    switch (w / Lanes) {
      case 1: f.template operator()<1>(j0); break;
      case 2: f.template operator()<2>(j0); break;
      case 3: f.template operator()<3>(j0); break;
      default: f.template operator()<4>(j0); break;
    }
    j0 += w;
  }
}
// AVX2: panels of 32/24/16/8 columns.
template <class F>
void Panels(int N, F f) { PanelsOf<8>(N, f); }

bool CpuHasAvx2() {
  return cpu::UseAvx2();
}

// ---------------------------------------------------------------------------
// AVX-512F: N = 16*NV (a 16-channel layer is one zmm register per row). The A
// operand is broadcast straight from memory into the FMA ({1to16}). Up to 24
// accumulators of the 32 zmm registers; row tails are run in blocks of 8/4/2/1.
// ---------------------------------------------------------------------------
#define KWS_T512 __attribute__((target("avx512f")))
constexpr int KWS_CNN_R = 8;

template <int NV>
constexpr int Rows512() { return 24 / NV; }

// Calls f.template operator()<R>(offset) over [0, total) in blocks of R, the rest in blocks of 8, 4, 2, 1.
template <int R, class F>
inline void Blocks(int total, F&& f) {
  int i = 0;
  for (; i + R <= total; i += R) f.template operator()<R>(i);
  if constexpr (R > 8) {
    for (; i + 8 <= total; i += 8) f.template operator()<8>(i);
  }
  if constexpr (R > 4) {
    if (i + 4 <= total) f.template operator()<4>(i), i += 4;
  }
  if constexpr (R > 2) {
    if (i + 2 <= total) f.template operator()<2>(i), i += 2;
  }
  if constexpr (R > 1) {
    if (i + 1 <= total) f.template operator()<1>(i), i += 1;
  }
}

template <int NV, int R>
KWS_T512 void nn_block_512(float* C, const float* A, const float* B, int K, int N) {
  __m512 c[R][NV];
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[r][v] = _mm512_setzero_ps();
  for (int k = 0; k < K; ++k) {
    __m512 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = _mm512_loadu_ps(B + size_t(k) * N + 16 * v);
#pragma GCC unroll 24
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(A[size_t(r) * K + k]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) c[r][v] = _mm512_fmadd_ps(a, b[v], c[r][v]);
    }
  }
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(C + size_t(r) * N + 16 * v, c[r][v]);
}

template <int NV>
void nn_512(float* C, const float* A, const float* B, int M, int K, int N) {
  Blocks<Rows512<NV>()>(M, [&]<int R>(int m) { nn_block_512<NV, R>(C + size_t(m) * N, A + size_t(m) * K, B, K, N); });
}

template <int NV, int R>
KWS_T512 void tn_block_512(float* C, const float* A, const float* D, int M, int K, int N) {
  __m512 c[R][NV];
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[r][v] = _mm512_loadu_ps(C + size_t(r) * N + 16 * v);
  for (int m = 0; m < M; ++m) {
    __m512 d[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) d[v] = _mm512_loadu_ps(D + size_t(m) * N + 16 * v);
    const float* a = A + size_t(m) * K;
#pragma GCC unroll 24
    for (int r = 0; r < R; ++r) {
      const __m512 x = _mm512_set1_ps(a[r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) c[r][v] = _mm512_fmadd_ps(x, d[v], c[r][v]);
    }
  }
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(C + size_t(r) * N + 16 * v, c[r][v]);
}

template <int NV>
void tn_512(float* C, const float* A, const float* D, int M, int K, int N) {
  Blocks<Rows512<NV>()>(K, [&]<int R>(int k) { tn_block_512<NV, R>(C + size_t(k) * N, A + k, D, M, K, N); });
}

template <int NV, int R>
KWS_T512 void cnn_block_512(float* C, const ConvA& a, int m0, const float* B, int N) {
  __m512 c[R][NV];
  const float* p[R];
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r) {
    const int m = m0 + r, oy = m / a.ow, ox = m - oy * a.ow;
    p[r] = a.base + oy * a.line_stride + long(ox) * a.pix_stride;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[r][v] = _mm512_setzero_ps();
  }
  const float* b = B;
  for (int seg = 0; seg < a.nseg; ++seg) {
    for (int j = 0; j < a.seg_len; ++j, b += N) {
      __m512 bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 24
      for (int r = 0; r < R; ++r) {
        const __m512 x = _mm512_set1_ps(p[r][j]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) c[r][v] = _mm512_fmadd_ps(x, bv[v], c[r][v]);
      }
    }
#pragma GCC unroll 24
    for (int r = 0; r < R; ++r) p[r] += a.seg_stride;
  }
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(C + size_t(m0 + r) * N + 16 * v, c[r][v]);
}

// 16 output channels: a tile of RY output rows x RX pixels (RY*RX <= 24 accumulators). The A
// operand of pixel (ry, rx) is q[ry] + rx*PS (PS = stride * input channels, a compile-time 16 or 32)
// + the segment offset: RY base registers and immediate offsets, nothing spilled.
template <int PS, int RX, int RY>
KWS_T512 void cnn_tile_512(float* C, long c_row, const float* p0, const ConvA& a, const float* B) {
  __m512 c[RY][RX];
  const float* q[RY];
#pragma GCC unroll 8
  for (int ry = 0; ry < RY; ++ry) {
    q[ry] = p0 + ry * a.line_stride;
#pragma GCC unroll 24
    for (int rx = 0; rx < RX; ++rx) c[ry][rx] = _mm512_setzero_ps();
  }
  const float* b = B;
  for (int seg = 0; seg < a.nseg; ++seg) {
    for (int j = 0; j < a.seg_len; ++j, b += 16) {
      const __m512 bv = _mm512_loadu_ps(b);
#pragma GCC unroll 8
      for (int ry = 0; ry < RY; ++ry)
#pragma GCC unroll 24
        for (int rx = 0; rx < RX; ++rx) c[ry][rx] = _mm512_fmadd_ps(_mm512_set1_ps(q[ry][rx * PS + j]), bv, c[ry][rx]);
    }
#pragma GCC unroll 8
    for (int ry = 0; ry < RY; ++ry) q[ry] += a.seg_stride;
  }
#pragma GCC unroll 8
  for (int ry = 0; ry < RY; ++ry)
#pragma GCC unroll 24
    for (int rx = 0; rx < RX; ++rx) _mm512_storeu_ps(C + ry * c_row + rx * 16, c[ry][rx]);
}

// Columns [ox0, ox0 + RX) of every output row (oh rows), RY rows at a time.
template <int PS, int RX>
void cnn_cols_512(float* C, const ConvA& a, const float* B, int oh, int ox0) {
  constexpr int RY = std::min(8, 24 / RX);
  const long c_row = long(a.ow) * 16;
  int oy = 0;
  for (; oy + RY <= oh; oy += RY)
    cnn_tile_512<PS, RX, RY>(C + oy * c_row + ox0 * 16, c_row, a.base + oy * a.line_stride + ox0 * PS, a, B);
  for (; oy < oh; ++oy)
    cnn_tile_512<PS, RX, 1>(C + oy * c_row + ox0 * 16, c_row, a.base + oy * a.line_stride + ox0 * PS, a, B);
}

template <int PS>
void cnn_cols_any_512(float* C, const ConvA& a, const float* B, int oh, int ox0, int rx) {
  switch (rx) {
    case 1: return cnn_cols_512<PS, 1>(C, a, B, oh, ox0);
    case 2: return cnn_cols_512<PS, 2>(C, a, B, oh, ox0);
    case 3: return cnn_cols_512<PS, 3>(C, a, B, oh, ox0);
    case 4: return cnn_cols_512<PS, 4>(C, a, B, oh, ox0);
    case 5: return cnn_cols_512<PS, 5>(C, a, B, oh, ox0);
    case 6: return cnn_cols_512<PS, 6>(C, a, B, oh, ox0);
    case 7: return cnn_cols_512<PS, 7>(C, a, B, oh, ox0);
    case 8: return cnn_cols_512<PS, 8>(C, a, B, oh, ox0);
    case 9: return cnn_cols_512<PS, 9>(C, a, B, oh, ox0);
    case 10: return cnn_cols_512<PS, 10>(C, a, B, oh, ox0);
    case 11: return cnn_cols_512<PS, 11>(C, a, B, oh, ox0);
    default: return cnn_cols_512<PS, 12>(C, a, B, oh, ox0);
  }
}

template <int PS>
void cnn16_512(float* C, const ConvA& a, const float* B, int oh) {
  for (int ox0 = 0; ox0 < a.ow; ox0 += 12) cnn_cols_any_512<PS>(C, a, B, oh, ox0, std::min(12, a.ow - ox0));
}

// One A pointer per row: at most 12 rows, or the pointers spill out of the 16 general registers.
template <int NV>
void cnn_512(float* C, const ConvA& a, const float* B, int M, int N) {
  if (NV == 1 && N == 16 && M % a.ow == 0) {
    if (a.pix_stride == 16) return cnn16_512<16>(C, a, B, M / a.ow);
    if (a.pix_stride == 32) return cnn16_512<32>(C, a, B, M / a.ow);
    if (a.pix_stride == 2) return cnn16_512<2>(C, a, B, M / a.ow);  // 1 input channel, stride 2 (a first layer)
  }
  Blocks<std::min(KWS_CNN_R, Rows512<NV>())>(M, [&]<int R>(int m) { cnn_block_512<NV, R>(C, a, m, B, N); });
}

template <int NV, int R>
KWS_T512 void ctn_block_512(float* C, const ConvA& a, long off, const float* D, int M, int N) {
  __m512 c[R][NV];
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[r][v] = _mm512_loadu_ps(C + size_t(r) * N + 16 * v);
  int m = 0;
  for (int oy = 0; m < M; ++oy) {
    const float* row = a.base + oy * a.line_stride + off;
    for (int ox = 0; ox < a.ow && m < M; ++ox, ++m) {
      const float* x = row + long(ox) * a.pix_stride;
      __m512 d[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) d[v] = _mm512_loadu_ps(D + size_t(m) * N + 16 * v);
#pragma GCC unroll 24
      for (int r = 0; r < R; ++r) {
        const __m512 xv = _mm512_set1_ps(x[r]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) c[r][v] = _mm512_fmadd_ps(xv, d[v], c[r][v]);
      }
    }
  }
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(C + size_t(r) * N + 16 * v, c[r][v]);
}

// 16 output channels and a whole small kernel (NSEG*SL <= 24 rows of C, e.g. a 3x3 kernel over one
// input channel): every row of C in one pass over the pixels, so each D row is loaded once instead of
// once per segment. Each C element sums over m in the same order as ctn_block_512 (bit-identical).
template <int NSEG, int SL>
KWS_T512 void ctn_all16_512(float* C, const ConvA& a, const float* D, int M) {
  __m512 c[NSEG][SL];
#pragma GCC unroll 8
  for (int s = 0; s < NSEG; ++s)
#pragma GCC unroll 24
    for (int j = 0; j < SL; ++j) c[s][j] = _mm512_loadu_ps(C + (size_t(s) * SL + j) * 16);
  const long ss = a.seg_stride;
  int m = 0;
  for (int oy = 0; m < M; ++oy) {
    const float* row = a.base + oy * a.line_stride;
    for (int ox = 0; ox < a.ow && m < M; ++ox, ++m) {
      const float* x = row + long(ox) * a.pix_stride;
      const __m512 d = _mm512_loadu_ps(D + size_t(m) * 16);
#pragma GCC unroll 8
      for (int s = 0; s < NSEG; ++s)
#pragma GCC unroll 24
        for (int j = 0; j < SL; ++j) c[s][j] = _mm512_fmadd_ps(_mm512_set1_ps(x[s * ss + j]), d, c[s][j]);
    }
  }
#pragma GCC unroll 8
  for (int s = 0; s < NSEG; ++s)
#pragma GCC unroll 24
    for (int j = 0; j < SL; ++j) _mm512_storeu_ps(C + (size_t(s) * SL + j) * 16, c[s][j]);
}

template <int NV>
void ctn_512(float* C, const ConvA& a, const float* D, int M, int N) {
  if (NV == 1 && N == 16 && a.nseg == 3 && a.seg_len == 3) return ctn_all16_512<3, 3>(C, a, D, M);
  for (int seg = 0; seg < a.nseg; ++seg) {
    float* cs = C + size_t(seg) * a.seg_len * N;
    const long base = seg * a.seg_stride;
    Blocks<Rows512<NV>()>(a.seg_len, [&]<int R>(int j) { ctn_block_512<NV, R>(cs + size_t(j) * N, a, base + j, D, M, N); });
  }
}

// AVX-512: panels of 64/48/32/16 columns (N % 16 == 0).
template <class F>
void Panels512(int N, F f) { PanelsOf<16>(N, f); }

// AVX-512 without FMA for widths that are not a multiple of 8 (the portable arithmetic, as
// nn_block_nofma): the explicit-rounding intrinsics are never fused by the compiler.
#define KWS_RN (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
template <int NV, int R>
KWS_T512 void nn_block_512_nofma(float* C, const float* A, const float* B, int K, int N) {
  __m512 c[R][NV];
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[r][v] = _mm512_setzero_ps();
  for (int k = 0; k < K; ++k) {
    __m512 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = _mm512_loadu_ps(B + size_t(k) * N + 16 * v);
#pragma GCC unroll 24
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(A[size_t(r) * K + k]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) c[r][v] = _mm512_add_round_ps(c[r][v], _mm512_mul_round_ps(a, b[v], KWS_RN), KWS_RN);
    }
  }
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(C + size_t(r) * N + 16 * v, c[r][v]);
}

template <int NV>
void nn_512_nofma(float* C, const float* A, const float* B, int M, int K, int N) {
  Blocks<Rows512<NV>()>(M, [&]<int R>(int m) { nn_block_512_nofma<NV, R>(C + size_t(m) * N, A + size_t(m) * K, B, K, N); });
}

template <int NV, int R>
KWS_T512 void tn_block_512_nofma(float* C, const float* A, const float* D, int M, int K, int N) {
  __m512 c[R][NV];
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) c[r][v] = _mm512_loadu_ps(C + size_t(r) * N + 16 * v);
  for (int m = 0; m < M; ++m) {
    __m512 d[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) d[v] = _mm512_loadu_ps(D + size_t(m) * N + 16 * v);
    const float* a = A + size_t(m) * K;
#pragma GCC unroll 24
    for (int r = 0; r < R; ++r) {
      const __m512 x = _mm512_set1_ps(a[r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) c[r][v] = _mm512_add_round_ps(c[r][v], _mm512_mul_round_ps(x, d[v], KWS_RN), KWS_RN);
    }
  }
#pragma GCC unroll 24
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(C + size_t(r) * N + 16 * v, c[r][v]);
}

template <int NV>
void tn_512_nofma(float* C, const float* A, const float* D, int M, int K, int N) {
  Blocks<Rows512<NV>()>(K, [&]<int R>(int k) { tn_block_512_nofma<NV, R>(C + size_t(k) * N, A + k, D, M, K, N); });
}

// The last N % 8 columns (1..7): masked 8-lane loads and stores, no FMA, rows in blocks of 4.
__attribute__((target("avx2"))) void nn_tail_masked(float* C, const float* A, const float* B, int M, int K, int N,
                                                    int j0) {
  alignas(32) int32_t bits[8];
  for (int i = 0; i < 8; ++i) bits[i] = i < N - j0 ? -1 : 0;
  const __m256i mask = _mm256_load_si256(reinterpret_cast<const __m256i*>(bits));
  int m = 0;
  for (; m + 4 <= M; m += 4) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
    const float* a = A + size_t(m) * K;
    for (int k = 0; k < K; ++k) {
      const __m256 b = _mm256_maskload_ps(B + size_t(k) * N + j0, mask);
      c0 = _mm256_add_ps(c0, _mm256_mul_ps(_mm256_broadcast_ss(a + k), b));
      c1 = _mm256_add_ps(c1, _mm256_mul_ps(_mm256_broadcast_ss(a + K + k), b));
      c2 = _mm256_add_ps(c2, _mm256_mul_ps(_mm256_broadcast_ss(a + 2 * size_t(K) + k), b));
      c3 = _mm256_add_ps(c3, _mm256_mul_ps(_mm256_broadcast_ss(a + 3 * size_t(K) + k), b));
    }
    _mm256_maskstore_ps(C + size_t(m) * N + j0, mask, c0);
    _mm256_maskstore_ps(C + size_t(m + 1) * N + j0, mask, c1);
    _mm256_maskstore_ps(C + size_t(m + 2) * N + j0, mask, c2);
    _mm256_maskstore_ps(C + size_t(m + 3) * N + j0, mask, c3);
  }
  for (; m < M; ++m) {
    __m256 c = _mm256_setzero_ps();
    const float* a = A + size_t(m) * K;
    for (int k = 0; k < K; ++k)
      c = _mm256_add_ps(c, _mm256_mul_ps(_mm256_broadcast_ss(a + k), _mm256_maskload_ps(B + size_t(k) * N + j0, mask)));
    _mm256_maskstore_ps(C + size_t(m) * N + j0, mask, c);
  }
}

__attribute__((target("avx2"))) void tn_tail_masked(float* C, const float* A, const float* D, int M, int K, int N,
                                                    int j0) {
  alignas(32) int32_t bits[8];
  for (int i = 0; i < 8; ++i) bits[i] = i < N - j0 ? -1 : 0;
  const __m256i mask = _mm256_load_si256(reinterpret_cast<const __m256i*>(bits));
  for (int k = 0; k < K; ++k) {
    __m256 c = _mm256_maskload_ps(C + size_t(k) * N + j0, mask);
    for (int m = 0; m < M; ++m)
      c = _mm256_add_ps(c, _mm256_mul_ps(_mm256_broadcast_ss(A + size_t(m) * K + k),
                                         _mm256_maskload_ps(D + size_t(m) * N + j0, mask)));
    _mm256_maskstore_ps(C + size_t(k) * N + j0, mask, c);
  }
}

bool CpuHasAvx512() {
  return cpu::UseAvx512();
}
#endif

bool g_allow_avx2 = true;
bool g_allow_avx512 = true;

}  // namespace

bool GemmUsesAvx2() {
#ifdef KWS_GEMM_AVX2
  return g_allow_avx2 && CpuHasAvx2();
#else
  return false;
#endif
}

void GemmAllowAvx2(bool allow) { g_allow_avx2 = allow; }

bool GemmUsesAvx512() {
#ifdef KWS_GEMM_AVX2
  return g_allow_avx512 && GemmUsesAvx2() && CpuHasAvx512();
#else
  return false;
#endif
}

void GemmAllowAvx512(bool allow) { g_allow_avx512 = allow; }

namespace {
// AVX-512 kernels take N (the output channels) in multiples of 16.
inline bool Use512(int n) { return n >= 16 && n % 16 == 0 && GemmUsesAvx512(); }
}  // namespace

bool ConvGemmSupported(int n) { return GemmUsesAvx2() && n >= 8 && n % 8 == 0; }

void conv_gemm_nn(float* C, const ConvA& a, const float* B, int M, int N) {
#ifdef KWS_GEMM_AVX2
  if (Use512(N)) {
    return Panels512(N, [&]<int NV>(int j) { cnn_512<NV>(C + j, a, B + j, M, N); });
  }
  if (ConvGemmSupported(N)) {
    return Panels(N, [&]<int NV>(int j) { cnn_avx2<NV>(C + j, a, B + j, M, N); });
  }
#endif
  // Portable (slow) form of the same product, for completeness; conv2d uses im2col instead.
  const int K = a.nseg * a.seg_len;
  for (int m = 0; m < M; ++m) {
    const int oy = m / a.ow, ox = m % a.ow;
    const float* row = a.base + oy * a.line_stride + long(ox) * a.pix_stride;
    float* c = C + size_t(m) * N;
    std::fill(c, c + N, 0.0f);
    for (int k = 0; k < K; ++k) {
      const float x = row[(k / a.seg_len) * a.seg_stride + k % a.seg_len];
      for (int n = 0; n < N; ++n) c[n] += x * B[size_t(k) * N + n];
    }
  }
}

void conv_gemm_tn_acc(float* C, const ConvA& a, const float* D, int M, int N) {
#ifdef KWS_GEMM_AVX2
  if (Use512(N)) {
    return Panels512(N, [&]<int NV>(int j) { ctn_512<NV>(C + j, a, D + j, M, N); });
  }
  if (ConvGemmSupported(N)) {
    return Panels(N, [&]<int NV>(int j) { ctn_avx2<NV>(C + j, a, D + j, M, N); });
  }
#endif
  const int K = a.nseg * a.seg_len;
  for (int m = 0; m < M; ++m) {
    const int oy = m / a.ow, ox = m % a.ow;
    const float* row = a.base + oy * a.line_stride + long(ox) * a.pix_stride;
    for (int k = 0; k < K; ++k) {
      const float x = row[(k / a.seg_len) * a.seg_stride + k % a.seg_len];
      for (int n = 0; n < N; ++n) C[size_t(k) * N + n] += x * D[size_t(m) * N + n];
    }
  }
}

void gemm_nn(float* C, const float* A, const float* B, int M, int K, int N) {
#ifdef KWS_GEMM_AVX2
  if (Use512(N)) {
    return Panels512(N, [&]<int NV>(int j) { nn_512<NV>(C + j, A, B + j, M, K, N); });
  }
  if (GemmUsesAvx2() && N >= 8 && N % 8 == 0) {
    return Panels(N, [&]<int NV>(int j) { nn_avx2<NV>(C + j, A, B + j, M, K, N); });
  }
#endif
#ifdef KWS_GEMM_AVX2
  // Other widths keep the portable kernels' arithmetic: panels of 8 columns without FMA, the last
  // N % 8 columns in plain loops; below 8 columns the portable kernels built for AVX2.
  if (GemmUsesAvx2() && N >= 8) {
    const int n16 = GemmUsesAvx512() ? N - N % 16 : 0, n8 = N - N % 8;
    if (n16) Panels512(n16, [&]<int NV>(int j) { nn_512_nofma<NV>(C + j, A, B + j, M, K, N); });
    if (n8 > n16) Panels(n8 - n16, [&]<int NV>(int j) { nn_nofma<NV>(C + n16 + j, A, B + n16 + j, M, K, N); });
    if (N > n8) nn_tail_masked(C, A, B, M, K, N, n8);
    return;
  }
  if (GemmUsesAvx2()) return N == 4 ? nn_portable_avx2<4>(C, A, B, M, K, N) : nn_portable_avx2<0>(C, A, B, M, K, N);
#endif
  switch (N) {
    case 4: return nn_portable<4>(C, A, B, M, K, N);
    case 8: return nn_portable<8>(C, A, B, M, K, N);
    case 16: return nn_portable<16>(C, A, B, M, K, N);
    case 32: return nn_portable<32>(C, A, B, M, K, N);
    default: return nn_portable<0>(C, A, B, M, K, N);
  }
}

void gemm_tn_acc(float* C, const float* A, const float* D, int M, int K, int N) {
#ifdef KWS_GEMM_AVX2
  if (Use512(N)) {
    return Panels512(N, [&]<int NV>(int j) { tn_512<NV>(C + j, A, D + j, M, K, N); });
  }
  if (GemmUsesAvx2() && N >= 8 && N % 8 == 0) {
    return Panels(N, [&]<int NV>(int j) { tn_avx2<NV>(C + j, A, D + j, M, K, N); });
  }
#endif
#ifdef KWS_GEMM_AVX2
  if (GemmUsesAvx2() && N >= 8) {  // as gemm_nn: the portable arithmetic, register-blocked
    const int n16 = GemmUsesAvx512() ? N - N % 16 : 0, n8 = N - N % 8;
    if (n16) Panels512(n16, [&]<int NV>(int j) { tn_512_nofma<NV>(C + j, A, D + j, M, K, N); });
    if (n8 > n16) Panels(n8 - n16, [&]<int NV>(int j) { tn_nofma<NV>(C + n16 + j, A, D + n16 + j, M, K, N); });
    if (N > n8) tn_tail_masked(C, A, D, M, K, N, n8);
    return;
  }
  if (GemmUsesAvx2()) return N == 4 ? tn_portable_avx2<4>(C, A, D, M, K, N) : tn_portable_avx2<0>(C, A, D, M, K, N);
#endif
  switch (N) {
    case 4: return tn_portable<4>(C, A, D, M, K, N);
    case 8: return tn_portable<8>(C, A, D, M, K, N);
    case 16: return tn_portable<16>(C, A, D, M, K, N);
    case 32: return tn_portable<32>(C, A, D, M, K, N);
    default: return tn_portable<0>(C, A, D, M, K, N);
  }
}

}  // namespace kws
