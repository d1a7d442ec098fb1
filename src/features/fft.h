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
//                   algorithm in another process (different last bits).
//   kissfft:        KissFFT's C++ template kissfft<double> (BSD-3-Clause,
//                   header-only), for a permissively licensed libkws.
// Both are double precision: the log-mel parity with a float64 reference needs
// it (a float32 FFT's noise floor sits above nearly empty mel bands).
// Any size n >= 2 works (RealFft needs n even); plans are made once per object.
// Objects are not thread-safe (each owns its buffers); distinct objects may be
// used from different threads at the same time.
#pragma once
#include <complex>
#include <memory>

namespace kws {

// Short name of the FFT implementation, e.g. "fftw-d1" or "kiss-d1". Part of
// FeatureOptions::Key(): features from one backend differ from the other's in
// the last bits, so caches must not be shared between them.
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
