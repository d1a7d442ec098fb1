#include "synth/noise.h"

#include <algorithm>
#include <cmath>
#include <complex>

#include "synth/dsp.h"
#include "util/error.h"

namespace kws::synth {
namespace {

void NormalizeRms(std::vector<float>& x) {
  double r = Rms(x);
  if (r <= 0) return;
  float g = float(1.0 / r);
  for (auto& v : x) v *= g;
}

// x[i] += amp * sin(2 pi f i / fs + phase), by rotating a phasor (renormalised
// every 1024 samples) instead of calling sin per sample.
void AddSine(std::vector<float>& x, double amp, double f, double phase, int fs) {
  const double w = 2 * M_PI * f / fs;
  const double cr = std::cos(w), ci = std::sin(w);
  double re = std::cos(phase), im = std::sin(phase);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] += float(amp * im);
    double nr = re * cr - im * ci, ni = re * ci + im * cr;
    re = nr;
    im = ni;
    if ((i & 1023) == 1023) {
      double r = std::sqrt(re * re + im * im);
      re /= r;
      im /= r;
    }
  }
}

}  // namespace

const std::vector<NoiseType>& AllNoiseTypes() {
  static const std::vector<NoiseType> all = {NoiseType::kWhite, NoiseType::kPink, NoiseType::kBrown,
                                             NoiseType::kHum, NoiseType::kBabble};
  return all;
}

std::string NoiseTypeName(NoiseType t) {
  switch (t) {
    case NoiseType::kWhite: return "white";
    case NoiseType::kPink: return "pink";
    case NoiseType::kBrown: return "brown";
    case NoiseType::kHum: return "hum";
    case NoiseType::kBabble: return "babble";
  }
  return "?";
}

NoiseType ParseNoiseType(const std::string& name) {
  for (auto t : AllNoiseTypes())
    if (NoiseTypeName(t) == name) return t;
  throw UsageError("noise type '" + name + "': unknown (white, pink, brown, hum, babble)");
}

void ColoredNoisePair(size_t n, double alpha, int sample_rate, Rng& rng, double lo_hz, double hi_hz,
                      std::vector<float>* out_a, std::vector<float>* out_b) {
  const size_t m = NextPow2(std::max<size_t>(n, 2));
  // The spectrum of complex Gaussian white noise is complex Gaussian white noise:
  // draw it directly, scale bin k and its mirror m-k by the same real gain
  // (amplitude ~ f^(-alpha/2), zero at DC and outside [lo, hi]), one inverse FFT.
  // A real, symmetric gain keeps the real and imaginary parts independent.
  std::vector<std::complex<double>> a(m);
  const double nyq = sample_rate / 2.0;
  if (hi_hz <= 0 || hi_hz > nyq) hi_hz = nyq;
  for (size_t k = 0; k < m; ++k) {
    const size_t kk = std::min(k, m - k);
    const double f = double(kk) * sample_rate / double(m);
    const double g = (kk > 0 && f >= lo_hz && f <= hi_hz) ? std::pow(f, -alpha / 2.0) : 0.0;
    const double re = FastGauss(rng), im = FastGauss(rng);
    a[k] = {g * re, g * im};
  }
  Fft(a, true);
  if (out_a) {
    out_a->resize(n);
    for (size_t i = 0; i < n; ++i) (*out_a)[i] = float(a[i].real());
    NormalizeRms(*out_a);
  }
  if (out_b) {
    out_b->resize(n);
    for (size_t i = 0; i < n; ++i) (*out_b)[i] = float(a[i].imag());
    NormalizeRms(*out_b);
  }
}

std::vector<float> ColoredNoise(size_t n, double alpha, int sample_rate, Rng& rng, double lo_hz, double hi_hz) {
  if (n == 0) return {};
  std::vector<float> x;
  ColoredNoisePair(n, alpha, sample_rate, rng, lo_hz, hi_hz, &x, nullptr);
  return x;
}

std::vector<float> GenerateNoise(NoiseType type, size_t n, int sample_rate, Rng& rng) {
  std::vector<float> x;
  switch (type) {
    case NoiseType::kWhite:
      x.resize(n);
      for (auto& v : x) v = float(FastGauss(rng));
      break;
    case NoiseType::kPink: x = ColoredNoise(n, 1.0, sample_rate, rng); break;
    case NoiseType::kBrown: x = ColoredNoise(n, 2.0, sample_rate, rng, 5.0); break;
    case NoiseType::kHum: {
      const double base = (rng.Uniform() < 0.5 ? 50.0 : 60.0) * rng.Uniform(0.995, 1.005);
      x = ColoredNoise(n, 1.0, sample_rate, rng);
      const double floor_gain = rng.Uniform(0.05, 0.3);
      for (auto& v : x) v *= float(floor_gain);
      const int harmonics = 2 + int(rng.Below(7));
      for (int h = 1; h <= harmonics; ++h) {
        double f = base * h;
        if (f >= sample_rate / 2.0) break;
        // Odd harmonics are typically stronger (transformer / rectifier hum).
        double amp = rng.Uniform(0.2, 1.0) / std::sqrt(double(h)) * (h % 2 ? 1.0 : 0.6);
        AddSine(x, amp, f, rng.Uniform(0, 2 * M_PI), sample_rate);
      }
      break;
    }
    case NoiseType::kBabble: {
      x.assign(n, 0.0f);
      const int talkers = 3 + int(rng.Below(5));
      std::vector<float> v, spare;
      for (int t = 0; t < talkers; ++t) {
        if (t % 2 == 0) {
          ColoredNoisePair(n, 1.0, sample_rate, rng, 150.0, 4000.0, &v, &spare);
        } else {
          v.swap(spare);
        }
        const double rate = rng.Uniform(2.0, 7.0), ph = rng.Uniform(0, 2 * M_PI);
        const double rate2 = rng.Uniform(0.3, 1.0), ph2 = rng.Uniform(0, 2 * M_PI);
        const double level = rng.Uniform(0.4, 1.0);
        // Syllable-like bursts (half-wave rectified sine) under a slower phrase envelope.
        std::vector<float> syl(n, 0.0f), phrase(n, 0.0f);
        AddSine(syl, 1.0, rate, ph, sample_rate);
        AddSine(phrase, 0.4, rate2, ph2, sample_rate);
        for (size_t i = 0; i < n; ++i)
          x[i] += float(level * (0.15 + std::max(0.0f, syl[i])) * (0.6 + phrase[i]) * v[i]);
      }
      break;
    }
  }
  NormalizeRms(x);
  return x;
}

}  // namespace kws::synth
