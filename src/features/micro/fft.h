// Stage 2 of the micro front end: the 16-bit fixed-point real FFT TFLite Micro
// runs (microfrontend/lib/fft.cc calls KissFFT 1.3.0 built with
// FIXED_POINT=16: kiss_fftr over kiss_fft). Written here step by step because
// Debian's libkissfft ships only the float build, and bit-exact features need
// the fixed-point arithmetic itself:
//
//   scalars int16, products int32; sround(x) = (x + 2^14) >> 15
//   C_MUL(a, b)      = (sround(a.r b.r - a.i b.i), sround(a.r b.i + a.i b.r))
//   C_FIXDIV(c, k)   = each part x -> sround(x * (32767 / k))       (scaling by 1/k per stage)
//   twiddle[i]       = (floor(0.5 + 32767 cos(-2 pi i / n)), floor(0.5 + 32767 sin(-2 pi i / n)))
//   super_twiddle[i] = the same at phase -pi ((i + 1) / n + 1/2)    (n = complex size = fft_size / 2)
//
// The complex FFT of size n = fft_size / 2 is KissFFT's recursive decimation in
// time (kf_work), with radix 4 butterflies first and one radix 2 butterfly when
// log2(n) is odd; each butterfly divides its inputs by its radix first, so the
// output is the DFT divided by n. The real FFT then splits the packed result
// (kiss_fftr): DC and Nyquist from bin 0, bins k and n - k from one pair, the
// middle bin written twice (the second assignment wins). Sums are stored back
// into int16 as C does (the low 16 bits).
//
// Sizes: fft_size a power of two, 4 ..= 32768. Before the transform the input
// is shifted left by `input_scale_shift` bits (int16 wrap-around, as the
// front end does to use the full 16-bit range).
#pragma once
#include <cstdint>
#include <vector>

namespace kws::micro {

struct Complex16 {
  int16_t r = 0, i = 0;
};

class RealFft16 {
 public:
  explicit RealFft16(int fft_size);  // power of two, 4 ..= 32768; UsageError otherwise

  int fft_size() const { return n_ * 2; }
  int bins() const { return n_ + 1; }
  // input: `input_size` <= fft_size samples (the rest is zero), each shifted left
  // by input_scale_shift; output: bins() values.
  void Transform(const int16_t* input, int input_size, int input_scale_shift, Complex16* output);

  // The complex FFT of size fft_size / 2 alone (for tests): out = DFT(in) / n in KissFFT's arithmetic.
  void ComplexTransform(const Complex16* in, Complex16* out) const;

 private:
  void Work(Complex16* out, const Complex16* in, int fstride, int stage) const;
  void Butterfly2(Complex16* out, int fstride, int m) const;
  void Butterfly4(Complex16* out, int fstride, int m) const;

  int n_;                              // complex size
  std::vector<int> radix_, length_;    // per stage: radix p and remaining length m (KissFFT's factors)
  std::vector<Complex16> twiddles_;    // n
  std::vector<Complex16> super_;       // n / 2
  std::vector<Complex16> pairs_;       // n (scratch: the shifted input as complex pairs)
  std::vector<Complex16> packed_;      // n (scratch: the complex FFT's output)
};

}  // namespace kws::micro
