#include "features/fft.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

#include "util/cpu.h"
#include "util/error.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

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


// ---- PackedRealFft: parts shared by both backends ----

namespace {

// W^j = exp(-2 pi i j / n) for j = 0..n/2, exact at j = 0, n/4 (n % 4 == 0) and n/2,
// so X[0] and X[n/2] come out exactly real.
void MakeTwiddles(int n, std::vector<double>& wr, std::vector<double>& wi) {
  const int N = n / 2;
  wr.assign(size_t(N) + 1, 0.0);
  wi.assign(size_t(N) + 1, 0.0);
  for (int j = 0; j <= N; ++j) {
    const double a = 2.0 * std::numbers::pi * double(j) / double(n);
    wr[size_t(j)] = std::cos(a);
    wi[size_t(j)] = -std::sin(a);
  }
  wr[0] = 1.0, wi[0] = 0.0;
  wr[size_t(N)] = -1.0, wi[size_t(N)] = 0.0;
  if (n % 4 == 0) wr[size_t(N / 2)] = 0.0, wi[size_t(N / 2)] = -1.0;
}

typedef double v4d __attribute__((vector_size(32)));

// re/im[j - first] = 2 X[j] = (Z[j] + B) - i W^j (Z[j] - B), B = conj Z[N - j].
// Four bins at a time (GCC vector extensions; the avx2 clone uses 256-bit
// registers, the default one pairs of SSE2 registers). The vector and scalar
// paths do the same IEEE operations in the same order (no FMA), so a bin's
// value does not depend on which path computed it.
KWS_VARIANT_BODY void UnpackLoopBody(const double* z, const double* wr, const double* wi, int N, int first, int count, double* re, double* im) {
  int t = 0;
  for (; t + 4 <= count && first + t + 3 <= N; t += 4) {
    const int j = first + t, m = N - j - 3;  // Z[j..j+3] and Z[N-j-3..N-j]
    v4d a0, a1, b0, b1, c, s;
    std::memcpy(&a0, z + 2 * j, 32);
    std::memcpy(&a1, z + 2 * j + 4, 32);
    std::memcpy(&b0, z + 2 * m, 32);
    std::memcpy(&b1, z + 2 * m + 4, 32);
    std::memcpy(&c, wr + j, 32);
    std::memcpy(&s, wi + j, 32);
    const v4d ar = __builtin_shufflevector(a0, a1, 0, 2, 4, 6), ai = __builtin_shufflevector(a0, a1, 1, 3, 5, 7);
    const v4d br = __builtin_shufflevector(b0, b1, 6, 4, 2, 0), bi = -__builtin_shufflevector(b0, b1, 7, 5, 3, 1);
    const v4d sr = ar + br, si = ai + bi, dr = ar - br, di = ai - bi;
    const v4d tr = c * dr - s * di, ti = c * di + s * dr;
    const v4d xr = sr + ti, xi = si - tr;
    std::memcpy(re + t, &xr, 32);
    std::memcpy(im + t, &xi, 32);
  }
  for (; t < count; ++t) {
    const int j = first + t;
    const double ar = z[2 * j], ai = z[2 * j + 1];
    const double br = z[2 * (N - j)], bi = -z[2 * (N - j) + 1];
    const double sr = ar + br, si = ai + bi, dr = ar - br, di = ai - bi;
    const double tr = wr[j] * dr - wi[j] * di, ti = wr[j] * di + wi[j] * dr;
    re[t] = sr + ti;  // -i (tr + i ti) = ti - i tr
    im[t] = si - tr;
  }
}
KWS_AVX2_VARIANTS(void, UnpackLoop, (const double* z, const double* wr, const double* wi, int N, int first, int count, double* re, double* im), (z, wr, wi, N, first, count, re, im))

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

// Pinned plan for the feature extractor's transform (complex, size 256,
// forward, out of place, input preserved: PackedRealFft(512)). FFTW_ESTIMATE
// picks 16 x 16 with twiddle codelet t3fv_16 for it, 28.6 us per 97 frames
// here; FFTW_MEASURE/PATIENT find 4 x 64 (t2fv_4, n2fv_64), 23.5 us, but
// measuring picks differently from run to run (32 x 8 in one run of three), so
// its bits would change between processes. This wisdom, made once with
// FFTW_PATIENT on an AVX2 x86-64 machine (Debian FFTW 3.3.10), fixes the 4 x 64
// algorithm: an FFTW_ESTIMATE plan of that exact problem takes it from the
// wisdom. FFTW ignores wisdom from another FFTW version/build or whose codelets
// the CPU lacks, and plans by its estimate as before: either way the plan
// depends only on the machine, never on timing. Made with:
//   fftw_plan_dft_1d(256, in, out, FFTW_FORWARD, FFTW_PATIENT | FFTW_PRESERVE_INPUT)
//   (in, out from fftw_alloc_complex), then fftw_export_wisdom_to_string().
constexpr const char* kWisdom =
    "(fftw-3.3.10 fftw_wisdom #x458a31c8 #x92381c4c #x4f974889 #xcd46f97e\n"
    "  (fftw_codelet_n2fv_64_avx 0 #x11048 #x11048 #x0 #x0325f2a8 #x09d79e92 #x087cac0f #xb9ee6d12)\n"
    "  (fftw_codelet_t2fv_4_avx 0 #x11048 #x11048 #x0 #xcf6061a3 #x568aee5c #x3ed75045 #xd3c2f0a4)\n"
    ")\n";

// Call with PlanMutex held, before planning.
void ImportWisdomOnce() {
  static bool done = false;
  if (done) return;
  done = true;
  fftw_import_wisdom_from_string(kWisdom);  // 0 = not for this FFTW: plans are estimated instead
}
}  // namespace

const char* FftImplTag() { return "fftw-d2"; }

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
    ImportWisdomOnce();
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

struct PackedRealFft::Impl {
  std::vector<double> wr, wi;
  std::vector<double> re, im;   // Forward's scratch
  fftw_complex* in = nullptr;   // n/2 values, used when the caller's frame is misaligned for the plan
  fftw_complex* out = nullptr;  // n/2 + 1 values
  fftw_plan plan = nullptr;
  int in_alignment = 0;
  bool pinned = false;  // the plan is the one kWisdom describes
};

PackedRealFft::PackedRealFft(int n) : n_(n), impl_(std::make_unique<Impl>()) {
  CheckRealSize(n);
  const int N = n / 2;
  Impl& p = *impl_;
  MakeTwiddles(n, p.wr, p.wi);
  p.re.assign(size_t(N) + 1, 0.0);
  p.im.assign(size_t(N) + 1, 0.0);
  p.in = fftw_alloc_complex(size_t(N));
  p.out = fftw_alloc_complex(size_t(N) + 1);
  if (!p.in || !p.out) {
    fftw_free(p.in);
    fftw_free(p.out);
    throw InternalError("fft: out of memory for a size-" + std::to_string(n) + " transform");
  }
  {
    std::lock_guard<std::mutex> lock(PlanMutex());
    ImportWisdomOnce();
    p.plan = fftw_plan_dft_1d(N, p.in, p.out, FFTW_FORWARD, kPlanFlags | FFTW_PRESERVE_INPUT);
  }
  if (!p.plan) {
    fftw_free(p.in);
    fftw_free(p.out);
    impl_.reset();
    throw InternalError("fft: FFTW could not plan a size-" + std::to_string(N) + " complex transform");
  }
  p.in_alignment = fftw_alignment_of(reinterpret_cast<double*>(p.in));
  if (n == 512) {
    char* desc = fftw_sprint_plan(p.plan);
    if (desc) {
      const std::string d(desc);
      p.pinned = d.find("t2fv_4_avx") != std::string::npos && d.find("n2fv_64_avx") != std::string::npos;
      std::free(desc);
    }
  }
}

PackedRealFft::~PackedRealFft() {
  if (!impl_) return;
  {
    std::lock_guard<std::mutex> lock(PlanMutex());
    fftw_destroy_plan(impl_->plan);
  }
  fftw_free(impl_->in);
  fftw_free(impl_->out);
}

const std::complex<double>* PackedRealFft::Transform(const double* in) {
  Impl& p = *impl_;
  const int N = n_ / 2;
  double* src = const_cast<double*>(in);  // read only: out-of-place, FFTW_PRESERVE_INPUT
  if (fftw_alignment_of(src) == p.in_alignment) {
    fftw_execute_dft(p.plan, reinterpret_cast<fftw_complex*>(src), p.out);
  } else {
    std::memcpy(p.in, in, size_t(n_) * sizeof(double));
    fftw_execute_dft(p.plan, p.in, p.out);
  }
  p.out[N][0] = p.out[0][0];
  p.out[N][1] = p.out[0][1];
  return reinterpret_cast<const std::complex<double>*>(p.out);
}

void PackedRealFft::Unpack2(const std::complex<double>* Z, int first, int count, double* re, double* im) const {
  UnpackLoop(reinterpret_cast<const double*>(Z), impl_->wr.data(), impl_->wi.data(), n_ / 2, first, count, re, im);
}

const char* PackedRealFft::backend() const {
  return impl_->pinned ? "fftw3 double complex(n/2) + unpack, pinned plan (wisdom)"
                       : "fftw3 double complex(n/2) + unpack, FFTW_ESTIMATE";
}

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
    ImportWisdomOnce();
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

const char* FftImplTag() { return "kiss-d2"; }

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

struct PackedRealFft::Impl {
  explicit Impl(int half) : fwd(size_t(half), false), out(size_t(half) + 1) {}
  std::vector<double> wr, wi;
  std::vector<double> re, im;  // Forward's scratch
  kissfft<double> fwd;
  std::vector<std::complex<double>> out;
};

PackedRealFft::PackedRealFft(int n) : n_(n) {
  CheckRealSize(n);
  impl_ = std::make_unique<Impl>(n / 2);
  MakeTwiddles(n, impl_->wr, impl_->wi);
  impl_->re.assign(size_t(n / 2) + 1, 0.0);
  impl_->im.assign(size_t(n / 2) + 1, 0.0);
}

PackedRealFft::~PackedRealFft() = default;

const std::complex<double>* PackedRealFft::Transform(const double* in) {
  const int N = n_ / 2;
  Impl& p = *impl_;
  // n doubles read as n/2 complex values (std::complex<double> is two doubles).
  p.fwd.transform(reinterpret_cast<const std::complex<double>*>(in), p.out.data());
  p.out[size_t(N)] = p.out[0];
  return p.out.data();
}

void PackedRealFft::Unpack2(const std::complex<double>* Z, int first, int count, double* re, double* im) const {
  UnpackLoop(reinterpret_cast<const double*>(Z), impl_->wr.data(), impl_->wi.data(), n_ / 2, first, count, re, im);
}

const char* PackedRealFft::backend() const { return "kissfft<double> complex(n/2) + unpack"; }

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

// Shared by both backends (needs the Impl of the one compiled in).
void PackedRealFft::Forward(const double* in, std::complex<double>* out) {
  const int N = n_ / 2;
  const std::complex<double>* Z = Transform(in);
  double* re = impl_->re.data();
  double* im = impl_->im.data();
  Unpack2(Z, 0, N + 1, re, im);
  for (int k = 0; k <= N; ++k) out[k] = {0.5 * re[k], 0.5 * im[k]};
}

}  // namespace kws
