#include "features/fft.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

#include "util/error.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"  // 32-byte vectors in inline helpers
#endif

#ifdef KWS_FFT_FFTW
#include <fftw3.h>

#include <mutex>
#else
#include <complex>
#include <unsupported/Eigen/FFT>
#endif

namespace kws {
#ifdef KWS_FFT_FFTW

namespace {
std::mutex& PlanMutex() {
  static std::mutex m;  // FFTW's planner is not thread-safe
  return m;
}
}  // namespace

struct RealFft::Impl {
  float* in = nullptr;
  fftwf_complex* out = nullptr;
  fftwf_plan plan = nullptr;
};

RealFft::RealFft(int n) : n_(n), impl_(std::make_unique<Impl>()) {
  if (n < 2 || n % 2) throw UsageError("features: fft_length must be even and >= 2 (got " + std::to_string(n) + ")");
  impl_->in = fftwf_alloc_real(size_t(n));
  impl_->out = fftwf_alloc_complex(size_t(n / 2 + 1));
  if (!impl_->in || !impl_->out) throw InternalError("fft: out of memory");
  {
    std::lock_guard<std::mutex> lock(PlanMutex());
    impl_->plan = fftwf_plan_dft_r2c_1d(n, impl_->in, impl_->out, FFTW_MEASURE);
  }
  if (!impl_->plan) throw InternalError("fft: FFTW could not plan a size-" + std::to_string(n) + " transform");
}

RealFft::~RealFft() {
  if (!impl_) return;
  if (impl_->plan) {
    std::lock_guard<std::mutex> lock(PlanMutex());
    fftwf_destroy_plan(impl_->plan);
  }
  fftwf_free(impl_->in);
  fftwf_free(impl_->out);
}

void RealFft::Forward(const double* in, double* re, double* im) { Forward(in, re, im, 0, n_ / 2 + 1); }

void RealFft::Forward(const double* in, double* re, double* im, int k_begin, int k_end) {
  k_begin = std::clamp(k_begin, 0, n_ / 2 + 1);
  k_end = std::clamp(k_end, k_begin, n_ / 2 + 1);
  for (int i = 0; i < n_; ++i) impl_->in[i] = float(in[i]);
  fftwf_execute(impl_->plan);
  for (int k = k_begin; k < k_end; ++k) re[k] = impl_->out[k][0], im[k] = impl_->out[k][1];
}

const char* RealFft::backend() const { return "fftw3f"; }

#else  // own double FFT (powers of two) / Eigen's KissFFT in double (other sizes)

namespace {

bool IsPow2(int n) { return n > 0 && (n & (n - 1)) == 0; }

// Stockham autosort passes (no bit reversal) over split re/im arrays.
// A pass of radix r works on sub-transforms of length n = r*m with stride s
// (n * s = M); its twiddles W_n^(j*p) = W_M^(j*p*s) come from one table.
// The inner loop runs over q (the stride) and is written with GCC vector
// extensions, 4 doubles at a time (2 SSE2 ops by default, 1 AVX op in the
// avx2 clone).
typedef double v4d __attribute__((vector_size(32)));

// Unaligned loads/stores as macros (not functions: clang rejects passing
// 32-byte vectors to helpers compiled without AVX from the AVX clones).
typedef double v4du __attribute__((vector_size(32), aligned(8), may_alias));
#define KWS_LOAD(p) (*reinterpret_cast<const v4du*>(p))
#define KWS_STORE(p, v) (*reinterpret_cast<v4du*>(p) = (v))

// Radix-4 DIF pass:
//   a,b,c,d = x[p], x[p+m], x[p+2m], x[p+3m]   (each a stride-s run)
//   y[4p]   = (a+c) + (b+d)
//   y[4p+1] = W^p  ((a-c) - i(b-d))
//   y[4p+2] = W^2p ((a+c) - (b+d))
//   y[4p+3] = W^3p ((a-c) + i(b-d))
[[gnu::target_clones("avx2", "default")]] void Radix4Pass(int m, int s, const double* xr, const double* xi,
                                                           double* yr, double* yi, const double* wr,
                                                           const double* wi) {
  for (int p = 0; p < m; ++p) {
    const double w1r = wr[p * s], w1i = wi[p * s];
    const double w2r = wr[2 * p * s], w2i = wi[2 * p * s];
    const double w3r = wr[3 * p * s], w3i = wi[3 * p * s];
    const double *ar = xr + s * p, *ai = xi + s * p;
    const double *br = ar + s * m, *bi = ai + s * m;
    const double *cr = br + s * m, *ci = bi + s * m;
    const double *dr = cr + s * m, *di = ci + s * m;
    double *y0r = yr + s * 4 * p, *y0i = yi + s * 4 * p;
    double *y1r = y0r + s, *y1i = y0i + s;
    double *y2r = y1r + s, *y2i = y1i + s;
    double *y3r = y2r + s, *y3i = y2i + s;
    int q = 0;
    for (; q + 4 <= s; q += 4) {
      const v4d a_r = KWS_LOAD(ar + q), a_i = KWS_LOAD(ai + q), b_r = KWS_LOAD(br + q), b_i = KWS_LOAD(bi + q);
      const v4d c_r = KWS_LOAD(cr + q), c_i = KWS_LOAD(ci + q), d_r = KWS_LOAD(dr + q), d_i = KWS_LOAD(di + q);
      const v4d apc_r = a_r + c_r, apc_i = a_i + c_i, amc_r = a_r - c_r, amc_i = a_i - c_i;
      const v4d bpd_r = b_r + d_r, bpd_i = b_i + d_i, bmd_r = b_r - d_r, bmd_i = b_i - d_i;
      KWS_STORE(y0r + q, apc_r + bpd_r);
      KWS_STORE(y0i + q, apc_i + bpd_i);
      const v4d t1r = amc_r + bmd_i, t1i = amc_i - bmd_r;  // (a-c) - i(b-d)
      const v4d t2r = apc_r - bpd_r, t2i = apc_i - bpd_i;
      const v4d t3r = amc_r - bmd_i, t3i = amc_i + bmd_r;  // (a-c) + i(b-d)
      KWS_STORE(y1r + q, t1r * w1r - t1i * w1i);
      KWS_STORE(y1i + q, t1r * w1i + t1i * w1r);
      KWS_STORE(y2r + q, t2r * w2r - t2i * w2i);
      KWS_STORE(y2i + q, t2r * w2i + t2i * w2r);
      KWS_STORE(y3r + q, t3r * w3r - t3i * w3i);
      KWS_STORE(y3i + q, t3r * w3i + t3i * w3r);
    }
    for (; q < s; ++q) {
      const double apc_r = ar[q] + cr[q], apc_i = ai[q] + ci[q], amc_r = ar[q] - cr[q], amc_i = ai[q] - ci[q];
      const double bpd_r = br[q] + dr[q], bpd_i = bi[q] + di[q], bmd_r = br[q] - dr[q], bmd_i = bi[q] - di[q];
      y0r[q] = apc_r + bpd_r;
      y0i[q] = apc_i + bpd_i;
      const double t1r = amc_r + bmd_i, t1i = amc_i - bmd_r;
      const double t2r = apc_r - bpd_r, t2i = apc_i - bpd_i;
      const double t3r = amc_r - bmd_i, t3i = amc_i + bmd_r;
      y1r[q] = t1r * w1r - t1i * w1i;
      y1i[q] = t1r * w1i + t1i * w1r;
      y2r[q] = t2r * w2r - t2i * w2i;
      y2i[q] = t2r * w2i + t2i * w2r;
      y3r[q] = t3r * w3r - t3i * w3i;
      y3i[q] = t3r * w3i + t3i * w3r;
    }
  }
}


// The first radix-4 pass (s = 1) vectorised over p instead: inputs are
// contiguous in p, twiddles come from per-p tables, and the four outputs of
// four consecutive p are written back with a 4x4 transpose.
// It also does the packing z[t] = x[2t] + i x[2t+1]: x is the interleaved real input.
#define KWS_LOADZ(x, re, im)                          \
  do {                                                \
    const v4d lo_ = KWS_LOAD(x), hi_ = KWS_LOAD((x) + 4); \
    re = __builtin_shufflevector(lo_, hi_, 0, 2, 4, 6); \
    im = __builtin_shufflevector(lo_, hi_, 1, 3, 5, 7); \
  } while (0)

[[gnu::target_clones("avx2", "default")]] void Radix4First(int m, const double* x, double* yr, double* yi,
                                                            const double* t1r, const double* t1i, const double* t2r,
                                                            const double* t2i, const double* t3r,
                                                            const double* t3i) {
  for (int p = 0; p < m; p += 4) {
    v4d a_r, a_i, b_r, b_i, c_r, c_i, d_r, d_i;
    KWS_LOADZ(x + 2 * p, a_r, a_i);
    KWS_LOADZ(x + 2 * (p + m), b_r, b_i);
    KWS_LOADZ(x + 2 * (p + 2 * m), c_r, c_i);
    KWS_LOADZ(x + 2 * (p + 3 * m), d_r, d_i);
    const v4d apc_r = a_r + c_r, apc_i = a_i + c_i, amc_r = a_r - c_r, amc_i = a_i - c_i;
    const v4d bpd_r = b_r + d_r, bpd_i = b_i + d_i, bmd_r = b_r - d_r, bmd_i = b_i - d_i;
    const v4d u1r = amc_r + bmd_i, u1i = amc_i - bmd_r;
    const v4d u2r = apc_r - bpd_r, u2i = apc_i - bpd_i;
    const v4d u3r = amc_r - bmd_i, u3i = amc_i + bmd_r;
    const v4d w1r = KWS_LOAD(t1r + p), w1i = KWS_LOAD(t1i + p), w2r = KWS_LOAD(t2r + p), w2i = KWS_LOAD(t2i + p);
    const v4d w3r = KWS_LOAD(t3r + p), w3i = KWS_LOAD(t3i + p);
    const v4d Y[2][4] = {{apc_r + bpd_r, u1r * w1r - u1i * w1i, u2r * w2r - u2i * w2i, u3r * w3r - u3i * w3i},
                         {apc_i + bpd_i, u1r * w1i + u1i * w1r, u2r * w2i + u2i * w2r, u3r * w3i + u3i * w3r}};
    double* out[2] = {yr + 4 * p, yi + 4 * p};
    for (int c = 0; c < 2; ++c) {
      const v4d e0 = __builtin_shufflevector(Y[c][0], Y[c][1], 0, 4, 2, 6);
      const v4d e1 = __builtin_shufflevector(Y[c][0], Y[c][1], 1, 5, 3, 7);
      const v4d e2 = __builtin_shufflevector(Y[c][2], Y[c][3], 0, 4, 2, 6);
      const v4d e3 = __builtin_shufflevector(Y[c][2], Y[c][3], 1, 5, 3, 7);
      KWS_STORE(out[c] + 0, __builtin_shufflevector(e0, e2, 0, 1, 4, 5));
      KWS_STORE(out[c] + 4, __builtin_shufflevector(e1, e3, 0, 1, 4, 5));
      KWS_STORE(out[c] + 8, __builtin_shufflevector(e0, e2, 2, 3, 6, 7));
      KWS_STORE(out[c] + 12, __builtin_shufflevector(e1, e3, 2, 3, 6, 7));
    }
  }
}

// Radix-2 pass, used once when log2(M) is odd.
[[gnu::target_clones("avx2", "default")]] void Radix2Pass(int m, int s, const double* xr, const double* xi,
                                                           double* yr, double* yi, const double* wr,
                                                           const double* wi) {
  for (int p = 0; p < m; ++p) {
    const double c = wr[p * s], d = wi[p * s];
    const double *ar = xr + s * p, *ai = xi + s * p, *br = ar + s * m, *bi = ai + s * m;
    double *y0r = yr + s * 2 * p, *y0i = yi + s * 2 * p, *y1r = y0r + s, *y1i = y0i + s;
    int q = 0;
    for (; q + 4 <= s; q += 4) {
      const v4d a_r = KWS_LOAD(ar + q), a_i = KWS_LOAD(ai + q), b_r = KWS_LOAD(br + q), b_i = KWS_LOAD(bi + q);
      const v4d er = a_r - b_r, ei = a_i - b_i;
      KWS_STORE(y0r + q, a_r + b_r);
      KWS_STORE(y0i + q, a_i + b_i);
      KWS_STORE(y1r + q, er * c - ei * d);
      KWS_STORE(y1i + q, er * d + ei * c);
    }
    for (; q < s; ++q) {
      const double er = ar[q] - br[q], ei = ai[q] - bi[q];
      y0r[q] = ar[q] + br[q];
      y0i[q] = ai[q] + bi[q];
      y1r[q] = er * c - ei * d;
      y1i[q] = er * d + ei * c;
    }
  }
}

// Pack + post-process: the real transform of length N = 2M from the complex
// transform Z of z[t] = x[2t] + i x[2t+1]:
//   X[k] = (Z[k] + conj Z[M-k]) / 2 - i/2 W_N^k (Z[k] - conj Z[M-k])
// Bins [k_begin, k_end) of the result (0 <= k_begin < k_end <= M + 1).
[[gnu::target_clones("avx2", "default")]] void RealPost(int M, const double* zr, const double* zi,
                                                         const double* tr, const double* ti, double* re,
                                                         double* im, int k_begin, int k_end) {
  if (k_begin == 0) {
    re[0] = zr[0] + zi[0];
    im[0] = 0.0;
  }
  if (k_end == M + 1) {
    re[M] = zr[0] - zi[0];
    im[M] = 0.0;
  }
  int k = std::max(1, k_begin);
  const int end = std::min(M, k_end);
  for (; k + 4 <= end; k += 4) {  // Z[M-k] for k..k+3 = reversed load of Z[M-k-3 .. M-k]
    const v4d ar = KWS_LOAD(zr + k), ai = KWS_LOAD(zi + k);
    const v4d br = __builtin_shufflevector(KWS_LOAD(zr + M - k - 3), KWS_LOAD(zr + M - k - 3), 3, 2, 1, 0);
    const v4d bi = -__builtin_shufflevector(KWS_LOAD(zi + M - k - 3), KWS_LOAD(zi + M - k - 3), 3, 2, 1, 0);
    const v4d er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
    const v4d o_r = 0.5 * (ai - bi), o_i = -0.5 * (ar - br);
    const v4d wr = KWS_LOAD(tr + k), wi = KWS_LOAD(ti + k);
    KWS_STORE(re + k, er + wr * o_r - wi * o_i);
    KWS_STORE(im + k, ei + wr * o_i + wi * o_r);
  }
  for (; k < end; ++k) {
    const double ar = zr[k], ai = zi[k], br = zr[M - k], bi = -zi[M - k];  // b = conj Z[M-k]
    const double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
    const double o_r = 0.5 * (ai - bi), o_i = -0.5 * (ar - br);  // o = -i (a - b) / 2
    re[k] = er + tr[k] * o_r - ti[k] * o_i;
    im[k] = ei + tr[k] * o_i + ti[k] * o_r;
  }
}

}  // namespace
struct RealFft::Impl {
  bool pow2 = false;
  int M = 0;                             // complex length n / 2
  std::vector<double> wr, wi;            // W_M^k, k < M
  std::vector<double> tr, ti;            // W_N^k, k <= M
  std::vector<double> f1r, f1i, f2r, f2i, f3r, f3i;  // first radix-4 pass: W_M^p, W_M^2p, W_M^3p
  std::vector<double> ar, ai, br, bi;    // ping-pong buffers
  // Other sizes.
  Eigen::FFT<double> eigen;
  std::vector<double> ein;
  std::vector<std::complex<double>> eout;
};

RealFft::RealFft(int n) : n_(n), impl_(std::make_unique<Impl>()) {
  if (n < 2 || n % 2) throw UsageError("features: fft_length must be even and >= 2 (got " + std::to_string(n) + ")");
  Impl& p = *impl_;
  p.M = n / 2;
  p.pow2 = IsPow2(p.M);
  if (p.pow2) {
    const int M = p.M;
    for (int k = 0; k < M; ++k) {
      p.wr.push_back(std::cos(2.0 * std::numbers::pi * k / M));
      p.wi.push_back(-std::sin(2.0 * std::numbers::pi * k / M));
    }
    for (int k = 0; k <= M; ++k) {
      p.tr.push_back(std::cos(2.0 * std::numbers::pi * k / n));
      p.ti.push_back(-std::sin(2.0 * std::numbers::pi * k / n));
    }
    for (int q = 0; q < M / 4; ++q) {
      p.f1r.push_back(p.wr[size_t(q)]), p.f1i.push_back(p.wi[size_t(q)]);
      p.f2r.push_back(p.wr[size_t(2 * q)]), p.f2i.push_back(p.wi[size_t(2 * q)]);
      p.f3r.push_back(p.wr[size_t(3 * q)]), p.f3i.push_back(p.wi[size_t(3 * q)]);
    }
    for (auto* v : {&p.ar, &p.ai, &p.br, &p.bi}) v->assign(size_t(M), 0.0);
  } else {
    p.eigen.SetFlag(Eigen::FFT<double>::HalfSpectrum);
    p.ein.assign(size_t(n), 0.0);
  }
}

RealFft::~RealFft() = default;

void RealFft::Forward(const double* in, double* re, double* im) { Forward(in, re, im, 0, n_ / 2 + 1); }

void RealFft::Forward(const double* in, double* re, double* im, int k_begin, int k_end) {
  Impl& p = *impl_;
  k_begin = std::clamp(k_begin, 0, n_ / 2 + 1);
  k_end = std::clamp(k_end, k_begin, n_ / 2 + 1);
  if (k_begin == k_end) return;
  if (!p.pow2) {
    std::copy(in, in + n_, p.ein.begin());
    p.eigen.fwd(p.eout, p.ein);
    for (int k = 0; k <= n_ / 2; ++k) re[k] = p.eout[size_t(k)].real(), im[k] = p.eout[size_t(k)].imag();
    return;
  }
  const int M = p.M;
  double *xr = p.ar.data(), *xi = p.ai.data(), *yr = p.br.data(), *yi = p.bi.data();
  int n = M, s = 1;  // current sub-transform length and stride (n * s = M)
  if (M >= 16) {
    Radix4First(M / 4, in, xr, xi, p.f1r.data(), p.f1i.data(), p.f2r.data(), p.f2i.data(), p.f3r.data(),
                p.f3i.data());
    n /= 4, s *= 4;
  } else {
    for (int t = 0; t < M; ++t) xr[t] = in[2 * t], xi[t] = in[2 * t + 1];
  }
  for (; n >= 4; n /= 4, s *= 4) {
    Radix4Pass(n / 4, s, xr, xi, yr, yi, p.wr.data(), p.wi.data());
    std::swap(xr, yr);
    std::swap(xi, yi);
  }
  if (n == 2) {
    Radix2Pass(1, s, xr, xi, yr, yi, p.wr.data(), p.wi.data());
    std::swap(xr, yr);
    std::swap(xi, yi);
  }
  RealPost(M, xr, xi, p.tr.data(), p.ti.data(), re, im, k_begin, k_end);
}

const char* RealFft::backend() const { return impl_->pow2 ? "kws-radix2-double" : "eigen-kissfft-double"; }

#endif

}  // namespace kws
