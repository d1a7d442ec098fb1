#include "features/fft.h"

#include <cmath>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

#include "util/error.h"

#ifdef KWS_FFT_FFTW
#include <fftw3.h>

#include <mutex>
#else
#include <kissfft.hh>
#endif

namespace kws {
namespace {

void CheckRealSize(int n) {
  if (n < 2 || n % 2) throw UsageError("features: fft_length must be even and >= 2 (got " + std::to_string(n) + ")");
}

void CheckComplexSize(int n) {
  if (n < 1) throw InternalError("fft: complex transform size must be >= 1 (got " + std::to_string(n) + ")");
}

}  // namespace

#ifdef KWS_FFT_FFTW

namespace {
// FFTW's planner (plan creation and destruction) is not thread-safe; executing
// distinct plans concurrently is.
std::mutex& PlanMutex() {
  static std::mutex m;
  return m;
}
// FFTW_ESTIMATE: deterministic plan (see fft.h). The arrays are always our own
// fftw_malloc'd buffers, so the plan's alignment assumptions always hold.
constexpr unsigned kPlanFlags = FFTW_ESTIMATE;
}  // namespace

const char* FftImplTag() { return "fftw-d1"; }

struct RealFft::Impl {
  double* real = nullptr;
  fftw_complex* spec = nullptr;
  fftw_plan forward = nullptr, inverse = nullptr;
};

RealFft::RealFft(int n) : n_(n), impl_(std::make_unique<Impl>()) {
  CheckRealSize(n);
  Impl& p = *impl_;
  p.real = fftw_alloc_real(size_t(n));
  p.spec = fftw_alloc_complex(size_t(n / 2 + 1));
  if (!p.real || !p.spec) {
    fftw_free(p.real);
    fftw_free(p.spec);
    throw InternalError("fft: out of memory for a size-" + std::to_string(n) + " transform");
  }
  {
    std::lock_guard<std::mutex> lock(PlanMutex());
    p.forward = fftw_plan_dft_r2c_1d(n, p.real, p.spec, kPlanFlags);
    p.inverse = fftw_plan_dft_c2r_1d(n, p.spec, p.real, kPlanFlags);
  }
  if (!p.forward || !p.inverse) {
    {
      std::lock_guard<std::mutex> lock(PlanMutex());
      if (p.forward) fftw_destroy_plan(p.forward);
      if (p.inverse) fftw_destroy_plan(p.inverse);
    }
    fftw_free(p.real);
    fftw_free(p.spec);
    impl_.reset();
    throw InternalError("fft: FFTW could not plan a size-" + std::to_string(n) + " real transform");
  }
}

RealFft::~RealFft() {
  if (!impl_) return;
  Impl& p = *impl_;
  if (p.forward || p.inverse) {
    std::lock_guard<std::mutex> lock(PlanMutex());
    if (p.forward) fftw_destroy_plan(p.forward);
    if (p.inverse) fftw_destroy_plan(p.inverse);
  }
  fftw_free(p.real);
  fftw_free(p.spec);
}

void RealFft::Forward(const double* in, std::complex<double>* out) {
  Impl& p = *impl_;
  std::memcpy(p.real, in, size_t(n_) * sizeof(double));
  fftw_execute(p.forward);
  std::memcpy(static_cast<void*>(out), p.spec, size_t(n_ / 2 + 1) * sizeof(fftw_complex));
}

void RealFft::Inverse(const std::complex<double>* in, double* out) {
  Impl& p = *impl_;
  std::memcpy(p.spec, in, size_t(n_ / 2 + 1) * sizeof(fftw_complex));  // c2r overwrites its input
  p.spec[0][1] = 0.0;
  p.spec[n_ / 2][1] = 0.0;
  fftw_execute(p.inverse);
  std::memcpy(out, p.real, size_t(n_) * sizeof(double));
}

const char* RealFft::backend() const { return "fftw3 double, FFTW_ESTIMATE"; }

struct ComplexFft::Impl {
  fftw_complex* buf = nullptr;
  fftw_plan plan = nullptr;
};

ComplexFft::ComplexFft(int n, bool inverse) : n_(n), inverse_(inverse), impl_(std::make_unique<Impl>()) {
  CheckComplexSize(n);
  Impl& p = *impl_;
  p.buf = fftw_alloc_complex(size_t(n));
  if (!p.buf) throw InternalError("fft: out of memory for a size-" + std::to_string(n) + " transform");
  {
    std::lock_guard<std::mutex> lock(PlanMutex());
    p.plan = fftw_plan_dft_1d(n, p.buf, p.buf, inverse ? FFTW_BACKWARD : FFTW_FORWARD, kPlanFlags);
  }
  if (!p.plan) {
    fftw_free(p.buf);
    impl_.reset();
    throw InternalError("fft: FFTW could not plan a size-" + std::to_string(n) + " complex transform");
  }
}

ComplexFft::~ComplexFft() {
  if (!impl_) return;
  {
    std::lock_guard<std::mutex> lock(PlanMutex());
    fftw_destroy_plan(impl_->plan);
  }
  fftw_free(impl_->buf);
}

void ComplexFft::Transform(const std::complex<double>* in, std::complex<double>* out) {
  Impl& p = *impl_;
  std::memcpy(p.buf, in, size_t(n_) * sizeof(fftw_complex));
  fftw_execute(p.plan);
  std::memcpy(static_cast<void*>(out), p.buf, size_t(n_) * sizeof(fftw_complex));
}

#else  // KissFFT, kissfft<double> (kissfft.hh)

const char* FftImplTag() { return "kiss-d1"; }

// A real transform of size n = 2N runs as a complex transform of size N on
// z[m] = x[2m] + i x[2m+1] (kissfft::transform_real does the forward split;
// the inverse merge is below).
struct RealFft::Impl {
  Impl(int half) : fwd(size_t(half), false), inv(size_t(half), true), z(size_t(half)), y(size_t(half)), w(size_t(half)) {}
  kissfft<double> fwd, inv;
  std::vector<std::complex<double>> z, y;  // scratch, N entries each (kissfft is not in-place)
  std::vector<std::complex<double>> w;  // w[k] = exp(+2 pi i k / n), k < N (inverse twiddles)
};

RealFft::RealFft(int n) : n_(n) {
  CheckRealSize(n);
  const int N = n / 2;
  impl_ = std::make_unique<Impl>(N);
  for (int k = 0; k < N; ++k) impl_->w[size_t(k)] = std::polar(1.0, 2.0 * std::numbers::pi * double(k) / double(n));
}

RealFft::~RealFft() = default;

void RealFft::Forward(const double* in, std::complex<double>* out) {
  const int N = n_ / 2;
  // transform_real writes N values: out[0] packs (X[0], X[N]) as (re, im).
  impl_->fwd.transform_real(in, out);
  const double dc = out[0].real(), nyq = out[0].imag();
  out[0] = {dc, 0.0};
  out[N] = {nyq, 0.0};
}

void RealFft::Inverse(const std::complex<double>* in, double* out) {
  // With E[k] = sum x[2m] e^{-2pi i km/N}, O[k] likewise for x[2m+1], and
  // X[k] = E[k] + W^k O[k], X[k+N] = conj X[N-k] = E[k] - W^k O[k] (W = e^{-2pi i/n}):
  //   E[k] = (X[k] + conj X[N-k]) / 2,  O[k] = (X[k] - conj X[N-k]) / 2 * W^{-k},
  //   Z[k] = E[k] + i O[k] is the spectrum of z[m] = x[2m] + i x[2m+1].
  // The unnormalised size-N inverse gives N z; the size-n result wants n x = 2 N x.
  const int N = n_ / 2;
  Impl& p = *impl_;
  for (int k = 0; k < N; ++k) {
    std::complex<double> a = in[k], b = std::conj(in[N - k]);
    if (k == 0) {  // in[0], in[N]: real parts only
      a.imag(0.0);
      b.imag(0.0);
    }
    const std::complex<double> e = a + b;                  // 2 E[k]
    const std::complex<double> o = (a - b) * p.w[size_t(k)];  // 2 O[k]
    p.z[size_t(k)] = e + std::complex<double>(-o.imag(), o.real());
  }
  p.inv.transform(p.z.data(), p.y.data());
  for (int m = 0; m < N; ++m) {
    out[2 * m] = p.y[size_t(m)].real();
    out[2 * m + 1] = p.y[size_t(m)].imag();
  }
}

const char* RealFft::backend() const { return "kissfft<double>"; }

struct ComplexFft::Impl {
  Impl(int n, bool inverse) : plan(size_t(n), inverse), tmp(size_t(n)) {}
  kissfft<double> plan;
  std::vector<std::complex<double>> tmp;  // kissfft's transform is not in-place
};

ComplexFft::ComplexFft(int n, bool inverse) : n_(n), inverse_(inverse) {
  CheckComplexSize(n);
  impl_ = std::make_unique<Impl>(n, inverse);
}

ComplexFft::~ComplexFft() = default;

void ComplexFft::Transform(const std::complex<double>* in, std::complex<double>* out) {
  impl_->plan.transform(in, impl_->tmp.data());
  std::memcpy(static_cast<void*>(out), impl_->tmp.data(), size_t(n_) * sizeof(std::complex<double>));
}

#endif

}  // namespace kws
