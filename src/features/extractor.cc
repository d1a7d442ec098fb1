// FeatureExtractor: window -> real FFT -> |.| -> sparse mel -> log(x + offset)
// -> optional DCT. Everything is precomputed in the constructor;
// Compute/ComputeFrame only touch preallocated buffers (Compute resizes its
// clip-sized scratch on the first clip of a new length, then reuses it).
//
// Per frame (double up to the power |Xw|^2, float from its square root on):
//   Z = complex FFT of size nfft/2 of the frame read as complex pairs
//       (PackedRealFft: FFTW reads the frame in place, no copy)
//   2 X[k] for the bins the mel bands touch, plus one on each side
//   window: when the frame fills the FFT (frame_length == fft_length) and the
//       window is a cosine window of period fft_length (hann/hamming periodic,
//       or none), windowing is a 3-tap filter on the spectrum:
//         w[t] = a - b cos(2 pi t / nfft)  =>  Xw[k] = a X[k] - b/2 (X[k-1] + X[k+1])
//       so Compute converts the clip to double once and every frame is
//       transformed where it lies. Otherwise the window is applied to a copy
//       of the frame (zero-padded to fft_length) and the filter is the identity.
//   |Xw[k]|: power summed in double, square root in float (relative error
//       6e-8, harmless after the log)
//   mel: per segment between mel edges, float (see SparseMel::Apply(float))
// Then log(mel + offset) for all frames at once, 4 values per step (vlog.h;
// each value goes through the same code wherever it sits, so Compute and
// ComputeFrame give the same bits).
//
// Precision: a float32 FFT leaves ~1e-7 x frame-energy noise in every bin; for
// a pure tone or a quiet band next to a loud one that noise is far above the
// true value and log(x + 1e-6) turns it into errors up to ~3 (measured
// against the float64 reference, also with the mel sums in double). In double
// the worst case is ~1e-6.
#if defined(__x86_64__)
#include <immintrin.h>
#define KWS_X86 1  // SSE sqrtps and an AVX2 clone; elsewhere (aarch64) the same arithmetic lane by lane
#endif

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>

#include "features/features.h"
#include "features/fft.h"
#include "features/mel.h"
#include "features/mfcc.h"
#include "features/vlog.h"
#include "features/window.h"
#include "util/cpu.h"
#include "util/error.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace kws {
namespace {

// out[i] = double(x[i]) * w[i]
KWS_VARIANT_BODY void ApplyWindowBody(const float* x, const double* w, double* out, int n) {
  for (int i = 0; i < n; ++i) out[i] = double(x[i]) * w[i];
}
KWS_AVX2_VARIANTS(void, ApplyWindow, (const float* x, const double* w, double* out, int n), (x, w, out, n))

KWS_VARIANT_BODY void ToDoubleBody(const float* x, double* out, int n) {
  for (int i = 0; i < n; ++i) out[i] = double(x[i]);
}
KWS_AVX2_VARIANTS(void, ToDouble, (const float* x, double* out, int n), (x, out, n))

typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));

// m[t] = |wa x[t+1] - wc (x[t] + x[t+2])| for t < n, x = re + i im. The power
// is summed in double; the square root is taken in float (SSE sqrtps, the
// same correctly rounded result as the scalar tail's std::sqrt; relative
// error 6e-8, harmless after the log).
KWS_VARIANT_BODY void FilteredMagnitudeBody(const double* re, const double* im, double wa, double wc, float* m, int n) {
  const v4d a = {wa, wa, wa, wa}, c = {wc, wc, wc, wc};
  int t = 0;
  for (; t + 4 <= n; t += 4) {
    v4d r0, r1, r2, i0, i1, i2;
    std::memcpy(&r0, re + t, 32);
    std::memcpy(&r1, re + t + 1, 32);
    std::memcpy(&r2, re + t + 2, 32);
    std::memcpy(&i0, im + t, 32);
    std::memcpy(&i1, im + t + 1, 32);
    std::memcpy(&i2, im + t + 2, 32);
    const v4d yr = a * r1 - c * (r0 + r2), yi = a * i1 - c * (i0 + i2);
    const v4d p = yr * yr + yi * yi;
    v4f pf = __builtin_convertvector(p, v4f);
#ifdef KWS_X86
    pf = (v4f)_mm_sqrt_ps((__m128)pf);
#else
    for (int k = 0; k < 4; ++k) pf[k] = std::sqrt(pf[k]);
#endif
    std::memcpy(m + t, &pf, 16);
  }
  for (; t < n; ++t) {
    const double yr = wa * re[t + 1] - wc * (re[t] + re[t + 2]);
    const double yi = wa * im[t + 1] - wc * (im[t] + im[t + 2]);
    m[t] = std::sqrt(float(yr * yr + yi * yi));
  }
}
KWS_AVX2_VARIANTS(void, FilteredMagnitude, (const double* re, const double* im, double wa, double wc, float* m, int n), (re, im, wa, wc, m, n))

}  // namespace

struct FeatureExtractor::Impl {
  FeatureOptions opts;
  int L = 0, step = 0, nfft = 0, M = 0, K = 0;
  int lo = 0, hi = -1;          // spectrogram bins the mel bands use (hi < lo: none)
  bool spectral_window = false; // window applied as the 3-tap filter (see the top)
  double wa = 0.5, wc = 0.0;    // filter on 2X: Xw = wa (2X[k]) - wc (2X[k-1] + 2X[k+1])
  std::vector<double> window;   // time-domain window (when !spectral_window)
  mutable PackedRealFft fft;
  SparseMel mel;
  std::vector<float> dct;
  // Scratch (hence "not thread-safe").
  mutable std::vector<double> frame;      // nfft: one frame in double; [L, nfft) stays zero
  mutable std::vector<double> re, im;     // 2X[lo-1 .. hi+1]
  mutable std::vector<float> mag;         // |Xw| at absolute bin index
  mutable std::vector<double> signal;     // Compute: the clip in double (spectral window)
  mutable std::vector<float> mel_out;     // frames x M
  mutable std::vector<float> log_mel;     // frames x M (MFCC input)
  mutable std::vector<float> pad;
  // frontend = "micro": TFLite Micro's front end (stateful; Compute resets it for every clip).
  mutable std::unique_ptr<micro::Frontend> micro_fe;
  mutable std::vector<int16_t> pcm;

  explicit Impl(const FeatureOptions& o) : opts(o), fft((o.Validate(), o.fft_size())) {
    if (o.is_micro()) {
      micro_fe = std::make_unique<micro::Frontend>(o.micro, o.sample_rate);
      L = o.frame_length();
      step = o.frame_step();
      return;
    }
    L = o.frame_length();
    step = o.frame_step();
    nfft = o.fft_size();
    M = o.num_mel_bins;
    K = o.mfcc;
    const int nbins = nfft / 2 + 1;
    mel = SparseMel::Build(M, nbins, o.sample_rate, o.lower_hz, o.upper_hz);
    lo = mel.min_bin;
    hi = mel.max_bin;
    if (K > 0) dct = MfccMatrix(K, M);
    // Cosine windows of period nfft: hann/hamming with even L (periodic, D = L) or none.
    const bool cosine = o.window == "none" || ((o.window == "hann" || o.window == "hamming") && L % 2 == 0 && L > 1);
    spectral_window = cosine && L == nfft;
    if (spectral_window && o.window != "none") {
      const double a = o.window == "hann" ? 0.5 : 0.54, b = 1.0 - a;
      wa = a / 2, wc = b / 4;
    } else if (!spectral_window) {
      window = MakeWindow(o.window, L);
    }
    frame.assign(size_t(nfft), 0.0);
    re.assign(size_t(std::max(0, hi - lo + 3)), 0.0);
    im.assign(re.size(), 0.0);
    mag.assign(size_t(nbins) + 4, 0.0f);  // + 4: SparseMel::Apply(float) reads past max_bin
  }

  // Mel energies of one frame: `x` is nfft doubles, already windowed unless
  // spectral_window.
  void MelOfFrame(const double* x, float* out) const {
    if (hi < lo) {
      std::fill(out, out + M, 0.0f);
      return;
    }
    const std::complex<double>* Z = fft.Transform(x);
    const int N = nfft / 2;
    // 2X[j] for j = lo-1 .. hi+1 into re/im[j - lo + 1]; outside [0, N] by symmetry
    // (X[-1] = conj X[1], X[N+1] = conj X[N-1]).
    const int first = std::max(lo - 1, 0), last = std::min(hi + 1, N);
    fft.Unpack2(Z, first, last - first + 1, re.data() + (first - lo + 1), im.data() + (first - lo + 1));
    if (lo - 1 < 0) {
      re[0] = re[2];
      im[0] = -im[2];
    }
    if (hi + 1 > N) {
      re[size_t(hi - lo + 2)] = re[size_t(hi - lo)];
      im[size_t(hi - lo + 2)] = -im[size_t(hi - lo)];
    }
    FilteredMagnitude(re.data(), im.data(), wa, wc, mag.data() + lo, hi - lo + 1);
    mel.Apply(mag.data(), out);
  }

  // One frame of L floats -> mel energies (ComputeFrame; Compute's fast path does the same per frame).
  void MelOfFloatFrame(const float* x, float* out) const {
    if (spectral_window)
      ToDouble(x, frame.data(), L);
    else
      ApplyWindow(x, window.data(), frame.data(), L);
    MelOfFrame(frame.data(), out);
  }

  // The micro front end on a whole clip from a reset state; out = dequantized int8 [frames x channels].
  void MicroClip(const float* samples, int n, float* out) const {
    pcm.resize(size_t(n));
    for (int i = 0; i < n; ++i) pcm[size_t(i)] = micro::ToInt16(samples[i]);
    int frames = 0;
    const std::vector<uint16_t> v = micro_fe->ComputeClip(pcm.data(), size_t(n), &frames);
    for (size_t i = 0; i < v.size(); ++i) out[i] = micro::Dequantize(micro::ToInt8(v[i]));
  }

  // mel energies [frames x M] -> features [frames x num_features()]
  void Finish(const float* mel_energy, int frames, float* out) const {
    if (K == 0) {
      LogOffset(mel_energy, opts.log_offset, out, frames * M);
      return;
    }
    log_mel.resize(size_t(frames) * size_t(M));
    LogOffset(mel_energy, opts.log_offset, log_mel.data(), frames * M);
    for (int f = 0; f < frames; ++f) ApplyMfcc(dct, K, M, log_mel.data() + size_t(f) * M, out + size_t(f) * K);
  }
};

FeatureExtractor::FeatureExtractor(const FeatureOptions& opts) : impl_(std::make_unique<Impl>(opts)) {}
FeatureExtractor::~FeatureExtractor() = default;
FeatureExtractor::FeatureExtractor(FeatureExtractor&&) noexcept = default;
const FeatureOptions& FeatureExtractor::options() const { return impl_->opts; }

FeatureMatrix FeatureExtractor::Compute(const float* samples, int n) const {
  const Impl& p = *impl_;
  if (n < 0) throw UsageError("features: negative sample count");
  if (n < p.L) {  // shorter than one frame: zero-pad to one frame (tf.signal would give 0 frames)
    p.pad.assign(size_t(p.L), 0.0f);
    if (n > 0) std::memcpy(p.pad.data(), samples, size_t(n) * sizeof(float));
    samples = p.pad.data();
    n = p.L;
  }
  FeatureMatrix m;
  m.frames = p.opts.num_frames(n);
  m.bins = p.opts.num_features();
  m.data.resize(size_t(m.frames) * size_t(m.bins));
  if (p.micro_fe) {
    p.MicroClip(samples, n, m.data.data());
    return m;
  }
  p.mel_out.resize(size_t(m.frames) * size_t(p.M));
  if (p.spectral_window) {
    // Frames are transformed where they lie in the double copy of the clip.
    const int used = (m.frames - 1) * p.step + p.L;
    p.signal.resize(size_t(used));
    ToDouble(samples, p.signal.data(), used);
    for (int f = 0; f < m.frames; ++f)
      p.MelOfFrame(p.signal.data() + size_t(f) * size_t(p.step), p.mel_out.data() + size_t(f) * size_t(p.M));
  } else {
    for (int f = 0; f < m.frames; ++f)
      p.MelOfFloatFrame(samples + size_t(f) * size_t(p.step), p.mel_out.data() + size_t(f) * size_t(p.M));
  }
  p.Finish(p.mel_out.data(), m.frames, m.data.data());
  return m;
}

void FeatureExtractor::ComputeFrame(const float* frame, float* out) const {
  const Impl& p = *impl_;
  if (p.micro_fe)
    throw UsageError("features: the micro front end is stateful; stream it with micro::Frontend, not frame by frame");
  p.mel_out.resize(std::max(p.mel_out.size(), size_t(p.M)));
  p.MelOfFloatFrame(frame, p.mel_out.data());
  p.Finish(p.mel_out.data(), 1, out);
}

}  // namespace kws
