#include "features/fft.h"

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "util/error.h"

#ifdef KWS_FFT_FFTW
#include <fftw3.h>

#include <mutex>
#else
#include <complex>
#include <unsupported/Eigen/FFT>
#endif

namespace kws {
namespace {

bool IsPow2(int n) { return n > 0 && (n & (n - 1)) == 0; }

}  // namespace

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

void RealFft::Forward(const double* in, double* re, double* im) {
  for (int i = 0; i < n_; ++i) impl_->in[i] = float(in[i]);
  fftwf_execute(impl_->plan);
  for (int k = 0; k <= n_ / 2; ++k) re[k] = impl_->out[k][0], im[k] = impl_->out[k][1];
}

const char* RealFft::backend() const { return "fftw3f"; }

#else  // own double FFT (powers of two) / Eigen's KissFFT in double (other sizes)

namespace {

// One radix-2 Stockham pass (autosort, no bit reversal), split re/im arrays.
// Sub-transform length n = 2m, stride s (m * s = M / 2); twiddle for p is
// W_M^(p*s) = (wr[p*s], wi[p*s]).
[[gnu::target_clones("avx512f", "avx2", "default")]] void StockhamPass(int m, int s, const double* xr,
                                                                        const double* xi, double* yr, double* yi,
                                                                        const double* wr, const double* wi) {
  if (s >= 4) {
    for (int p = 0; p < m; ++p) {
      const double c = wr[p * s], d = wi[p * s];
      const double* ar = xr + s * p;
      const double* ai = xi + s * p;
      const double* br = xr + s * (p + m);
      const double* bi = xi + s * (p + m);
      double* y0r = yr + s * 2 * p;
      double* y0i = yi + s * 2 * p;
      double* y1r = y0r + s;
      double* y1i = y0i + s;
      for (int q = 0; q < s; ++q) {
        const double er = ar[q] - br[q], ei = ai[q] - bi[q];
        y0r[q] = ar[q] + br[q];
        y0i[q] = ai[q] + bi[q];
        y1r[q] = er * c - ei * d;
        y1i[q] = er * d + ei * c;
      }
    }
  } else {
    for (int q = 0; q < s; ++q) {
      for (int p = 0; p < m; ++p) {
        const double c = wr[p * s], d = wi[p * s];
        const double a_r = xr[q + s * p], a_i = xi[q + s * p];
        const double b_r = xr[q + s * (p + m)], b_i = xi[q + s * (p + m)];
        const double er = a_r - b_r, ei = a_i - b_i;
        yr[q + s * 2 * p] = a_r + b_r;
        yi[q + s * 2 * p] = a_i + b_i;
        yr[q + s * (2 * p + 1)] = er * c - ei * d;
        yi[q + s * (2 * p + 1)] = er * d + ei * c;
      }
    }
  }
}

// Pack + post-process: the real transform of length N = 2M from the complex
// transform Z of z[t] = x[2t] + i x[2t+1]:
//   X[k] = (Z[k] + conj Z[M-k]) / 2 - i/2 W_N^k (Z[k] - conj Z[M-k])
[[gnu::target_clones("avx512f", "avx2", "default")]] void RealPost(int M, const double* zr, const double* zi,
                                                                    const double* tr, const double* ti, double* re,
                                                                    double* im) {
  re[0] = zr[0] + zi[0];
  im[0] = 0.0;
  re[M] = zr[0] - zi[0];
  im[M] = 0.0;
  for (int k = 1; k < M; ++k) {
    const double ar = zr[k], ai = zi[k], br = zr[M - k], bi = -zi[M - k];  // b = conj Z[M-k]
    const double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
    const double dr = 0.5 * (ar - br), di = 0.5 * (ai - bi);
    // o = -i * d = (di, -dr); X = e + W * o, W = (tr, ti)
    const double or_ = di, oi = -dr;
    re[k] = er + tr[k] * or_ - ti[k] * oi;
    im[k] = ei + tr[k] * oi + ti[k] * or_;
  }
}

}  // namespace

struct RealFft::Impl {
  bool pow2 = false;
  int M = 0;                             // complex length n / 2
  std::vector<double> wr, wi;            // W_M^k, k < M/2
  std::vector<double> tr, ti;            // W_N^k, k <= M
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
    for (int k = 0; k < std::max(1, M / 2); ++k) {
      p.wr.push_back(std::cos(2.0 * std::numbers::pi * k / M));
      p.wi.push_back(-std::sin(2.0 * std::numbers::pi * k / M));
    }
    for (int k = 0; k <= M; ++k) {
      p.tr.push_back(std::cos(2.0 * std::numbers::pi * k / n));
      p.ti.push_back(-std::sin(2.0 * std::numbers::pi * k / n));
    }
    for (auto* v : {&p.ar, &p.ai, &p.br, &p.bi}) v->assign(size_t(M), 0.0);
  } else {
    p.eigen.SetFlag(Eigen::FFT<double>::HalfSpectrum);
    p.ein.assign(size_t(n), 0.0);
  }
}

RealFft::~RealFft() = default;

void RealFft::Forward(const double* in, double* re, double* im) {
  Impl& p = *impl_;
  if (!p.pow2) {
    std::copy(in, in + n_, p.ein.begin());
    p.eigen.fwd(p.eout, p.ein);
    for (int k = 0; k <= n_ / 2; ++k) re[k] = p.eout[size_t(k)].real(), im[k] = p.eout[size_t(k)].imag();
    return;
  }
  const int M = p.M;
  double *xr = p.ar.data(), *xi = p.ai.data(), *yr = p.br.data(), *yi = p.bi.data();
  for (int t = 0; t < M; ++t) xr[t] = in[2 * t], xi[t] = in[2 * t + 1];
  for (int m = M / 2, s = 1; m >= 1; m /= 2, s *= 2) {
    StockhamPass(m, s, xr, xi, yr, yi, p.wr.data(), p.wi.data());
    std::swap(xr, yr);
    std::swap(xi, yi);
  }
  RealPost(M, xr, xi, p.tr.data(), p.ti.data(), re, im);
}

const char* RealFft::backend() const { return impl_->pow2 ? "kws-radix2-double" : "eigen-kissfft-double"; }

#endif

}  // namespace kws
