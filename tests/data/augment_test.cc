#include "data/augment.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data_test_util.h"
#include "util/error.h"

namespace {
kws::BackgroundNoise ConstantNoise(float v, int n = 48000) {
  kws::BackgroundNoise b;
  b.Add("const", std::vector<float>(size_t(n), v));
  return b;
}
std::vector<float> Ramp(int n) {
  std::vector<float> x(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) x[size_t(i)] = float(i + 1) / float(n + 1);  // all > 0, all distinct
  return x;
}
}  // namespace

TEST(AugmentOptions, Validate) {
  kws::AugmentOptions o;
  EXPECT_NO_THROW(o.Validate());
  o.background_prob = 1.5;
  EXPECT_THROW(o.Validate(), kws::Error);
  o = {};
  o.shift_ms = -1;
  EXPECT_THROW(o.Validate(), kws::Error);
  o = {};
  o.background_volume = -0.1;
  try {
    o.Validate();
    FAIL();
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("background_volume"), std::string::npos);
  }
}

TEST(Augment, TimeShiftIsZeroPaddedAndInRange) {
  kws::AugmentOptions o;
  o.background_prob = 0;
  kws::Rng rng(123);
  const int n = 16000, max_shift = 1600;
  int lo = 0, hi = 0;
  double mean = 0;
  const int draws = 400;
  for (int d = 0; d < draws; ++d) {
    std::vector<float> x = Ramp(n);
    const auto ref = x;
    auto info = kws::Augment(o, nullptr, 16000, rng, x);
    ASSERT_GE(info.shift, -max_shift);
    ASSERT_LE(info.shift, max_shift);
    lo = std::min(lo, info.shift);
    hi = std::max(hi, info.shift);
    mean += info.shift;
    EXPECT_FALSE(info.mixed);
    for (int i = 0; i < n; ++i) {
      const int src = i - info.shift;
      const float want = (src >= 0 && src < n) ? ref[size_t(src)] : 0.0f;
      ASSERT_EQ(x[size_t(i)], want) << "i=" << i << " shift=" << info.shift;
    }
  }
  EXPECT_LT(lo, -1400);  // the whole range gets used
  EXPECT_GT(hi, 1400);
  EXPECT_NEAR(mean / draws, 0.0, 150.0);
}

TEST(Augment, MixingProbabilityAndGain) {
  kws::AugmentOptions o;  // TF defaults: p = 0.8, gain U(0, 0.1)
  o.shift_ms = 0;
  auto noise = ConstantNoise(0.5f);
  kws::Rng rng(7);
  const int draws = 5000;
  int mixed = 0;
  double gain_sum = 0;
  float gain_max = 0;
  for (int d = 0; d < draws; ++d) {
    std::vector<float> x(1000, 0.0f);
    auto info = kws::Augment(o, &noise, 16000, rng, x);
    if (info.mixed) {
      ++mixed;
      gain_sum += info.gain;
      gain_max = std::max(gain_max, info.gain);
      ASSERT_NEAR(x[10], 0.5f * info.gain, 1e-7);  // noise really added at that gain
    } else {
      ASSERT_EQ(x[10], 0.0f);
    }
  }
  const double p = double(mixed) / draws;
  EXPECT_NEAR(p, 0.8, 0.02);  // 5000 draws: sd ~0.006
  EXPECT_NEAR(gain_sum / mixed, 0.05, 0.003);
  EXPECT_LE(gain_max, 0.1f);
  EXPECT_GT(gain_max, 0.099f);
}

TEST(Augment, ClipsToUnitRange) {
  kws::AugmentOptions o;
  o.shift_ms = 0;
  o.background_prob = 1;
  o.background_volume = 5;  // loud
  auto noise = ConstantNoise(1.0f);
  kws::Rng rng(1);
  int clipped_total = 0;
  for (int d = 0; d < 50; ++d) {
    std::vector<float> x(500, 0.9f);
    auto info = kws::Augment(o, &noise, 16000, rng, x);
    for (float v : x) ASSERT_LE(v, 1.0f);
    if (0.9f + info.gain * 1.0f > 1.0f) {
      EXPECT_EQ(info.clipped, 500);
      EXPECT_EQ(x[0], 1.0f);
    }
    clipped_total += info.clipped;
  }
  EXPECT_GT(clipped_total, 0);
  std::vector<float> neg(10, -3.0f);
  o.background_prob = 0;
  auto info = kws::Augment(o, nullptr, 16000, rng, neg);
  EXPECT_EQ(info.clipped, 10);
  EXPECT_EQ(neg[3], -1.0f);
}

TEST(Augment, SilenceAlwaysMixed) {
  kws::AugmentOptions o;
  o.background_prob = 0;
  o.shift_ms = 0;
  auto noise = ConstantNoise(0.25f);
  kws::Rng rng(3);
  double sum = 0;
  for (int d = 0; d < 2000; ++d) {
    std::vector<float> x(100, 0.0f);
    auto info = kws::Augment(o, &noise, 16000, rng, x, /*is_silence=*/true);
    ASSERT_TRUE(info.mixed || info.gain == 0);
    sum += info.gain;
  }
  EXPECT_NEAR(sum / 2000, 0.5, 0.03);  // U(0, silence_volume = 1)
}

TEST(Augment, DeterministicForASeed) {
  kws::AugmentOptions o;
  kws::BackgroundNoise noise;
  noise.Add("a", kws_test::Tone(3, 40000, 0.5f));
  noise.Add("b", kws_test::Tone(9, 20000, 0.5f));
  auto run = [&](uint64_t seed) {
    kws::Rng rng(seed);
    std::vector<float> all;
    for (int d = 0; d < 20; ++d) {
      auto x = kws_test::Tone(d, 16000);
      kws::Augment(o, &noise, 16000, rng, x);
      all.insert(all.end(), x.begin(), x.end());
    }
    return all;
  };
  EXPECT_EQ(run(11), run(11));
  EXPECT_NE(run(11), run(12));
}

TEST(BackgroundNoise, SlicesComeFromTheFiles) {
  kws::BackgroundNoise b;
  std::vector<float> ramp(5000);
  for (int i = 0; i < 5000; ++i) ramp[size_t(i)] = float(i);
  b.Add("ramp", ramp);
  kws::Rng rng(2);
  std::vector<float> out(1000);
  for (int d = 0; d < 100; ++d) {
    b.Slice(rng, out.data(), 1000);
    const float start = out[0];
    ASSERT_GE(start, 0.0f);
    ASSERT_LE(start, 4000.0f);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(out[size_t(i)], start + float(i));
  }
  b.SliceAt(0, 4500, out.data(), 1000);  // past the end: zero padded
  EXPECT_EQ(out[499], 4999.0f);
  EXPECT_EQ(out[500], 0.0f);
  kws::BackgroundNoise empty;
  EXPECT_THROW(empty.Slice(rng, out.data(), 10), kws::Error);
}

// ---- Stronger augmentation: speed/pitch, gain, SNR mixing, SpecAugment masks ----

namespace {
std::vector<float> Sine(int n, double hz, double amp = 0.5, int rate = 16000) {
  std::vector<float> x(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) x[size_t(i)] = float(amp * std::sin(2 * M_PI * hz * i / rate));
  return x;
}
// Rising zero crossings in [b, e) -> frequency estimate.
double Frequency(const std::vector<float>& x, int b, int e, int rate = 16000) {
  int first = -1, last = -1, count = 0;
  for (int i = b + 1; i < e; ++i)
    if (x[size_t(i - 1)] < 0 && x[size_t(i)] >= 0) {
      if (first < 0) first = i;
      last = i;
      ++count;
    }
  return count > 1 ? double(count - 1) * rate / double(last - first) : 0.0;
}
}  // namespace

TEST(AugmentOptions, ValidateNamesTheNewSettings) {
  auto expect_bad = [](kws::AugmentOptions o, const std::string& key) {
    try {
      o.Validate();
      ADD_FAILURE() << key << " accepted";
    } catch (const kws::Error& e) {
      EXPECT_EQ(e.kind(), kws::ErrorKind::kUsage);
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  kws::AugmentOptions o;
  o.speed_min = 0.9;
  o.speed_max = 1.1;
  o.pitch_min = 0.95;
  o.pitch_max = 1.05;
  o.gain_db = 6;
  o.background_mode = "snr";
  o.time_masks = 2;
  o.freq_masks = 2;
  EXPECT_NO_THROW(o.Validate());
  kws::AugmentOptions b = o;
  b.speed_max = 0.8;  // below speed_min
  expect_bad(b, "speed_max");
  b = o;
  b.speed_min = 0.1;
  expect_bad(b, "speed_min");
  b = o;
  b.pitch_max = 3;
  expect_bad(b, "pitch_max");
  b = o;
  b.gain_db = -1;
  expect_bad(b, "gain_db");
  b = o;
  b.background_mode = "loud";
  expect_bad(b, "background_mode");
  b = o;
  b.snr_max_db = 0;  // below snr_min_db (5)
  expect_bad(b, "snr_max_db");
  b = o;
  b.time_masks = -1;
  expect_bad(b, "time_masks");
  b = o;
  b.freq_mask_bins = 0;
  expect_bad(b, "freq_mask_bins");
}

TEST(Augment, ChangeSpeedScalesFrequencyAndKeepsLength) {
  for (double f : {0.8, 0.9, 1.1, 1.25}) {
    std::vector<float> x = Sine(16000, 440);
    kws::ChangeSpeed(x, f);
    ASSERT_EQ(x.size(), 16000u);
    // Measure away from the edges (zero padded when faster, filter transients).
    EXPECT_NEAR(Frequency(x, 4000, 12000), 440 * f, 440 * f * 0.01) << "factor " << f;
  }
  // A click at the centre stays at the centre.
  std::vector<float> c(16001, 0.0f);
  c[8000] = 1.0f;
  kws::ChangeSpeed(c, 1.2);
  const auto peak = std::max_element(c.begin(), c.end(), [](float a, float b) { return std::fabs(a) < std::fabs(b); });
  EXPECT_NEAR(double(peak - c.begin()), 8000.0, 3.0);
  // Factor 1 is the identity.
  std::vector<float> r = Ramp(100), r0 = r;
  kws::ChangeSpeed(r, 1.0);
  EXPECT_EQ(r, r0);
}

TEST(Augment, SpeedAndPitchDrawnInRange) {
  kws::AugmentOptions o;
  o.shift_ms = 0;
  o.background_prob = 0;
  o.speed_min = 0.9;
  o.speed_max = 1.1;
  o.pitch_min = 1.0;
  o.pitch_max = 1.0;
  kws::Rng rng(5);
  double lo = 2, hi = 0;
  for (int d = 0; d < 40; ++d) {
    std::vector<float> x = Sine(16000, 500);
    auto info = kws::Augment(o, nullptr, 16000, rng, x);
    ASSERT_GE(info.speed, 0.9);
    ASSERT_LE(info.speed, 1.1);
    EXPECT_EQ(info.pitch, 1.0);
    lo = std::min(lo, info.speed);
    hi = std::max(hi, info.speed);
    EXPECT_NEAR(Frequency(x, 4000, 12000), 500 * info.speed, 500 * info.speed * 0.01);
  }
  EXPECT_LT(lo, 0.93);
  EXPECT_GT(hi, 1.07);
}

TEST(Augment, GainInDecibels) {
  kws::AugmentOptions o;
  o.shift_ms = 0;
  o.background_prob = 0;
  o.gain_db = 10;
  kws::Rng rng(9);
  for (int d = 0; d < 50; ++d) {
    std::vector<float> x(1000, 0.01f);
    auto info = kws::Augment(o, nullptr, 16000, rng, x);
    ASSERT_LE(std::fabs(info.gain_db), 10.0);
    EXPECT_NEAR(x[500], 0.01 * std::pow(10.0, info.gain_db / 20), 1e-6);
  }
}

TEST(Augment, SnrModeMixesAtTheDrawnSnr) {
  kws::AugmentOptions o;
  o.shift_ms = 0;
  o.background_prob = 1;
  o.background_mode = "snr";
  o.snr_min_db = 0;
  o.snr_max_db = 20;
  kws::BackgroundNoise noise;
  noise.Add("sine", Sine(48000, 1234.5, 0.3));
  kws::Rng rng(11);
  double lo = 100, hi = -100;
  for (int d = 0; d < 30; ++d) {
    const std::vector<float> clean = Sine(16000, 300, 0.2);
    std::vector<float> x = clean;
    auto info = kws::Augment(o, &noise, 16000, rng, x);
    ASSERT_TRUE(info.mixed);
    ASSERT_GE(info.snr_db, 0);
    ASSERT_LE(info.snr_db, 20);
    double ps = 0, pn = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      ps += double(clean[i]) * clean[i];
      pn += double(x[i] - clean[i]) * (x[i] - clean[i]);
    }
    EXPECT_NEAR(10 * std::log10(ps / pn), info.snr_db, 0.05);
    lo = std::min(lo, info.snr_db);
    hi = std::max(hi, info.snr_db);
  }
  EXPECT_LT(lo, 4);
  EXPECT_GT(hi, 16);
  // Silence items keep the volume rule (gain <= silence_volume).
  std::vector<float> s(16000, 0.0f);
  auto info = kws::Augment(o, &noise, 16000, rng, s, /*is_silence=*/true);
  EXPECT_LE(info.gain, o.silence_volume);
  EXPECT_EQ(info.snr_db, 0.0);
}

TEST(AugmentFeatures, MasksSetBandsToTheMeanAndNothingElse) {
  kws::AugmentOptions o;
  o.time_masks = 2;
  o.time_mask_frames = 10;
  o.freq_masks = 1;
  o.freq_mask_bins = 4;
  const int T = 97, F = 20;
  kws::Rng rng(3);
  int masked_some = 0;
  for (int d = 0; d < 50; ++d) {
    std::vector<float> f(size_t(T) * F);
    for (size_t i = 0; i < f.size(); ++i) f[i] = float(i % 977) * 0.01f + 1.0f;  // distinct, no value equals the mean
    double mean = 0;
    for (float v : f) mean += v;
    mean /= double(f.size());
    const auto ref = f;
    kws::AugmentFeatures(o, kws::AugmentInfo{}, rng, f.data(), T, F);
    std::vector<int> row_full(size_t(T), 0), col_full(size_t(F), 0);
    int changed = 0;
    for (int t = 0; t < T; ++t)
      for (int k = 0; k < F; ++k) {
        const float v = f[size_t(t) * F + k];
        if (v != ref[size_t(t) * F + k]) {
          ++changed;
          ASSERT_NEAR(v, mean, 1e-3);
          row_full[size_t(t)]++;
          col_full[size_t(k)]++;
        }
      }
    // Every changed value lies in a fully masked row or column; at most 2x10 rows and 4 columns.
    int rows = 0, cols = 0;
    for (int t = 0; t < T; ++t) rows += row_full[size_t(t)] == F;
    for (int k = 0; k < F; ++k) cols += col_full[size_t(k)] == T;
    EXPECT_LE(rows, 20);
    EXPECT_LE(cols, 4);
    EXPECT_LE(changed, rows * F + cols * T);
    for (int t = 0; t < T; ++t)
      for (int k = 0; k < F; ++k)
        if (f[size_t(t) * F + k] != ref[size_t(t) * F + k]) ASSERT_TRUE(row_full[size_t(t)] == F || col_full[size_t(k)] == T);
    masked_some += changed > 0;
  }
  EXPECT_GT(masked_some, 40);
}

TEST(AugmentFeatures, PitchStretchesFramesAroundTheCentre) {
  kws::AugmentOptions o;
  kws::AugmentInfo info;
  info.pitch = 2.0;
  const int T = 11, F = 2;
  std::vector<float> f(size_t(T) * F);
  for (int t = 0; t < T; ++t) f[size_t(t) * F] = f[size_t(t) * F + 1] = float(t);
  kws::Rng rng(1);
  kws::AugmentFeatures(o, info, rng, f.data(), T, F);
  // out[c + u] = in[c + u / 2] with c = 5: a ramp becomes a half-slope ramp through the centre.
  for (int t = 0; t < T; ++t) {
    EXPECT_FLOAT_EQ(f[size_t(t) * F], 5.0f + (t - 5) / 2.0f) << t;
    EXPECT_FLOAT_EQ(f[size_t(t) * F + 1], 5.0f + (t - 5) / 2.0f) << t;
  }
}

TEST(Augment, DefaultsDrawNothingNew) {
  // With the new options off, the draws are exactly TF's (shift, coin, gain[, slice]):
  // the same seed gives the same output as the TF-only path computed by hand.
  kws::AugmentOptions o;
  auto noise = ConstantNoise(0.25f);
  kws::Rng a(42), b(42);
  std::vector<float> x = Ramp(16000);
  auto info = kws::Augment(o, &noise, 16000, a, x);
  const int max_shift = 1600;
  const int shift = int(b.Below(uint64_t(2 * max_shift + 1))) - max_shift;
  const bool mix = b.Uniform() < o.background_prob;
  const double gain = b.Uniform() * o.background_volume;
  EXPECT_EQ(info.shift, shift);
  EXPECT_EQ(info.mixed, mix && gain > 0);
  EXPECT_FLOAT_EQ(info.gain, info.mixed ? float(gain) : 0.0f);
  EXPECT_EQ(info.speed, 1.0);
  EXPECT_EQ(info.pitch, 1.0);
}

// quiet_prob: the whole mix (speech and the noise mixed into it) is scaled down by the drawn
// attenuation, within [0, quiet_max_db]; the draws come after everything else, so with the
// coin off the rest of the augmentation is unchanged.
TEST(Augment, QuietRecordingAttenuatesTheWholeMix) {
  kws::AugmentOptions o;
  o.shift_ms = 10;
  o.background_prob = 1.0;
  o.background_volume = 0.2;
  kws::BackgroundNoise noise = ConstantNoise(0.25f);
  const std::vector<float> clean = Ramp(1600);
  std::vector<float> plain = clean, quiet = clean;
  kws::Rng r1(9), r2(9);
  const kws::AugmentInfo a = kws::Augment(o, &noise, 16000, r1, plain);
  o.quiet_prob = 1.0;
  o.quiet_max_db = 20;
  const kws::AugmentInfo b = kws::Augment(o, &noise, 16000, r2, quiet);
  EXPECT_EQ(a.shift, b.shift);
  EXPECT_EQ(a.gain, b.gain);
  EXPECT_EQ(a.quiet_db, 0.0);
  ASSERT_GT(b.quiet_db, 0.0);
  ASSERT_LE(b.quiet_db, 20.0);
  const float g = float(std::pow(10.0, -b.quiet_db / 20));
  for (size_t i = 0; i < plain.size(); ++i) EXPECT_FLOAT_EQ(quiet[i], plain[i] * g) << i;
  o.quiet_prob = 1.5;
  EXPECT_THROW(o.Validate(), kws::Error);
  o.quiet_prob = 0.5;
  o.quiet_max_db = -1;
  EXPECT_THROW(o.Validate(), kws::Error);
}
