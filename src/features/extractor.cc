// FeatureExtractor: window -> rfft -> |.| -> sparse mel -> log(x + offset)
// -> optional DCT. Everything is precomputed in the constructor;
// Compute/ComputeFrame only touch preallocated buffers.
//
// Precision: samples are float, but window, FFT, magnitude and mel sums are
// double. A float32 FFT leaves ~1e-7 x frame-energy noise in every bin; for a
// pure tone or a quiet band next to a loud one that noise is far above the
// true value and log(x + 1e-6) turns it into errors up to ~3 (measured
// against the float64 reference). In double the worst case is ~1e-6.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "features/features.h"
#include "features/fft.h"
#include "features/mel.h"
#include "features/mfcc.h"
#include "features/window.h"
#include "util/error.h"

namespace kws {

struct FeatureExtractor::Impl {
  FeatureOptions opts;
  int L = 0, step = 0, nfft = 0, nbins = 0, M = 0, K = 0;
  std::vector<double> window;
  mutable RealFft fft;
  SparseMel mel;
  std::vector<float> dct;
  // Scratch (hence "not thread-safe").
  mutable std::vector<double> frame, re, im, mag;
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
    re.assign(size_t(nbins), 0.0);
    im.assign(size_t(nbins), 0.0);
    mag.assign(size_t(nbins), 0.0);
    mel_out.assign(size_t(M), 0.0);
    log_mel.assign(size_t(M), 0.0f);
  }

  // One frame of L samples -> num_features() floats.
  void Frame(const float* x, float* out) const {
    double* in = frame.data();
    for (int i = 0; i < L; ++i) in[i] = double(x[i]) * window[size_t(i)];
    fft.Forward(in, re.data(), im.data());
    const int lo = mel.min_bin, n = mel.max_bin - mel.min_bin + 1;
    if (n > 0) {
      const double* r = re.data() + lo;
      const double* q = im.data() + lo;
      double* m = mag.data() + lo;
      for (int k = 0; k < n; ++k) m[k] = r[k] * r[k] + q[k] * q[k];
      Eigen::Map<Eigen::ArrayXd> a(m, n);
      a = a.sqrt();
    }
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
