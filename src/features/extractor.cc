// FeatureExtractor: window -> rfft -> |.| -> sparse mel -> log(x + offset)
// -> optional DCT. Everything is precomputed in the constructor;
// Compute/ComputeFrame only touch preallocated buffers.
//
// Precision: samples are float, but window, FFT, magnitude and mel sums are
// double. A float32 FFT leaves ~1e-7 x frame-energy noise in every bin; for a
// pure tone or a quiet band next to a loud one that noise is far above the
// true value and log(x + 1e-6) turns it into errors up to ~3 (measured
// against the float64 reference). In double the worst case is ~1e-6.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>

#include "features/features.h"
#include "features/fft.h"
#include "features/mel.h"
#include "features/mfcc.h"
#include "features/window.h"
#include "util/error.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace kws {
namespace {

typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));

// out[i] = double(x[i]) * w[i]
[[gnu::target_clones("avx2", "default")]] void ApplyWindow(const float* x, const double* w, double* out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v4f xf;
    v4d wd;
    std::memcpy(&xf, x + i, sizeof xf);
    std::memcpy(&wd, w + i, sizeof wd);
    const v4d r = __builtin_convertvector(xf, v4d) * wd;
    std::memcpy(out + i, &r, sizeof r);
  }
  for (; i < n; ++i) out[i] = double(x[i]) * w[i];
}

// m[k] = |c[k]|. The power is summed in double (that is where absolute
// accuracy matters); the square root is taken in float, whose relative error
// (6e-8) is harmless after the log.
[[gnu::target_clones("avx2", "default")]] void Magnitude(const std::complex<double>* c, double* m, int n) {
  const double* d = reinterpret_cast<const double*>(c);  // re0 im0 re1 im1 ...
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    v4d a, b;
    std::memcpy(&a, d + 2 * k, sizeof a);
    std::memcpy(&b, d + 2 * k + 4, sizeof b);
    a *= a;
    b *= b;
    const v4d p = __builtin_shufflevector(a, b, 0, 2, 4, 6) + __builtin_shufflevector(a, b, 1, 3, 5, 7);
    v4f pf = __builtin_convertvector(p, v4f);
    pf = (v4f)_mm_sqrt_ps((__m128)pf);
    const v4d out = __builtin_convertvector(pf, v4d);
    std::memcpy(m + k, &out, sizeof out);
  }
  for (; k < n; ++k) {
    const double re = c[k].real(), im = c[k].imag();
    m[k] = double(std::sqrt(float(re * re + im * im)));
  }
}

}  // namespace

struct FeatureExtractor::Impl {
  FeatureOptions opts;
  int L = 0, step = 0, nfft = 0, nbins = 0, M = 0, K = 0;
  std::vector<double> window;
  mutable RealFft fft;
  SparseMel mel;
  std::vector<float> dct;
  // Scratch (hence "not thread-safe").
  mutable std::vector<double> frame, mag;
  mutable std::vector<std::complex<double>> spec;
  mutable std::vector<double> mel_out;
  mutable std::vector<float> log_mel;
  mutable std::vector<float> pad;

  explicit Impl(const FeatureOptions& o) : opts(o), fft((o.Validate(), o.fft_size())) {
    L = o.frame_length();
    step = o.frame_step();
    nfft = o.fft_size();
    nbins = nfft / 2 + 1;
    M = o.num_mel_bins;
    K = o.mfcc;
    window = MakeWindow(o.window, L);
    mel = SparseMel::Build(M, nbins, o.sample_rate, o.lower_hz, o.upper_hz);
    if (K > 0) dct = MfccMatrix(K, M);
    frame.assign(size_t(nfft), 0.0);  // [L, nfft) stays zero: the padding up to fft_length
    spec.assign(size_t(nbins), 0.0);
    mag.assign(size_t(nbins), 0.0);
    mel_out.assign(size_t(M), 0.0);
    log_mel.assign(size_t(M), 0.0f);
  }

  // One frame of L samples -> num_features() floats.
  void Frame(const float* x, float* out) const {
    double* in = frame.data();
    ApplyWindow(x, window.data(), in, L);
    const int lo = mel.min_bin, n = mel.max_bin - mel.min_bin + 1;
    fft.Forward(in, spec.data());
    if (n > 0) Magnitude(spec.data() + lo, mag.data() + lo, n);
    mel.Apply(mag.data(), mel_out.data());
    float* lm = K > 0 ? log_mel.data() : out;
    for (int b = 0; b < M; ++b) lm[b] = float(std::log(mel_out[size_t(b)] + opts.log_offset));
    if (K > 0) ApplyMfcc(dct, K, M, lm, out);
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
  for (int f = 0; f < m.frames; ++f) p.Frame(samples + size_t(f) * size_t(p.step), m.data.data() + size_t(f) * size_t(m.bins));
  return m;
}

void FeatureExtractor::ComputeFrame(const float* frame, float* out) const { impl_->Frame(frame, out); }

}  // namespace kws
