// Discrete Fourier transforms in double precision: a thin wrapper over a
// well-kept library (no hand-written FFT in kws).
//
//   RealFft fft(512);
//   fft.Forward(frame, spec);   // frame: 512 doubles -> spec: 257 complex
//   fft.Inverse(spec, frame);   // 257 complex -> 512 doubles, unnormalised (x n)
//
// Backends (chosen at configure time with -DKWS_FFT=...):
//   fftw (default): FFTW3, double precision (GPL: a default build of libkws is a
//                   combined work under the GPL). The build defines KWS_FFT_FFTW.
//                   Plans use FFTW_ESTIMATE: the algorithm FFTW picks then depends
//                   only on the size (and CPU), so features are bit-identical from
//                   run to run; FFTW_MEASURE times candidates and may pick another
//                   algorithm in another process (different last bits). For the
//                   extractor's default transform (PackedRealFft(512)) fft.cc
//                   embeds FFTW wisdom that pins the faster algorithm measuring
//                   finds (-18%), still the same plan in every process.
//   kissfft:        KissFFT's C++ template kissfft<double> (BSD-3-Clause,
//                   header-only), for a permissively licensed libkws.
// Both are double precision: the log-mel parity with a float64 reference needs
// it (a float32 FFT's noise floor sits above nearly empty mel bands: measured
// max |diff| up to 3 on a 1 kHz sine, 0.04 on a chirp, 2e-4 on real clips).
// Any size n >= 2 works (RealFft needs n even); plans are made once per object.
// Objects are not thread-safe (each owns its buffers); distinct objects may be
// used from different threads at the same time.
//
// PackedRealFft is the real transform the feature extractor runs: the n real
// samples are read in place as n/2 complex values and transformed by the
// library's complex FFT of size n/2 (FFTW's size-512 r2c is ~1.6x slower than
// its size-256 complex transform here); the caller unpacks just the bins it
// needs (UnpackRealBins), fused with its own per-bin work.
#pragma once
#include <complex>
#include <memory>

namespace kws {

// Short name of the FFT implementation, e.g. "fftw-d2" or "kiss-d2". Part of
// FeatureOptions::Key(): features from one backend differ from the other's in
// the last bits, so caches must not be shared between them. The number counts
// changes of the feature arithmetic (d2: PackedRealFft, spectral window).
const char* FftImplTag();

class RealFft {
 public:
  explicit RealFft(int n);  // n even, >= 2
  ~RealFft();
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;

  int size() const { return n_; }
  int bins() const { return n_ / 2 + 1; }
  // out[k] = sum_t in[t] exp(-2 pi i k t / n), k = 0..n/2.
  void Forward(const double* in, std::complex<double>* out);
  // out[t] = sum_{k=0}^{n-1} X[k] exp(+2 pi i k t / n) with X[n-k] = conj X[k]
  // (given in[0..n/2]; the imaginary parts of in[0] and in[n/2] are ignored).
  // Unnormalised: Inverse(Forward(x)) = n * x.
  void Inverse(const std::complex<double>* in, double* out);
  const char* backend() const;

 private:
  struct Impl;
  int n_;
  std::unique_ptr<Impl> impl_;
};

// Real DFT of size n (even, >= 2) as a complex DFT of size N = n/2:
//   z[m] = x[2m] + i x[2m+1],  Z = DFT_N(z),  Z[N] = Z[0] (kept for unpacking),
//   X[k] = (Z[k] + conj Z[N-k]) / 2 - i W^k (Z[k] - conj Z[N-k]) / 2,
//   W = exp(-2 pi i / n), k = 0..N.
//   PackedRealFft fft(512);
//   const std::complex<double>* Z = fft.Transform(frame);   // frame: 512 doubles
//   fft.Unpack2(Z, 1, 256, re, im);                         // 2 X[1..256], split
// Transform reads `in` where it is when its alignment suits the plan (no copy;
// FFTW's new-array execute), else from a copy; either way the same plan runs,
// so the bits do not depend on where the frame lies. `in` is never written.
class PackedRealFft {
 public:
  explicit PackedRealFft(int n);  // n even, >= 2
  ~PackedRealFft();
  PackedRealFft(const PackedRealFft&) = delete;
  PackedRealFft& operator=(const PackedRealFft&) = delete;

  int size() const { return n_; }
  // Z[0..N] (N + 1 values, Z[N] = Z[0]) in a buffer owned by this object,
  // valid until the next call.
  const std::complex<double>* Transform(const double* in);
  // X[first .. first+count-1] from Z (0 <= first, first + count <= N + 1),
  // written to re[0..count-1], im[0..count-1], each value times 2 (the caller
  // folds the 1/2 into its own constants).
  void Unpack2(const std::complex<double>* Z, int first, int count, double* re, double* im) const;
  // Full spectrum X[0..N] (for tests and the benchmark; RealFft::Forward's layout).
  void Forward(const double* in, std::complex<double>* out);
  const char* backend() const;

 private:
  struct Impl;
  int n_;
  std::unique_ptr<Impl> impl_;
};

// Complex transform of size n >= 1 in one direction (inverse: exp(+...),
// unnormalised). in and out may be the same array.
class ComplexFft {
 public:
  ComplexFft(int n, bool inverse);
  ~ComplexFft();
  ComplexFft(const ComplexFft&) = delete;
  ComplexFft& operator=(const ComplexFft&) = delete;

  int size() const { return n_; }
  bool inverse() const { return inverse_; }
  void Transform(const std::complex<double>* in, std::complex<double>* out);

 private:
  struct Impl;
  int n_;
  bool inverse_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kws
