#include "layers/gemm.h"

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
// them in SSE registers when N is a compile-time constant).
// ---------------------------------------------------------------------------
template <int NT>
void nn_portable(float* C, const float* A, const float* B, int M, int K, int Nr) {
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
    for (int m = 0; m < M; ++m) {
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
void tn_portable(float* C, const float* A, const float* D, int M, int K, int Nr) {
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
    for (int m = 0; m < M; ++m) {
      const float* a = A + size_t(m) * K;
      const float* d = D + size_t(m) * N;
      for (int k = 0; k < K; ++k) {
        float* c = C + size_t(k) * N;
        const float x = a[k];
        for (int j = 0; j < N; ++j) c[j] += x * d[j];
      }
    }
  }
}

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

// Runs f(panel_offset, NV) over column panels of width 32/24/16/8 (N % 8 == 0).
template <class F>
void Panels(int N, F f) {
  for (int j0 = 0; j0 < N;) {
    const int w = std::min(32, N - j0);
    f(j0, w / 8);
    j0 += w;
  }
}

bool CpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#endif

bool g_allow_avx2 = true;

}  // namespace

bool GemmUsesAvx2() {
#ifdef KWS_GEMM_AVX2
  return g_allow_avx2 && CpuHasAvx2();
#else
  return false;
#endif
}

void GemmAllowAvx2(bool allow) { g_allow_avx2 = allow; }

bool ConvGemmSupported(int n) { return GemmUsesAvx2() && n >= 8 && n % 8 == 0; }

void conv_gemm_nn(float* C, const ConvA& a, const float* B, int M, int N) {
#ifdef KWS_GEMM_AVX2
  if (ConvGemmSupported(N)) {
    return Panels(N, [&](int j, int nv) {
      switch (nv) {
        case 1: return cnn_avx2<1>(C + j, a, B + j, M, N);
        case 2: return cnn_avx2<2>(C + j, a, B + j, M, N);
        case 3: return cnn_avx2<3>(C + j, a, B + j, M, N);
        default: return cnn_avx2<4>(C + j, a, B + j, M, N);
      }
    });
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
  if (ConvGemmSupported(N)) {
    return Panels(N, [&](int j, int nv) {
      switch (nv) {
        case 1: return ctn_avx2<1>(C + j, a, D + j, M, N);
        case 2: return ctn_avx2<2>(C + j, a, D + j, M, N);
        case 3: return ctn_avx2<3>(C + j, a, D + j, M, N);
        default: return ctn_avx2<4>(C + j, a, D + j, M, N);
      }
    });
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
  if (GemmUsesAvx2() && N >= 8 && N % 8 == 0) {
    return Panels(N, [&](int j, int nv) {
      switch (nv) {
        case 1: return nn_avx2<1>(C + j, A, B + j, M, K, N);
        case 2: return nn_avx2<2>(C + j, A, B + j, M, K, N);
        case 3: return nn_avx2<3>(C + j, A, B + j, M, K, N);
        default: return nn_avx2<4>(C + j, A, B + j, M, K, N);
      }
    });
  }
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
  if (GemmUsesAvx2() && N >= 8 && N % 8 == 0) {
    return Panels(N, [&](int j, int nv) {
      switch (nv) {
        case 1: return tn_avx2<1>(C + j, A, D + j, M, K, N);
        case 2: return tn_avx2<2>(C + j, A, D + j, M, K, N);
        case 3: return tn_avx2<3>(C + j, A, D + j, M, K, N);
        default: return tn_avx2<4>(C + j, A, D + j, M, K, N);
      }
    });
  }
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
