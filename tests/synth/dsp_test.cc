// DSP building blocks of the synthesizer: FFT, convolution, room reverb,
// silence trimming, clip rendering (placement, level, SNR).
#include <gtest/gtest.h>

#include <cmath>
#include <complex>

#include "synth/dsp.h"
#include "synth/noise.h"
#include "util/error.h"
#include "synth/synth.h"

using namespace kws::synth;

TEST(SynthDsp, FftMatchesNaiveDft) {
  const size_t n = 64;
  kws::Rng rng(3);
  std::vector<std::complex<double>> x(n);
  for (auto& v : x) v = {rng.Normal(), rng.Normal()};
  auto X = x;
  Fft(X, false);
  for (size_t k = 0; k < n; ++k) {
    std::complex<double> s = 0;
    for (size_t t = 0; t < n; ++t) s += x[t] * std::polar(1.0, -2 * M_PI * double(k * t) / double(n));
    EXPECT_NEAR(std::abs(X[k] - s), 0.0, 1e-9) << "bin " << k;
  }
  Fft(X, true);  // unnormalised inverse
  for (size_t t = 0; t < n; ++t) EXPECT_NEAR(std::abs(X[t] / double(n) - x[t]), 0.0, 1e-12);
}

TEST(SynthDsp, FftRejectsNonPowerOfTwo) {
  std::vector<std::complex<double>> x(12);
  EXPECT_THROW(Fft(x, false), kws::Error);
}

TEST(SynthDsp, ConvolveFftEqualsDirect) {
  kws::Rng rng(5);
  std::vector<float> x(1000), h(300);
  for (auto& v : x) v = float(rng.Normal());
  for (auto& v : h) v = float(rng.Normal());
  auto a = Convolve(x, h), b = ConvolveDirect(x, h);
  ASSERT_EQ(a.size(), 1299u);
  ASSERT_EQ(b.size(), 1299u);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-3) << i;
  // Hand-computed small case.
  auto c = Convolve({1, 2, 3}, {1, -1});
  ASSERT_EQ(c.size(), 4u);
  EXPECT_FLOAT_EQ(c[0], 1);
  EXPECT_FLOAT_EQ(c[1], 1);
  EXPECT_FLOAT_EQ(c[2], 1);
  EXPECT_FLOAT_EQ(c[3], -3);
}

TEST(SynthDsp, RoomImpulseHasRequestedDecayAndRatio) {
  for (double rt60 : {0.15, 0.3, 0.6}) {
    kws::Rng rng(11);
    auto h = RoomImpulse(rt60, 3.0, 16000, rng);
    EXPECT_EQ(h[0], 1.0f);
    double tail = 0;
    for (size_t i = 1; i < h.size(); ++i) tail += double(h[i]) * h[i];
    EXPECT_NEAR(10 * std::log10(1.0 / tail), 3.0, 0.01);  // direct-to-reverberant ratio
    // Decay of the tail alone.
    std::vector<float> t(h.begin() + 1, h.end());
    double est = EstimateRt60(t, 0, 16000);
    EXPECT_NEAR(est, rt60, 0.2 * rt60) << "rt60 " << rt60;
  }
}

TEST(SynthDsp, ReverbLengthensTheDecay) {
  // A 100 ms tone burst then silence: dry, the energy after the burst is zero;
  // wet, it decays over roughly RT60 and the estimate follows the IR.
  const int fs = 16000;
  std::vector<float> burst(fs, 0.0f);
  for (int i = 0; i < fs / 10; ++i) burst[size_t(i)] = float(std::sin(2 * M_PI * 440 * i / fs));
  kws::Rng rng(2);
  auto wet = Convolve(burst, RoomImpulse(0.5, 0.0, fs, rng));
  auto energy = [](const std::vector<float>& x, size_t b, size_t e) {
    double s = 0;
    for (size_t i = b; i < e && i < x.size(); ++i) s += double(x[i]) * x[i];
    return s;
  };
  const size_t end = fs / 10;
  EXPECT_EQ(energy(burst, end, end + 3200), 0.0);
  double just_after = energy(wet, end, end + 1600), later = energy(wet, end + 3200, end + 4800);
  EXPECT_GT(just_after, 1e-3 * energy(wet, 0, end));
  EXPECT_GT(just_after, later * 2);  // decaying
  EXPECT_GT(later, 0.0);
  double est = EstimateRt60(wet, end, fs);
  EXPECT_GT(est, 0.3);
  EXPECT_LT(est, 0.7);
}

TEST(SynthDsp, TrimSilenceFindsTheActivePart) {
  std::vector<float> x(16000, 0.0f);
  kws::Rng rng(1);
  for (size_t i = 4000; i < 9000; ++i) x[i] = float(0.3 * rng.Normal());
  for (size_t i = 0; i < x.size(); ++i) x[i] += float(1e-5 * rng.Normal());  // far below -40 dB
  auto [b, e] = ActiveRange(x, 160, 40.0, 1);
  EXPECT_EQ(b, 4000u - 160u);  // one frame of margin: 4000 is a frame boundary (25 * 160)
  EXPECT_GE(e, 9000u);
  EXPECT_LE(e, 9000u + 2 * 160u);
  EXPECT_TRUE(TrimSilence(std::vector<float>(100, 0.0f)).empty());
}

TEST(SynthDsp, BiquadBandLimits) {
  const int fs = 16000;
  auto tone_gain_db = [&](double f, bool high, double fc) {
    std::vector<float> x(fs);
    for (int i = 0; i < fs; ++i) x[size_t(i)] = float(std::sin(2 * M_PI * f * i / fs));
    if (high) HighPass(x, fc, fs); else LowPass(x, fc, fs);
    // Skip the first 0.25 s (filter start-up).
    return 20 * std::log10(Rms(x.data() + fs / 4, size_t(fs * 3 / 4)) / std::sqrt(0.5));
  };
  EXPECT_NEAR(tone_gain_db(200, true, 200), -3.01, 0.1);  // Butterworth: -3 dB at the cutoff
  EXPECT_NEAR(tone_gain_db(50, true, 200), -24.1, 0.5);   // two octaves below: -12 dB/oct
  EXPECT_NEAR(tone_gain_db(2000, true, 200), 0.0, 0.1);
  EXPECT_NEAR(tone_gain_db(4000, false, 4000), -3.01, 0.1);
  EXPECT_NEAR(tone_gain_db(500, false, 4000), 0.0, 0.1);
  EXPECT_LT(tone_gain_db(7500, false, 4000), -15.0);
}

TEST(SynthDsp, KeywordClipKeepsTheWordWholeInsideTheWindow) {
  SynthOptions o;
  o.highpass_probability = o.lowpass_probability = 0;  // the test "word" is a 127 Hz tone
  NoiseBank bank;
  int checked_snr = 0;
  for (int trial = 0; trial < 40; ++trial) {
    kws::Rng rng = kws::Rng::Derive(7, uint64_t(trial));
    // Word lengths from short to longer than the window.
    size_t len = 2000 + size_t(trial) * 500;
    std::vector<float> word(len);
    for (size_t i = 0; i < len; ++i) word[i] = float(std::sin(0.05 * double(i)) * 0.5);
    ClipInfo ci;
    auto clip = RenderKeywordClip(word, o, bank, rng, &ci);
    ASSERT_EQ(clip.size(), 16000u);
    EXPECT_GE(ci.offset, 0);
    EXPECT_LE(ci.offset + ci.length, 16000) << "word cut at the end (len " << len << ")";
    if (len <= 15680) EXPECT_EQ(size_t(ci.length), len);
    else EXPECT_LE(ci.length, 15680);  // sped up to fit
    EXPECT_NEAR(20 * std::log10(Peak(clip)), ci.peak_dbfs, 0.01);
    EXPECT_GE(ci.peak_dbfs, -20.0);
    EXPECT_LE(ci.peak_dbfs, -1.0);
    // The word region is louder than the rest by roughly the SNR.
    double in = Rms(clip.data() + ci.offset, size_t(ci.length));
    std::vector<float> rest(clip.begin(), clip.begin() + ci.offset);
    rest.insert(rest.end(), clip.begin() + ci.offset + ci.length, clip.end());
    // (stationary noise only: brown/hum/babble levels wander within one second)
    if (rest.size() > 3200 && ci.rt60 == 0 && (ci.noise == "white" || ci.noise == "pink")) {
      ++checked_snr;
      double snr_measured = 20 * std::log10(in / Rms(rest));
      EXPECT_GT(snr_measured, ci.snr_db - 1.5) << "trial " << trial;
      EXPECT_LT(snr_measured, ci.snr_db + 10.0) << "trial " << trial;
    }
  }
  EXPECT_GT(checked_snr, 3);
}

TEST(SynthDsp, SilenceClipLevel) {
  SynthOptions o;
  NoiseBank bank;
  bank.names = {"tone"};
  bank.signals.push_back(std::vector<float>(40000, 0.0f));
  for (size_t i = 0; i < 40000; ++i) bank.signals[0][i] = float(std::sin(0.01 * double(i)));
  int from_bank = 0;
  for (int t = 0; t < 30; ++t) {
    kws::Rng rng = kws::Rng::Derive(9, uint64_t(t));
    ClipInfo ci;
    auto clip = RenderSilenceClip(o, bank, rng, &ci);
    ASSERT_EQ(clip.size(), 16000u);
    EXPECT_NEAR(20 * std::log10(Peak(clip)), ci.peak_dbfs, 0.01);
    EXPECT_GE(ci.peak_dbfs, -50.0);
    EXPECT_LE(ci.peak_dbfs, -10.0);
    from_bank += ci.noise.rfind("bg:tone", 0) == 0;
  }
  EXPECT_GT(from_bank, 5);  // background slices are used about half the time
  EXPECT_LT(from_bank, 25);
}
