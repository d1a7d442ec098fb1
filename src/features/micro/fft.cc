#include "features/micro/fft.h"

#include <cmath>
#include <string>

#include "features/micro/bits.h"
#include "util/error.h"

namespace kws::micro {
namespace {

constexpr int kFracBits = 15;
constexpr int32_t kSampMax = 32767;

// KissFFT's sround: (x + 2^14) >> 15, stored as int16. Callers keep |x| <= 2^31 - 2^16, so the
// addition cannot overflow.
inline int16_t Round15(int32_t x) { return Wrap16((x + (1 << (kFracBits - 1))) >> kFracBits); }

// C_MUL in fixed point. The twiddles are at most 32767 in magnitude, so each sum of two products
// stays within 2 * 32768 * 32767 < 2^31: int32 arithmetic, as KissFFT's own.
inline Complex16 Mul(Complex16 a, Complex16 b) {
  const int32_t re = int32_t(a.r) * b.r - int32_t(a.i) * b.i;
  const int32_t im = int32_t(a.r) * b.i + int32_t(a.i) * b.r;
  return {Round15(re), Round15(im)};
}

// C_FIXDIV(c, k): each part times (32767 / k), rounded back to Q15.
inline void FixDiv(Complex16& c, int k) {
  const int32_t d = kSampMax / k;
  c.r = Round15(int32_t(c.r) * d);
  c.i = Round15(int32_t(c.i) * d);
}

inline Complex16 Add(Complex16 a, Complex16 b) { return {Wrap16(a.r + b.r), Wrap16(a.i + b.i)}; }
inline Complex16 Sub(Complex16 a, Complex16 b) { return {Wrap16(a.r - b.r), Wrap16(a.i - b.i)}; }

// kf_cexp in fixed point: floor(0.5 + 32767 cos(phase)), the same for sin (double precision).
inline Complex16 Twiddle(double phase) {
  return {int16_t(std::floor(0.5 + kSampMax * std::cos(phase))), int16_t(std::floor(0.5 + kSampMax * std::sin(phase)))};
}

}  // namespace

RealFft16::RealFft16(int fft_size) {
  if (fft_size < 4 || fft_size > 32768 || (fft_size & (fft_size - 1)) != 0)
    throw UsageError("micro front end: FFT size must be a power of two in 4..32768 (got " + std::to_string(fft_size) +
                     ")");
  n_ = fft_size / 2;
  // kiss_fft_alloc: twiddles at phase -2 pi i / n (the same expression, evaluated left to right).
  const double pi = 3.141592653589793238462643383279502884197169399375105820974944;
  twiddles_.resize(size_t(n_));
  for (int i = 0; i < n_; ++i) twiddles_[size_t(i)] = Twiddle(-2 * pi * i / n_);
  // kf_factor: powers of four first, then two (n is a power of two here).
  for (int n = n_; n > 1;) {
    const int p = n % 4 == 0 ? 4 : 2;
    n /= p;
    radix_.push_back(p);
    length_.push_back(n);
  }
  // kiss_fftr_alloc: super twiddles at phase -pi ((i + 1) / n + 1/2).
  super_.resize(size_t(n_ / 2));
  for (int i = 0; i < n_ / 2; ++i) super_[size_t(i)] = Twiddle(-3.14159265358979323846264338327 * (double(i + 1) / n_ + .5));
  pairs_.assign(size_t(n_), Complex16{});
  packed_.assign(size_t(n_), Complex16{});
}

// kf_bfly2: m butterflies of radix 2 over out[0..m) and out[m..2m).
void RealFft16::Butterfly2(Complex16* out, int fstride, int m) const {
  Complex16* out2 = out + m;
  for (int k = 0; k < m; ++k) {
    FixDiv(out[k], 2);
    FixDiv(out2[k], 2);
    const Complex16 t = Mul(out2[k], twiddles_[size_t(k) * size_t(fstride)]);
    out2[k] = Sub(out[k], t);
    out[k] = Add(out[k], t);
  }
}

// kf_bfly4 (forward): m butterflies of radix 4 over out[0..4m).
void RealFft16::Butterfly4(Complex16* out, int fstride, int m) const {
  for (int k = 0; k < m; ++k) {
    Complex16* f = out + k;
    FixDiv(f[0], 4);
    FixDiv(f[m], 4);
    FixDiv(f[2 * m], 4);
    FixDiv(f[3 * m], 4);
    const Complex16 s0 = Mul(f[m], twiddles_[size_t(k) * size_t(fstride)]);
    const Complex16 s1 = Mul(f[2 * m], twiddles_[size_t(2 * k) * size_t(fstride)]);
    const Complex16 s2 = Mul(f[3 * m], twiddles_[size_t(3 * k) * size_t(fstride)]);
    const Complex16 s5 = Sub(f[0], s1);
    f[0] = Add(f[0], s1);
    const Complex16 s3 = Add(s0, s2);
    const Complex16 s4 = Sub(s0, s2);
    f[2 * m] = Sub(f[0], s3);
    f[0] = Add(f[0], s3);
    f[m] = {Wrap16(s5.r + s4.i), Wrap16(s5.i - s4.r)};
    f[3 * m] = {Wrap16(s5.r - s4.i), Wrap16(s5.i + s4.r)};
  }
}

// kf_work: decimation in time; `in` advances by fstride per sub-transform.
void RealFft16::Work(Complex16* out, const Complex16* in, int fstride, int stage) const {
  const int p = radix_[size_t(stage)], m = length_[size_t(stage)];
  if (m == 1) {
    for (int q = 0; q < p; ++q) out[q] = in[size_t(q) * size_t(fstride)];
  } else {
    for (int q = 0; q < p; ++q) Work(out + size_t(q) * size_t(m), in + size_t(q) * size_t(fstride), fstride * p, stage + 1);
  }
  if (p == 4) Butterfly4(out, fstride, m);
  else if (p == 2) Butterfly2(out, fstride, m);
}

void RealFft16::ComplexTransform(const Complex16* in, Complex16* out) const { Work(out, in, 1, 0); }

void RealFft16::Transform(const int16_t* input, int input_size, int input_scale_shift, Complex16* output) {
  // fft.cc: scale by the shift (through uint16, so the result wraps as int16), zero the rest; the
  // real samples are read as n complex pairs (re = even sample, im = odd sample).
  auto sample = [&](int t) -> int16_t {
    return t < input_size ? Wrap16(int32_t(uint16_t(input[t])) << input_scale_shift) : int16_t(0);
  };
  for (int k = 0; k < n_; ++k) pairs_[size_t(k)] = {sample(2 * k), sample(2 * k + 1)};
  std::vector<Complex16>& z = packed_;
  ComplexTransform(pairs_.data(), z.data());

  // kiss_fftr: split the packed transform into the real signal's bins.
  Complex16 dc = z[0];
  FixDiv(dc, 2);
  output[0] = {Wrap16(dc.r + dc.i), 0};
  output[n_] = {Wrap16(dc.r - dc.i), 0};
  for (int k = 1; k <= n_ / 2; ++k) {
    Complex16 fpk = z[size_t(k)];
    Complex16 fpnk = {z[size_t(n_ - k)].r, Wrap16(-int32_t(z[size_t(n_ - k)].i))};
    FixDiv(fpk, 2);
    FixDiv(fpnk, 2);
    const Complex16 f1k = Add(fpk, fpnk);
    const Complex16 f2k = Sub(fpk, fpnk);
    const Complex16 tw = Mul(f2k, super_[size_t(k - 1)]);
    output[k] = {Wrap16((f1k.r + tw.r) >> 1), Wrap16((f1k.i + tw.i) >> 1)};
    output[n_ - k] = {Wrap16((f1k.r - tw.r) >> 1), Wrap16((tw.i - f1k.i) >> 1)};
  }
}

}  // namespace kws::micro
