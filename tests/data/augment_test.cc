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
