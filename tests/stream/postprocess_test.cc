// ScoreSmoother on scripted score sequences (no model): averaging window, minimum
// result count, threshold, keyword-only firing, suppression, bounded ring.
#include <gtest/gtest.h>

#include <vector>

#include "stream/postprocess.h"
#include "util/error.h"

namespace {

const std::vector<std::string> kLabels = {"_silence_", "_unknown_", "yes", "no"};

struct Fired {
  int64_t t;
  std::string label;
  float score;
};

std::vector<Fired> Replay(kws::ScoreSmoother& s, const std::vector<std::pair<int64_t, std::vector<float>>>& seq) {
  std::vector<Fired> out;
  kws::Detection d;
  for (const auto& [t, v] : seq)
    if (s.Process(t, v.data(), &d)) out.push_back({d.time_ms, d.name, d.score});
  return out;
}

std::vector<std::pair<int64_t, std::vector<float>>> Constant(int64_t from, int64_t to, int64_t hop, std::vector<float> v) {
  std::vector<std::pair<int64_t, std::vector<float>>> s;
  for (int64_t t = from; t < to; t += hop) s.push_back({t, v});
  return s;
}

TEST(ScoreSmoother, FiresAfterMinResultsThenSuppresses) {
  kws::PostProcessOptions o;  // 0.9, 1000 ms, 1500 ms, 3 results
  kws::ScoreSmoother s(kLabels, o, kws::SmootherCapacity(1000, 100));
  auto f = Replay(s, Constant(0, 3500, 100, {0, 0, 1, 0}));
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].t, 200);   // third result
  EXPECT_EQ(f[1].t, 1700);  // 200 + 1500
  EXPECT_EQ(f[2].t, 3200);
  for (const auto& x : f) {
    EXPECT_EQ(x.label, "yes");
    EXPECT_FLOAT_EQ(x.score, 1.0f);
  }
}

TEST(ScoreSmoother, AveragesOverTheWindow) {
  kws::PostProcessOptions o;
  o.threshold = 0.5;
  kws::ScoreSmoother s(kLabels, o, 20);
  // 10 results of yes = 0 (t = 0..900), then yes = 1 from t = 1000.
  auto seq = Constant(0, 1000, 100, {1, 0, 0, 0});
  auto more = Constant(1000, 2000, 100, {0, 0, 1, 0});
  seq.insert(seq.end(), more.begin(), more.end());
  auto f = Replay(s, seq);
  // Window at t: results with t - ti < 1000, i.e. 10 results. yes-average at t = 1000 + 100k is (k+1)/10;
  // >= 0.5 first at k = 4 -> t = 1400.
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].t, 1400);
  EXPECT_FLOAT_EQ(f[0].score, 0.5f);
  EXPECT_EQ(s.window_count(), 10);
  EXPECT_NEAR(s.smoothed()[2], 1.0f, 1e-6);
  EXPECT_NEAR(s.smoothed()[0], 0.0f, 1e-6);
}

TEST(ScoreSmoother, ThresholdIsInclusiveAndBelowNeverFires) {
  kws::PostProcessOptions o;
  o.threshold = 0.75;
  kws::ScoreSmoother a(kLabels, o, 12);
  EXPECT_EQ(Replay(a, Constant(0, 5000, 100, {0.25f, 0, 0.75f, 0})).size(), 4u);  // 200, 1700, 3200, 4700
  kws::ScoreSmoother b(kLabels, o, 12);
  EXPECT_TRUE(Replay(b, Constant(0, 5000, 100, {0.26f, 0, 0.74f, 0})).empty());
}

TEST(ScoreSmoother, SilenceAndUnknownNeverFire) {
  kws::PostProcessOptions o;
  o.threshold = 0.5;
  kws::ScoreSmoother s(kLabels, o, 12);
  EXPECT_TRUE(Replay(s, Constant(0, 3000, 100, {1, 0, 0, 0})).empty());
  EXPECT_TRUE(Replay(s, Constant(3000, 6000, 100, {0, 1, 0, 0})).empty());
  // The best keyword fires even when _unknown_ is larger.
  auto f = Replay(s, Constant(6000, 7000, 100, {0, 0.4f, 0.0f, 0.6f}));
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].label, "no");
}

TEST(ScoreSmoother, MinResultsAndSparseResults) {
  kws::PostProcessOptions o;
  o.min_results = 3;
  kws::ScoreSmoother s(kLabels, o, 12);
  // Results 600 ms apart: never 3 inside one 1000 ms window.
  EXPECT_TRUE(Replay(s, Constant(0, 10000, 600, {0, 0, 1, 0})).empty());
  o.min_results = 1;
  kws::ScoreSmoother one(kLabels, o, 12);
  auto f = Replay(one, Constant(0, 3100, 600, {0, 0, 1, 0}));
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].t, 0);
  EXPECT_EQ(f[1].t, 1800);  // 600 and 1200 suppressed (< 1500 ms)
}

TEST(ScoreSmoother, SuppressionAppliesAcrossKeywords) {
  kws::PostProcessOptions o;
  o.suppress_ms = 2000;
  kws::ScoreSmoother s(kLabels, o, 12);
  auto seq = Constant(0, 1000, 100, {0, 0, 1, 0});
  auto no = Constant(1000, 4000, 100, {0, 0, 0, 1});
  seq.insert(seq.end(), no.begin(), no.end());
  auto f = Replay(s, seq);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1].label, "no");
  EXPECT_EQ(f[1].t, 2200);  // "no" is ready at 1800 but suppressed until 200 + 2000
}

TEST(ScoreSmoother, SecondKeywordAfterSuppression) {
  kws::PostProcessOptions o;
  kws::ScoreSmoother s(kLabels, o, 12);
  auto seq = Constant(0, 1000, 100, {0, 0, 1, 0});
  auto no = Constant(1000, 3000, 100, {0, 0, 0, 1});
  seq.insert(seq.end(), no.begin(), no.end());
  auto f = Replay(s, seq);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].label, "yes");
  EXPECT_EQ(f[0].t, 200);
  EXPECT_EQ(f[1].label, "no");
  EXPECT_EQ(f[1].t, 1800);  // "no" average reaches 0.9 (9 of 10) at 1800, 1600 ms after "yes": not suppressed
}

TEST(ScoreSmoother, RingIsBounded) {
  kws::PostProcessOptions o;
  o.threshold = 1.0;
  kws::ScoreSmoother s(kLabels, o, 4);
  // Results every ms: the 1000 ms window would hold 1000, the ring keeps 4.
  auto f = Replay(s, Constant(0, 2000, 1, {0, 0, 0.5f, 0}));
  EXPECT_TRUE(f.empty());
  EXPECT_EQ(s.window_count(), 4);
  EXPECT_EQ(s.capacity(), 4);
}

// --label-threshold: "no" at 0.6 fires where the global 0.9 does not; "yes" keeps 0.9; the top keyword
// must pass its own threshold (a "no" below "yes" does not fire even above its lower threshold).
TEST(ScoreSmoother, LabelThresholdsApplyToTheirKeywordOnly) {
  kws::PostProcessOptions o;  // 0.9
  o.label_thresholds = {{"no", 0.6}};
  EXPECT_DOUBLE_EQ(o.ThresholdOf("no"), 0.6);
  EXPECT_DOUBLE_EQ(o.ThresholdOf("yes"), 0.9);
  kws::ScoreSmoother a(kLabels, o, 12);
  auto f = Replay(a, Constant(0, 1000, 100, {0.3f, 0, 0, 0.7f}));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].label, "no");
  EXPECT_EQ(f[0].t, 200);
  kws::ScoreSmoother b(kLabels, o, 12);
  EXPECT_TRUE(Replay(b, Constant(0, 1000, 100, {0.3f, 0, 0.7f, 0})).empty());
  kws::ScoreSmoother c(kLabels, o, 12);
  EXPECT_TRUE(Replay(c, Constant(0, 1000, 100, {0, 0, 0.35f, 0.61f})).size() == 1u);
  kws::ScoreSmoother d(kLabels, o, 12);
  EXPECT_TRUE(Replay(d, Constant(0, 1000, 100, {0, 0.1f, 0.5f, 0.4f})).empty());  // top is yes (0.5 < 0.9)
  kws::PostProcessOptions none;  // without the override the same "no" scores never fire
  kws::ScoreSmoother e(kLabels, none, 12);
  EXPECT_TRUE(Replay(e, Constant(0, 1000, 100, {0.3f, 0, 0, 0.7f})).empty());
}

TEST(ScoreSmoother, LabelThresholdErrorsNameTheFlag) {
  auto message = [](const kws::PostProcessOptions& o) -> std::string {
    try {
      kws::ScoreSmoother s(kLabels, o, 4);
    } catch (const kws::Error& e) {
      EXPECT_EQ(e.kind(), kws::ErrorKind::kUsage);
      return e.what();
    }
    return "<no error>";
  };
  kws::PostProcessOptions o;
  o.label_thresholds = {{"maybe", 0.5}};
  EXPECT_EQ(message(o), "--label-threshold maybe: not a keyword of the model (its keywords: yes, no)");
  o.label_thresholds = {{"_unknown_", 0.5}};
  EXPECT_NE(message(o).find("not a keyword"), std::string::npos);
  o.label_thresholds = {{"no", 1.5}};
  EXPECT_NE(message(o).find("--label-threshold no: must be in [0, 1]"), std::string::npos);
  o.label_thresholds = {{"no", 0.5}, {"no", 0.6}};
  EXPECT_NE(message(o).find("given twice"), std::string::npos);

  EXPECT_EQ(kws::ParseLabelThresholds({"no=0.7", "yes=1"}),
            (std::vector<std::pair<std::string, double>>{{"no", 0.7}, {"yes", 1.0}}));
  for (const char* bad : {"no", "no=", "=0.5", "no=abc", "no=0.5x"}) {
    try {
      kws::ParseLabelThresholds({bad});
      ADD_FAILURE() << bad;
    } catch (const kws::Error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "': expected LABEL=VALUE"), std::string::npos)
          << e.what();
    }
  }
}

TEST(ScoreSmoother, RejectsBadInput) {
  kws::PostProcessOptions o;
  o.threshold = 1.5;
  EXPECT_THROW(kws::ScoreSmoother(kLabels, o, 4), kws::Error);
  EXPECT_THROW(kws::ScoreSmoother({"_silence_", "_unknown_"}, kws::PostProcessOptions{}, 4), kws::Error);
  kws::ScoreSmoother s(kLabels, kws::PostProcessOptions{}, 4);
  const float v[4] = {0, 0, 0, 0};
  s.Process(100, v, nullptr);
  EXPECT_THROW(s.Process(50, v, nullptr), kws::Error);
}

}  // namespace
