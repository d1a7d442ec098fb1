// Noise generators: unit RMS, seeded, and the right spectral slope (white
// flat, pink -3 dB/octave, brown -6 dB/octave) measured by octave-band energy
// of a plain DFT.
#include <gtest/gtest.h>

#include <cmath>

#include "synth/dsp.h"
#include "synth/noise.h"
#include "util/error.h"

using namespace kws::synth;

namespace {

// Energy in [lo, hi) Hz by a direct DFT over the bins in that band.
double BandEnergy(const std::vector<float>& x, int fs, double lo, double hi) {
  const size_t n = x.size();
  double e = 0;
  for (size_t k = size_t(std::ceil(lo * n / fs)); double(k) < hi * n / fs; ++k) {
    double re = 0, im = 0;
    const double w = 2 * M_PI * double(k) / double(n);
    for (size_t t = 0; t < n; ++t) {
      re += x[t] * std::cos(w * double(t));
      im -= x[t] * std::sin(w * double(t));
    }
    e += re * re + im * im;
  }
  return e;
}

// Least-squares slope of band energy (dB) per octave over octave bands from 125 Hz to 4 kHz.
// Averaged over a few clips to steady the estimate.
double SlopeDbPerOctave(NoiseType type) {
  const int fs = 16000;
  std::vector<double> db(5, 0.0);
  const int reps = 3;
  for (int r = 0; r < reps; ++r) {
    kws::Rng rng(100 + uint64_t(r));
    auto x = GenerateNoise(type, 4096, fs, rng);
    for (int b = 0; b < 5; ++b) {
      double lo = 125.0 * std::pow(2.0, b), hi = 2 * lo;
      db[size_t(b)] += 10 * std::log10(BandEnergy(x, fs, lo, hi)) / reps;
    }
  }
  // Per-octave band energy: a 1/f^a density integrates to a slope of (1 - a) * 3 dB/oct... convert
  // back to density by subtracting the bandwidth growth (+3.01 dB per octave).
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (int b = 0; b < 5; ++b) {
    double y = db[size_t(b)] - 10 * std::log10(std::pow(2.0, b));
    sx += b; sy += y; sxx += b * b; sxy += b * y;
  }
  return (5 * sxy - sx * sy) / (5 * sxx - sx * sx);
}

}  // namespace

TEST(SynthNoise, SpectralSlopes) {
  EXPECT_NEAR(SlopeDbPerOctave(NoiseType::kWhite), 0.0, 0.6);
  EXPECT_NEAR(SlopeDbPerOctave(NoiseType::kPink), -3.01, 0.6);
  EXPECT_NEAR(SlopeDbPerOctave(NoiseType::kBrown), -6.02, 0.6);
}

TEST(SynthNoise, UnitRmsSeededAndDistinct) {
  for (NoiseType t : AllNoiseTypes()) {
    kws::Rng a(42), b(42), c(43);
    auto x = GenerateNoise(t, 16000, 16000, a);
    auto y = GenerateNoise(t, 16000, 16000, b);
    auto z = GenerateNoise(t, 16000, 16000, c);
    ASSERT_EQ(x.size(), 16000u);
    EXPECT_NEAR(Rms(x), 1.0, 1e-4) << NoiseTypeName(t);
    EXPECT_EQ(x, y) << NoiseTypeName(t);
    EXPECT_NE(x, z) << NoiseTypeName(t);
    for (float v : x) ASSERT_TRUE(std::isfinite(v));
  }
}

TEST(SynthNoise, HumHasMainsPeak) {
  kws::Rng rng(8);
  auto x = GenerateNoise(NoiseType::kHum, 16000, 16000, rng);
  // Energy near 50 or 60 Hz dwarfs the neighbouring band.
  double e50 = BandEnergy(x, 16000, 48, 53), e60 = BandEnergy(x, 16000, 58, 63);
  double off = BandEnergy(x, 16000, 70, 95);
  EXPECT_GT(std::max(e50, e60), 20 * off);
}

TEST(SynthNoise, BabbleIsSpeechBand) {
  kws::Rng rng(4);
  auto x = GenerateNoise(NoiseType::kBabble, 8192, 16000, rng);
  double speech = BandEnergy(x, 16000, 200, 3500), high = BandEnergy(x, 16000, 5000, 7900);
  EXPECT_GT(speech, 100 * high);
}

TEST(SynthNoise, ParseNames) {
  EXPECT_EQ(ParseNoiseType("pink"), NoiseType::kPink);
  EXPECT_THROW(ParseNoiseType("purple"), kws::Error);
}
