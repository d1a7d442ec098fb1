// stream-eval end to end on a generated tone dataset with the tone scorer: every keyword
// found, no false alarms, delays inside the tolerance; scoring rules on hand-made detections;
// the SVG helper; the result's JSON and table.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "audio/audio.h"
#include "report/plots.h"
#include "stream/stream_eval.h"
#include "test_util.h"
#include "util/error.h"
#include "util/rng.h"

namespace {

namespace fs = std::filesystem;
const std::vector<std::string> kLabels = {"_silence_", "_unknown_", "yes", "no"};

std::vector<float> ToneClip(double hz, uint64_t seed) {
  kws::Rng r(seed);
  std::vector<float> x(16000);
  const double amp = 0.1 + 0.2 * r.Uniform();  // levels differ; stream-eval normalises to the SNR
  for (size_t i = 3200; i < 12800; ++i) x[i] = float(amp * std::sin(2 * M_PI * hz * double(i) / 16000.0));
  return x;
}

void MakeToneDataset(const std::string& root) {
  for (const char* d : {"yes", "no", "up", "_background_noise_"}) fs::create_directories(fs::path(root) / d);
  for (int i = 0; i < 6; ++i) {
    const std::string spk = "spk" + std::to_string(i);
    kws::WriteWav16(root + "/yes/" + spk + "_nohash_0.wav", ToneClip(500, 10 + i), 16000);
    kws::WriteWav16(root + "/no/" + spk + "_nohash_0.wav", ToneClip(3000, 20 + i), 16000);
    kws::WriteWav16(root + "/up/" + spk + "_nohash_0.wav", ToneClip(1200, 30 + i), 16000);  // another word
  }
  kws::Rng r(5);
  std::vector<float> n(16000 * 20);
  for (auto& v : n) v = float(0.1 * r.Normal());
  kws::WriteWav16(root + "/_background_noise_/white.wav", n, 16000);
}

TEST(StreamEval, ToneStreamAllFoundNoFalseAlarms) {
  kws::test::TempDir dir("eval");
  const std::string root = dir / "data";
  MakeToneDataset(root);
  kws::StreamEvalOptions o;
  o.data = {root};
  o.minutes = 2;
  o.snr_db = 10;
  o.seed = 3;
  o.sweep = {0.5, 0.99};
  kws::test::ToneScorer sc;
  const kws::StreamEvalResult r = kws::RunStreamEval(o, kws::FeatureOptions{}, kLabels, &sc);
  EXPECT_NEAR(r.audio_seconds, 120.0, 1e-9);
  EXPECT_GT(r.keyword_events, 10);
  EXPECT_GT(r.other_events, 3);
  EXPECT_EQ(r.main.events, r.keyword_events);
  EXPECT_EQ(r.main.hits, r.main.events);
  EXPECT_EQ(r.main.false_alarms, 0);
  EXPECT_EQ(r.main.fa_per_hour, 0.0);
  // Tone ends 0.8 s into the clip; the 1 s average passes 0.9 within ~1.2 s of that.
  EXPECT_GE(r.main.mean_delay_ms, 0.0);
  EXPECT_LE(r.main.median_delay_ms, 1200.0);
  ASSERT_EQ(r.main.keywords.size(), 2u);
  EXPECT_EQ(r.main.keywords[0].label, "yes");
  EXPECT_GT(r.main.keywords[0].events, 0);
  EXPECT_GT(r.main.keywords[1].events, 0);
  ASSERT_EQ(r.sweep.size(), 2u);
  EXPECT_EQ(r.sweep[0].hits, r.main.events);
  EXPECT_GT(r.real_time_factor, 0.0);
  EXPECT_GT(r.peak_rss_kb, 0);

  // Same seed -> same plan; another seed -> another plan.
  const kws::Dataset ds = kws::LoadDataset(root);
  const kws::BackgroundNoise noise(ds, 16000);
  const auto p1 = kws::PlanStream(ds, noise, kLabels, o), p2 = kws::PlanStream(ds, noise, kLabels, o);
  ASSERT_EQ(p1.events.size(), p2.events.size());
  for (size_t i = 0; i < p1.events.size(); ++i) {
    EXPECT_EQ(p1.events[i].start, p2.events[i].start);
    EXPECT_EQ(p1.events[i].clip, p2.events[i].clip);
  }
  o.seed = 4;
  const auto p3 = kws::PlanStream(ds, noise, kLabels, o);
  EXPECT_NE(p3.events[0].start + int64_t(p3.events.size()), p1.events[0].start + int64_t(p1.events.size()));
  // Gaps after clips are at least the suppression time.
  for (size_t i = 0; i + 1 < p1.events.size(); ++i)
    if (p1.events[i].kind != kws::StreamEvent::Kind::kNoise)
      EXPECT_GE(p1.events[i + 1].start - p1.events[i].end, int64_t(1.5 * 16000));
}

TEST(StreamEval, ScoringRules) {
  kws::StreamPlan plan;
  plan.sample_rate = 1000;  // 1 sample = 1 ms
  plan.total = 3600 * 1000;  // one hour
  auto ev = [](kws::StreamEvent::Kind k, int label, int64_t s, int64_t e) {
    kws::StreamEvent x;
    x.kind = k;
    x.label_index = label;
    x.start = s;
    x.end = s + 1000;
    x.speech_start = s + 200;
    x.speech_end = e;
    return x;
  };
  using K = kws::StreamEvent::Kind;
  plan.events = {ev(K::kKeyword, 2, 10000, 10800), ev(K::kKeyword, 3, 20000, 20700), ev(K::kOther, -1, 30000, 30800),
                 ev(K::kKeyword, 2, 40000, 40800)};
  const auto det = kws::test::DetectionAt;
  const std::vector<kws::Detection> d = {
      det(5000, 2),   // on noise
      det(11300, 2),  // hit, delay 500
      det(11900, 2),  // repeat on the same event
      det(20900, 2),  // wrong label on "no"
      det(22000, 3),  // hit, delay 1300 (inside 1500 tolerance)
      det(30500, 3),  // on another word
      det(42400, 2),  // 1600 after speech end: too late -> false alarm on noise; event missed
  };
  const kws::ThresholdResult r = kws::ScoreDetections(plan, kLabels, d, 0.9, 1500);
  EXPECT_EQ(r.events, 3);
  EXPECT_EQ(r.hits, 2);
  EXPECT_EQ(r.false_alarms, 5);
  EXPECT_EQ(r.fa_noise, 2);
  EXPECT_EQ(r.fa_repeat, 1);
  EXPECT_EQ(r.fa_wrong_label, 1);
  EXPECT_EQ(r.fa_other_word, 1);
  EXPECT_DOUBLE_EQ(r.fa_per_hour, 5.0);
  EXPECT_DOUBLE_EQ(r.mean_delay_ms, 900.0);
  EXPECT_DOUBLE_EQ(r.median_delay_ms, 900.0);
  EXPECT_EQ(r.keywords[0].events, 2);
  EXPECT_EQ(r.keywords[0].hits, 1);
  EXPECT_EQ(r.keywords[1].hits, 1);
}

// Clips reused across events are counted once; the speaker bootstrap brackets the recall.
TEST(StreamEval, ClipsSpeakersAndRecallInterval) {
  kws::StreamPlan plan;
  plan.sample_rate = 1000;
  plan.total = 3600 * 1000;
  auto ev = [](const char* clip, const char* speaker, int label, int64_t s) {
    kws::StreamEvent x;
    x.kind = kws::StreamEvent::Kind::kKeyword;
    x.label_index = label;
    x.clip = clip;
    x.speaker = speaker;
    x.start = s;
    x.end = s + 1000;
    x.speech_start = s + 200;
    x.speech_end = s + 800;
    return x;
  };
  // "yes": clip a (speaker A) used 3 times, clip b (speaker B) twice; "no": clip c (speaker A) twice.
  plan.events = {ev("a", "A", 2, 10000), ev("b", "B", 2, 20000), ev("c", "A", 3, 30000), ev("a", "A", 2, 40000),
                 ev("b", "B", 2, 50000), ev("c", "A", 3, 60000), ev("a", "A", 2, 70000)};
  const auto det = kws::test::DetectionAt;
  // Hits: every event of a, one of c, none of b.
  const std::vector<kws::Detection> d = {det(10900, 2), det(30900, 3), det(40900, 2), det(70900, 2)};
  const kws::ThresholdResult r = kws::ScoreDetections(plan, kLabels, d, 0.9, 1500);
  ASSERT_EQ(r.hits, 4);
  ASSERT_EQ(r.keywords.size(), 2u);
  EXPECT_EQ(r.keywords[0].events, 5);
  EXPECT_EQ(r.keywords[0].clips, 2);
  EXPECT_EQ(r.keywords[0].speakers, 2);
  EXPECT_EQ(r.keywords[0].clips_never_found, 1);  // b
  EXPECT_EQ(r.keywords[1].clips, 1);
  EXPECT_EQ(r.keywords[1].speakers, 1);
  EXPECT_EQ(r.keywords[1].clips_never_found, 0);
  ASSERT_EQ(r.clips.size(), 3u);
  EXPECT_EQ(r.clips[0].clip, "a");
  EXPECT_EQ(r.clips[0].events, 3);
  EXPECT_EQ(r.clips[0].hits, 3);
  EXPECT_EQ(r.clips[1].clip, "b");
  EXPECT_EQ(r.clips[1].speaker, "B");
  EXPECT_EQ(r.clips[1].hits, 0);
  EXPECT_EQ(r.clips[2].clip, "c");
  EXPECT_EQ(r.clips[2].hits, 1);
  // Speaker A: 4 of 5 events hit, speaker B: 0 of 2. Resamples are AA (0.8), AB/BA (4/7) or BB (0):
  // the 5th percentile is 0 (BB has probability 1/4), the 95th 0.8.
  EXPECT_DOUBLE_EQ(r.recall_low, 0.0);
  EXPECT_DOUBLE_EQ(r.recall_high, 0.8);
  EXPECT_LE(r.recall_low, r.recall());
  EXPECT_GE(r.recall_high, r.recall());

  // Every event found: the interval is the point.
  std::vector<kws::Detection> all;
  for (const auto& e : plan.events) all.push_back(det(e.speech_end + 100, e.label_index));
  const kws::ThresholdResult p = kws::ScoreDetections(plan, kLabels, all, 0.9, 1500);
  EXPECT_EQ(p.hits, 7);
  EXPECT_DOUBLE_EQ(p.recall_low, 1.0);
  EXPECT_DOUBLE_EQ(p.recall_high, 1.0);
  EXPECT_EQ(p.keywords[0].clips_never_found, 0);
}

TEST(StreamEval, OperatingPointIsTheBestRecallWithinTheBudget) {
  auto at = [](double th, int hits, int fa, double fa_h) {
    kws::ThresholdResult t;
    t.threshold = th;
    t.events = 100;
    t.hits = hits;
    t.false_alarms = fa;
    t.fa_per_hour = fa_h;
    return t;
  };
  kws::StreamEvalResult r;
  r.main = at(0.9, 60, 1, 0.5);
  r.sweep = {at(0.5, 90, 40, 20), at(0.7, 75, 2, 1.0), at(0.8, 75, 1, 0.5), at(0.85, 75, 1, 0.5), at(0.99, 20, 0, 0)};
  const kws::ThresholdResult* op = kws::OperatingPoint(r, 1.0);
  ASSERT_NE(op, nullptr);
  EXPECT_DOUBLE_EQ(op->threshold, 0.85);  // 75 hits within 1/hour; fewest false alarms, then the higher threshold
  op = kws::OperatingPoint(r, 0.1);
  ASSERT_NE(op, nullptr);
  EXPECT_DOUBLE_EQ(op->threshold, 0.99);
  op = kws::OperatingPoint(r, 100);
  ASSERT_NE(op, nullptr);
  EXPECT_DOUBLE_EQ(op->threshold, 0.5);
  r.sweep.clear();
  r.main = at(0.9, 60, 10, 5);
  EXPECT_EQ(kws::OperatingPoint(r, 1.0), nullptr);
  EXPECT_EQ(kws::OperatingPoint(r, 5.0), &r.main);  // the budget is inclusive
}

// The result renders its own report: JSON fields and table lines of a hand-made result.
TEST(StreamEval, ResultRendersJsonAndTable) {
  kws::StreamEvalOptions opts;
  opts.minutes = 2;
  opts.snr_db = 10;
  opts.seed = 3;
  kws::StreamEvalResult r;
  r.audio_seconds = 120;
  r.keyword_events = 4;
  r.main.threshold = 0.8;
  r.main.events = 4;
  r.main.hits = 3;
  r.main.false_alarms = 1;
  r.main.fa_noise = 1;
  r.main.fa_per_hour = 30;
  kws::KeywordStats yes;
  yes.label = "yes";
  yes.events = 4;
  yes.hits = 3;
  yes.clips = 2;
  yes.speakers = 2;
  yes.clips_never_found = 0;
  r.main.keywords = {yes};
  r.main.clips = {{"yes/a.wav", "a", 2, 2, 2}, {"yes/b.wav", "b", 2, 2, 1}};
  r.main.detections = {{1500, 2, kws::ScoredDetection::Kind::kHit, 0}};
  kws::StreamEvalReportOptions how;
  how.model = "m.tflite";
  how.fa_budget = 40;
  how.list_detections = true;

  const nlohmann::json j = r.ToJson(opts, kLabels, how);
  EXPECT_EQ(j.at("model"), "m.tflite");
  EXPECT_EQ(j.at("detector_settings"), "defaults");
  EXPECT_DOUBLE_EQ(j.at("result").at("recall").get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j.at("result").at("false_rejection_rate").get<double>(), 0.25);
  EXPECT_EQ(j.at("result").at("keywords").at("yes").at("hits"), 3);
  ASSERT_EQ(j.at("result").at("missed_clips").size(), 1u);  // only b.wav was missed (once)
  EXPECT_EQ(j.at("result").at("missed_clips")[0].at("clip"), "yes/b.wav");
  EXPECT_EQ(j.at("result").at("missed_clips")[0].at("label"), "yes");
  EXPECT_EQ(j.at("result").at("detections")[0].at("kind"), "hit");
  EXPECT_DOUBLE_EQ(j.at("operating_point").at("result").at("threshold").get<double>(), 0.8);  // 30/h <= 40/h
  EXPECT_FALSE(j.contains("sweep"));
  EXPECT_FALSE(j.contains("dumped_false_alarms"));

  const std::string t = r.Table(opts, how);
  EXPECT_EQ(t.rfind("stream      2.0 min, 4 keyword events, 0 other words, 0 noise stretches, SNR 10 dB, seed 3\n", 0),
            0u)
      << t;
  EXPECT_NE(t.find("yes                4      3   75.00%   25.00%      2        2            0\n"), std::string::npos)
      << t;
  EXPECT_NE(t.find("; 4 events from 2 recordings (each used ~2.0x)"), std::string::npos) << t;
  EXPECT_NE(t.find("false alarms 1 = 30.00 per hour (wrong label 0, repeat 0, on other words 0, on noise 1)\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("\nat <= 40 false alarms/hour: recall 75.00%"), std::string::npos) << t;
  how.fa_budget = 1;
  EXPECT_NE(r.Table(opts, how).find("\nat <= 1 false alarms/hour: no threshold tried gets there"), std::string::npos);
}

TEST(StreamEval, MissingDataOrNoiseIsAnError) {
  kws::test::TempDir dir("eval_bad");
  kws::StreamEvalOptions o;
  o.data = {dir / "none"};
  kws::test::ToneScorer sc;
  EXPECT_THROW(kws::RunStreamEval(o, kws::FeatureOptions{}, kLabels, &sc), kws::Error);
  fs::create_directories(dir.path / "d" / "yes");
  kws::WriteWav16(dir / "d/yes/a_nohash_0.wav", ToneClip(500, 1), 16000);
  kws::WriteWav16(dir / "d/no/../yes/b_nohash_0.wav", ToneClip(500, 2), 16000);
  o.data = {dir / "d"};
  EXPECT_THROW(kws::RunStreamEval(o, kws::FeatureOptions{}, kLabels, &sc), kws::Error);  // no noise, no "no"
}

TEST(Svg, LinePlotHasSeriesPointsAndEscapedText) {
  kws::LineChart p;
  p.title = "recall <vs> FA & more";
  p.x_label = "false alarms / hour";
  p.y_label = "recall";
  p.markers = true;
  p.series.push_back({"sweep", {0, 1.5, 4}, {0.8, 0.9, 0.97}, {"0.99", "0.9", "0.5"}});
  const std::string s = kws::LineChartSvg(p);
  EXPECT_EQ(s.rfind("<svg", 0), 0u);
  EXPECT_NE(s.find("</svg>"), std::string::npos);
  EXPECT_NE(s.find("recall &lt;vs&gt; FA &amp; more"), std::string::npos);
  EXPECT_NE(s.find("<polyline"), std::string::npos);
  size_t circles = 0;
  for (size_t i = s.find("<circle"); i != std::string::npos; i = s.find("<circle", i + 1)) ++circles;
  EXPECT_EQ(circles, 3u);
  EXPECT_NE(s.find(">0.9<"), std::string::npos);
  EXPECT_EQ(s.find("stroke-dasharray"), std::string::npos);
  // A budget line widens the x range to include it; a label that would sit on the previous one is
  // left out (its marker stays).
  p.x_lines.push_back({10, "1 false alarm/hour"});
  p.series[0].x.push_back(4.01);
  p.series[0].y.push_back(0.971);
  p.series[0].point_labels.push_back("0.45");
  const std::string t = kws::LineChartSvg(p);
  EXPECT_NE(t.find("stroke-dasharray"), std::string::npos);
  EXPECT_NE(t.find(">1 false alarm/hour<"), std::string::npos);
  EXPECT_NE(t.find(">10<"), std::string::npos);  // an x tick at the line
  EXPECT_NE(t.find(">0.5<"), std::string::npos);
  EXPECT_EQ(t.find(">0.45<"), std::string::npos);
  circles = 0;
  for (size_t i = t.find("<circle"); i != std::string::npos; i = t.find("<circle", i + 1)) ++circles;
  EXPECT_EQ(circles, 4u);
  p.series[0].point_labels.pop_back();
  EXPECT_THROW(kws::LineChartSvg(p), kws::Error);
}

}  // namespace

namespace {

// Held-out protocol: speakers present in another folder never reach the stream.
TEST(StreamEval, ExcludeSpeakersOfDropsSeenSpeakers) {
  kws::test::TempDir dir("excl");
  const std::string root = dir / "data", train = dir / "train";
  MakeToneDataset(root);
  fs::create_directories(fs::path(train) / "yes");
  fs::create_directories(fs::path(train) / "up");
  kws::WriteWav16(train + "/yes/spk0_nohash_3.wav", ToneClip(500, 1), 16000);
  kws::WriteWav16(train + "/up/spk1_nohash_0.wav", ToneClip(1200, 2), 16000);
  kws::Dataset ds = kws::LoadDataset(root);
  const size_t before = ds.clips.size();
  EXPECT_EQ(kws::ExcludeSpeakersOf(ds, {train}), 6);  // spk0 and spk1: 3 clips each
  EXPECT_EQ(ds.clips.size(), before - 6);
  for (const auto& c : ds.clips) EXPECT_TRUE(c.speaker != "spk0" && c.speaker != "spk1") << c.path;
  // Planned streams use only the other speakers.
  kws::StreamEvalOptions o;
  o.data = {root};
  o.minutes = 1;
  o.exclude_speakers_of = {train};
  kws::test::ToneScorer sc;
  const kws::StreamEvalResult r = kws::RunStreamEval(o, kws::FeatureOptions{}, kLabels, &sc);
  EXPECT_EQ(r.excluded_clips, 6);
  EXPECT_EQ(r.speakers, 4);
  EXPECT_EQ(r.main.hits, r.main.events);
  const kws::BackgroundNoise noise(ds, 16000);
  const kws::StreamPlan plan = kws::PlanStream(ds, noise, kLabels, o);
  for (const auto& e : plan.events)
    if (e.kind != kws::StreamEvent::Kind::kNoise) {
      EXPECT_EQ(e.clip.find("spk0_"), std::string::npos);
      EXPECT_EQ(e.clip.find("spk1_"), std::string::npos);
    }
}

TEST(StreamEval, NoisePartKeepsOnlyThatStretch) {
  kws::BackgroundNoise n(16000);
  std::vector<float> x(1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  n.Add("ramp", x);
  const kws::BackgroundNoise tail = kws::NoisePart(n, 0.75, 1.0);
  ASSERT_EQ(tail.size(), 1);
  ASSERT_EQ(tail.samples(0).size(), 250u);
  EXPECT_EQ(tail.samples(0).front(), 750.0f);
  EXPECT_EQ(tail.samples(0).back(), 999.0f);
  const kws::BackgroundNoise head = kws::NoisePart(n, 0.0, 0.6);
  EXPECT_EQ(head.samples(0).size(), 600u);
  EXPECT_EQ(head.samples(0).back(), 599.0f);
  kws::StreamEvalOptions o;
  o.data = {"x"};
  o.noise_from = 0.8;
  o.noise_to = 0.5;
  EXPECT_THROW(o.Validate(), kws::Error);
}

// Speech stays at speech_dbfs whatever the SNR (the noise moves), so high SNRs do not clip.
TEST(StreamEval, NoiseLevelFollowsSnr) {
  kws::StreamEvalOptions o;
  o.snr_db = 10;
  EXPECT_DOUBLE_EQ(o.NoiseDbfs(), -30);
  o.snr_db = 30;
  EXPECT_DOUBLE_EQ(o.NoiseDbfs(), -50);
  o.noise_dbfs = -40;
  EXPECT_DOUBLE_EQ(o.NoiseDbfs(), -40);
  kws::test::TempDir dir("lvl");
  const std::string root = dir / "data";
  MakeToneDataset(root);
  const kws::Dataset ds = kws::LoadDataset(root);
  const kws::BackgroundNoise noise(ds, 16000);
  kws::StreamEvalOptions a;
  a.data = {root};
  a.minutes = 0.5;
  a.snr_db = 30;
  const kws::StreamPlan plan = kws::PlanStream(ds, noise, kLabels, a);
  kws::StreamRenderer render(plan, noise);
  std::vector<float> buf(size_t(plan.total));
  render.Render(0, buf.data(), int(plan.total));
  int clipped = 0;
  for (float v : buf) clipped += std::fabs(v) >= 1.0f;
  EXPECT_EQ(clipped, 0);
  // Noise-only lead-in (first second) at about -50 dBFS.
  double s = 0;
  for (int i = 0; i < 8000; ++i) s += double(buf[size_t(i)]) * buf[size_t(i)];
  EXPECT_NEAR(10 * std::log10(s / 8000), -50, 1.5);
}

}  // namespace

namespace {

// tests/stream/split_pool.py: every speaker in exactly one part, noise cut by time with nothing
// shared or lost, no _silence_ folder; then --exclude-speakers-of train,tune leaves exactly eval.
TEST(StreamEval, SplitPoolIsSpeakerAndNoiseDisjoint) {
  if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  kws::test::TempDir dir("split");
  const std::string root = dir / "data", out = dir / "split";
  MakeToneDataset(root);
  fs::create_directories(fs::path(root) / "_unknown_");
  fs::create_directories(fs::path(root) / "_silence_");
  for (int i = 0; i < 40; ++i) {
    const std::string spk = "u" + std::to_string(i);
    kws::WriteWav16(root + "/_unknown_/bed_" + spk + "_nohash_0.wav", ToneClip(900, 40 + i), 16000);
    kws::WriteWav16(root + "/yes/" + spk + "_nohash_1.wav", ToneClip(500, 90 + i), 16000);
  }
  kws::WriteWav16(root + "/_silence_/1.wav", std::vector<float>(16000, 0.0f), 16000);
  const auto r = kws::test::Sh("/usr/bin/python3 " KWS_SOURCE_DIR "/tests/stream/split_pool.py " + root + " " + out);
  ASSERT_EQ(r.rc, 0) << r.out;
  std::map<std::string, std::set<std::string>> parts;  // speaker -> parts
  size_t noise_total = 0;
  for (const char* p : {"train", "tune", "eval"}) {
    EXPECT_FALSE(fs::exists(fs::path(out) / p / "_silence_"));
    const kws::Dataset ds = kws::LoadDataset(out + "/" + p);
    for (const auto& c : ds.clips) {
      ASSERT_TRUE(c.has_speaker) << c.path;
      parts[c.speaker].insert(p);
    }
    noise_total += kws::ReadAudio(out + "/" + p + "/_background_noise_/white.wav", 16000).samples.size();
  }
  EXPECT_EQ(parts.size(), 46u);  // spk0..5 + u0..39, _unknown_ speakers parsed from WORD_<speaker>
  std::map<std::string, int> per_part;
  for (const auto& [spk, ps] : parts) {
    EXPECT_EQ(ps.size(), 1u) << spk;
    ++per_part[*ps.begin()];
  }
  EXPECT_GT(per_part["train"], per_part["eval"]);
  EXPECT_GT(per_part["eval"], 0);
  EXPECT_GT(per_part["tune"], 0);
  EXPECT_EQ(noise_total, size_t(16000 * 20));
  kws::Dataset all = kws::LoadDataset(root);
  kws::ExcludeSpeakersOf(all, {out + "/train", out + "/tune"});
  const kws::Dataset eval = kws::LoadDataset(out + "/eval");
  size_t with_speaker = 0;
  for (const auto& c : all.clips) with_speaker += c.has_speaker;
  EXPECT_EQ(with_speaker, eval.clips.size());
}

}  // namespace
