// Real-input FFT in double precision behind one small wrapper.
//
//   RealFft fft(512);
//   fft.Forward(frame, re, im);   // frame: 512 doubles; re, im: 257 doubles each
//
// Backends (FFT precision decides the log-mel parity with a float64 reference:
// bands with almost no energy are compared through log(x + 1e-6), which turns
// a float32 FFT's ~1e-6 absolute noise into errors of order 1):
//   default build:  own radix-2 Stockham FFT in double (power-of-two sizes; SIMD
//                   via GCC target_clones), KissFFT's algorithm in double through
//                   Eigen's FFT module for other even sizes. BSD/MPL2-compatible.
//   -DKWS_FFT=fftw: FFTW3f (GPL, opt-in; the build defines KWS_FFT_FFTW). float32:
//                   faster on odd sizes, but only float32-accurate.
// Owns its buffers (no allocation per call). Not thread-safe: one per thread.
#pragma once
#include <memory>

namespace kws {

class RealFft {
 public:
  explicit RealFft(int n);  // n even, >= 2
  ~RealFft();
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;

  int size() const { return n_; }
  int bins() const { return n_ / 2 + 1; }
  // X[k] = sum_t in[t] exp(-2 pi i k t / n), k = 0..n/2 -> (re[k], im[k]).
  void Forward(const double* in, double* re, double* im);
  // Same, but only bins [k_begin, k_end) are guaranteed to be filled (the
  // feature extractor needs only the bins its mel bands cover).
  void Forward(const double* in, double* re, double* im, int k_begin, int k_end);
  const char* backend() const;

 private:
  struct Impl;
  int n_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kws
