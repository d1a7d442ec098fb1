// Detector with injected fake scorers (no trained model needed): hop scheduling and
// detection times exactly, features handed to the scorer == offline features, VAD gating,
// and a synthetic stream with "keywords" (tone bursts) at known times.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "features/features.h"
#include "stream/detector.h"
#include "test_util.h"
#include "util/error.h"
#include "util/rng.h"

namespace {

const std::vector<std::string> kLabels = {"_silence_", "_unknown_", "yes", "no"};

// Returns a fixed score vector and records every call.
class ConstantScorer : public kws::Scorer {
 public:
  ConstantScorer(std::vector<float> s, int frames = 97, int bins = 20) : s_(std::move(s)), frames_(frames), bins_(bins) {}
  int frames() const override { return frames_; }
  int bins() const override { return bins_; }
  int num_classes() const override { return int(s_.size()); }
  void Score(const float* f, float* out) override {
    ++calls;
    last.assign(f, f + size_t(frames_) * size_t(bins_));
    std::memcpy(out, s_.data(), s_.size() * sizeof(float));
  }
  int calls = 0;
  std::vector<float> last;

 private:
  std::vector<float> s_;
  int frames_, bins_;
};

using kws::test::ToneScorer;

std::vector<float> Quiet(size_t n, uint64_t seed, float amp) {
  kws::Rng r(seed);
  std::vector<float> x(n);
  for (auto& v : x) v = float(amp * (2 * r.Uniform() - 1));
  return x;
}

void AddTone(std::vector<float>& x, double hz, double from_s, double to_s, float amp) {
  for (size_t i = size_t(from_s * 16000); i < size_t(to_s * 16000) && i < x.size(); ++i)
    x[i] += amp * float(std::sin(2 * M_PI * hz * double(i) / 16000.0));
}

std::vector<kws::Detection> Feed(kws::Detector& d, const std::vector<float>& x, size_t chunk) {
  std::vector<kws::Detection> out;
  for (size_t i = 0; i < x.size(); i += chunk) d.Accept(x.data() + i, std::min(chunk, x.size() - i), &out);
  return out;
}

TEST(Detector, HopScheduleAndExactDetectionTimes) {
  ConstantScorer sc({0, 0, 1, 0});
  kws::DetectorOptions o;
  o.vad = false;
  kws::Detector d(kws::FeatureOptions{}, kLabels, &sc, o);
  std::vector<int64_t> times;
  d.on_result = [&](int64_t t, const float*, bool open) {
    EXPECT_TRUE(open);
    times.push_back(t);
  };
  const auto x = Quiet(16000 * 5, 1, 0.1f);
  for (size_t chunk : {size_t(1), size_t(333), size_t(16000 * 5)}) {
    d.Reset();
    times.clear();
    auto det = Feed(d, x, chunk);
    // 97 frames need 15872 samples: first evaluation at the first 100 ms boundary after that, 1.0 s.
    ASSERT_EQ(times.size(), 41u) << chunk;
    EXPECT_EQ(times.front(), 1000);
    EXPECT_EQ(times.back(), 5000);
    // Third result fires (1200 ms), then every 1500 ms.
    ASSERT_EQ(det.size(), 3u) << chunk;
    EXPECT_EQ(det[0].time_ms, 1200);
    EXPECT_EQ(det[1].time_ms, 2700);
    EXPECT_EQ(det[2].time_ms, 4200);
    EXPECT_EQ(det[0].name, "yes");
    EXPECT_EQ(d.stats().inferences, 41);
  }
}

TEST(Detector, ScorerSeesTheOfflineFeaturesOfTheLastWindow) {
  ConstantScorer sc({1, 0, 0, 0});
  kws::DetectorOptions o;
  o.vad = false;
  kws::FeatureOptions fo;
  kws::Detector d(fo, kLabels, &sc, o);
  const auto x = Quiet(16000 * 3 + 800, 2, 0.3f);
  Feed(d, x, 517);
  // Last evaluation at 3.0 s = 48000 samples: frames ready then = 1 + (48000 - 512) / 160 = 297.
  const int T = 1 + (48000 - 512) / 160;
  kws::FeatureExtractor fx(fo);
  const kws::FeatureMatrix want = fx.Compute(x.data() + size_t(T - 97) * 160, 96 * 160 + 512);
  ASSERT_EQ(sc.last.size(), want.data.size());
  EXPECT_EQ(0, std::memcmp(sc.last.data(), want.data.data(), want.data.size() * sizeof(float)));
}

TEST(Detector, VadGatesQuietAudioAsSilence) {
  ConstantScorer sc({0, 0, 1, 0});
  kws::DetectorOptions o;  // VAD on, -50 dBFS for 100 ms
  kws::Detector d(kws::FeatureOptions{}, kLabels, &sc, o);
  std::vector<float> gated;
  d.on_result = [&](int64_t, const float* s, bool open) {
    if (!open) gated.push_back(s[0]);
  };
  // -70 dBFS noise: never run.
  auto x = Quiet(16000 * 4, 3, 0.0005f);
  EXPECT_TRUE(Feed(d, x, 1600).empty());
  EXPECT_EQ(sc.calls, 0);
  EXPECT_EQ(d.stats().gated, 31);
  for (float v : gated) EXPECT_EQ(v, 1.0f);  // one-hot _silence_
  // A 50 ms loud blip is shorter than --vad-min-ms: still gated.
  d.Reset();
  AddTone(x, 500, 2.0, 2.05, 0.5f);
  Feed(d, x, 1600);
  EXPECT_EQ(sc.calls, 0);
  // 150 ms: the gate opens for as long as the burst is inside the 1 s model window.
  d.Reset();
  AddTone(x, 500, 3.0, 3.15, 0.5f);
  Feed(d, x, 1600);
  EXPECT_GE(sc.calls, 9);
  EXPECT_LE(sc.calls, 12);
}

TEST(Detector, ToneKeywordsAtKnownTimes) {
  ToneScorer sc;
  kws::DetectorOptions o;
  kws::Detector d(kws::FeatureOptions{}, kLabels, &sc, o);
  auto x = Quiet(16000 * 22, 4, 0.001f);  // about -65 dBFS: VAD closed between keywords
  struct Truth {
    const char* label;
    double start, end;
  };
  const std::vector<Truth> truth = {{"yes", 3.0, 3.6}, {"no", 8.0, 8.6}, {"yes", 13.0, 13.6}, {"no", 17.5, 18.1}};
  for (const auto& t : truth) AddTone(x, std::string(t.label) == "yes" ? 500 : 3000, t.start, t.end, 0.3f);
  AddTone(x, 500, 20.0, 20.08, 0.3f);  // too short to be a keyword
  const auto det = Feed(d, x, 1234);
  ASSERT_EQ(det.size(), truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    EXPECT_EQ(det[i].name, truth[i].label);
    const double t = double(det[i].time_ms) / 1000.0;
    // Stated tolerance: the smoothed score crosses 0.9 between the end of the keyword and 1.2 s later.
    EXPECT_GE(t, truth[i].end) << i;
    EXPECT_LE(t, truth[i].end + 1.2) << i;
    EXPECT_GE(det[i].score, 0.9f);
  }
  EXPECT_LT(d.stats().inferences, d.stats().hops / 2);  // the VAD skipped most hops
}

TEST(Detector, RejectsMismatchedScorer) {
  ConstantScorer three({0, 0, 1});
  EXPECT_THROW(kws::Detector(kws::FeatureOptions{}, kLabels, &three, kws::DetectorOptions{}), kws::Error);
  ConstantScorer bins({0, 0, 1, 0}, 97, 40);
  EXPECT_THROW(kws::Detector(kws::FeatureOptions{}, kLabels, &bins, kws::DetectorOptions{}), kws::Error);
  kws::DetectorOptions bad;
  bad.hop_ms = 0;
  ConstantScorer ok({0, 0, 1, 0});
  EXPECT_THROW(kws::Detector(kws::FeatureOptions{}, kLabels, &ok, bad), kws::Error);
}

}  // namespace
