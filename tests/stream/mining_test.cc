// Hard-negative mining (stream-eval --dump-false-alarms): which false alarms are written,
// into which folder, under which name, with exactly the stream's audio; and end to end on
// a tone stream where another word sounds like a keyword.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "audio/audio.h"
#include "data/dataset.h"
#include "stream/stream_eval.h"
#include "test_util.h"
#include "util/fs.h"
#include "util/rng.h"

namespace {

namespace fs = std::filesystem;
const std::vector<std::string> kLabels = {"_silence_", "_unknown_", "yes", "no"};

std::vector<float> Tone(double hz, double amp, size_t from = 3200, size_t to = 12800) {
  std::vector<float> x(16000);
  for (size_t i = from; i < to; ++i) x[i] = float(amp * std::sin(2 * M_PI * hz * double(i) / 16000.0));
  return x;
}

std::set<std::string> Files(const fs::path& dir) {
  std::set<std::string> s;
  if (!fs::exists(dir)) return s;
  for (const auto& e : fs::directory_iterator(dir)) s.insert(e.path().filename().string());
  return s;
}

// A Speech Commands-style folder of tones: per speaker i < n, "yes" 500 Hz, "no" 3000 Hz and "up"
// at up_hz, amplitude 0.2 + amp_step * i; 20 s of white noise (seeded) in _background_noise_.
void WriteToneData(const fs::path& root, int n, double up_hz, double amp_step, uint64_t noise_seed) {
  for (const char* d : {"yes", "no", "up", "_background_noise_"}) fs::create_directories(root / d);
  for (int i = 0; i < n; ++i) {
    const std::string spk = "spk" + std::to_string(i) + "_nohash_0.wav";
    const double amp = 0.2 + amp_step * i;
    kws::WriteWav16((root / "yes" / spk).string(), Tone(500, amp), 16000);
    kws::WriteWav16((root / "no" / spk).string(), Tone(3000, amp), 16000);
    kws::WriteWav16((root / "up" / spk).string(), Tone(up_hz, amp), 16000);
  }
  kws::Rng r(noise_seed);
  std::vector<float> noise(16000 * 20);
  for (auto& v : noise) v = float(0.1 * r.Normal());
  kws::WriteWav16((root / "_background_noise_/white.wav").string(), noise, 16000);
}

TEST(Mining, FileNameIsSeedSnrAndTime) {
  EXPECT_EQ(kws::FalseAlarmFileName(7, 10, 123456), "fa_7_10_123456.wav");
  EXPECT_EQ(kws::FalseAlarmFileName(1, -2.5, 0), "fa_1_-2.5_0.wav");
}

// A hand-made 16 kHz plan: noise bed, "yes" at 10 s, another word at 20 s, "no" at 30 s.
TEST(Mining, FolderSplitAndExactAudio) {
  kws::test::TempDir dir("mining");
  kws::WriteWav16(dir / "yes.wav", Tone(500, 0.3), 16000);
  kws::WriteWav16(dir / "up.wav", Tone(1200, 0.3), 16000);
  kws::WriteWav16(dir / "no.wav", Tone(3000, 0.3), 16000);
  kws::BackgroundNoise noise(16000);
  {
    kws::Rng r(3);
    std::vector<float> n(16000 * 60);
    for (auto& v : n) v = float(0.01 * r.Normal());
    noise.Add("white", std::move(n));
  }
  kws::StreamPlan plan;
  plan.sample_rate = 16000;
  plan.total = 16000 * 60;
  plan.noise.push_back({0, 0, 0, plan.total, 1.0f});
  auto ev = [&](kws::StreamEvent::Kind k, int label, const std::string& name, int64_t start_ms) {
    kws::StreamEvent e;
    e.kind = k;
    e.label_index = label;
    e.label = name;
    e.clip = dir / (name + ".wav");
    e.start = start_ms * 16;
    e.end = e.start + 16000;
    e.speech_start = e.start + 3200;  // the tone: 200..800 ms into the clip
    e.speech_end = e.start + 12800;
    e.gain = 0.5f;
    return e;
  };
  using K = kws::StreamEvent::Kind;
  plan.events = {ev(K::kKeyword, 2, "yes", 10000), ev(K::kOther, -1, "up", 20000), ev(K::kKeyword, 3, "no", 30000)};
  const auto det = kws::test::DetectionAt;
  const std::vector<kws::Detection> d = {
      det(500, 3),    // noise, but the window would start before the stream: skipped
      det(5000, 3),   // noise -> _silence_
      det(11000, 2),  // hit: not written
      det(11500, 2),  // repeat: not written
      det(20900, 2),  // on "up" -> _unknown_
      det(31000, 2),  // "yes" on the "no" event, window [30000, 31000) holds all of it -> no/
      det(32200, 2),  // wrong label again, window [31200, 32200) misses the speech: skipped
      det(50000, 2),  // noise -> _silence_
  };
  const kws::ThresholdResult r = kws::ScoreDetections(plan, kLabels, d, 0.9, 1500);
  ASSERT_EQ(r.detections.size(), d.size());
  using SK = kws::ScoredDetection::Kind;
  EXPECT_EQ(r.detections[0].kind, SK::kNoise);
  EXPECT_EQ(r.detections[2].kind, SK::kHit);
  EXPECT_EQ(r.detections[2].event, 0);
  EXPECT_EQ(r.detections[3].kind, SK::kRepeat);
  EXPECT_EQ(r.detections[4].kind, SK::kOtherWord);
  EXPECT_EQ(r.detections[4].event, 1);
  EXPECT_EQ(r.detections[5].kind, SK::kWrongLabel);
  EXPECT_EQ(r.detections[5].event, 2);
  EXPECT_EQ(r.fa_noise, 3);
  EXPECT_EQ(r.fa_noise_late, 0);

  const std::string out = dir / "mined";
  const kws::DumpCounts n = kws::DumpFalseAlarms(plan, noise, r, out, 9, 10, 1.0);
  EXPECT_EQ(n.silence, 2);
  EXPECT_EQ(n.unknown, 1);
  EXPECT_EQ(n.keyword, 1);
  EXPECT_EQ(n.skipped, 2);
  EXPECT_EQ(Files(fs::path(out)), (std::set<std::string>{"_silence_", "_unknown_", "no"}));
  EXPECT_EQ(Files(fs::path(out) / "_silence_"), (std::set<std::string>{"fa_9_10_5000.wav", "fa_9_10_50000.wav"}));
  EXPECT_EQ(Files(fs::path(out) / "_unknown_"), (std::set<std::string>{"fa_9_10_20900.wav"}));
  EXPECT_EQ(Files(fs::path(out) / "no"), (std::set<std::string>{"fa_9_10_31000.wav"}));

  // Each file is exactly the stream's second before the detection (to 16-bit precision).
  const std::map<std::string, int64_t> want = {{"_silence_/fa_9_10_5000.wav", 5000},
                                               {"_unknown_/fa_9_10_20900.wav", 20900},
                                               {"no/fa_9_10_31000.wav", 31000},
                                               {"_silence_/fa_9_10_50000.wav", 50000}};
  for (const auto& [file, ms] : want) {
    const kws::Audio a = kws::ReadAudio((fs::path(out) / file).string(), 16000);
    ASSERT_EQ(a.samples.size(), 16000u) << file;
    kws::StreamRenderer ren(plan, noise);
    std::vector<float> ref(16000);
    ren.Render(ms * 16 - 16000, ref.data(), 16000);
    double max_err = 0, energy = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      max_err = std::max(max_err, double(std::fabs(a.samples[i] - ref[i])));
      energy += double(ref[i]) * ref[i];
    }
    EXPECT_LT(max_err, 1.0 / 32768 + 1e-6) << file;
    EXPECT_GT(energy, 0.0) << file;
  }
  // The word windows hold the word (tone at 0.15 amplitude), the noise windows only noise.
  const kws::Audio up = kws::ReadAudio((fs::path(out) / "_unknown_/fa_9_10_20900.wav").string(), 16000);
  const kws::Audio sil = kws::ReadAudio((fs::path(out) / "_silence_/fa_9_10_5000.wav").string(), 16000);
  float peak_up = 0, peak_sil = 0;
  for (float v : up.samples) peak_up = std::max(peak_up, std::fabs(v));
  for (float v : sil.samples) peak_sil = std::max(peak_sil, std::fabs(v));
  EXPECT_GT(peak_up, 0.12f);
  EXPECT_LT(peak_sil, 0.06f);

  // Deterministic: a second dump gives the same bytes; nothing but the WAVs is left behind.
  const std::string out2 = dir / "mined2";
  kws::DumpFalseAlarms(plan, noise, r, out2, 9, 10, 1.0);
  for (const auto& [file, ms] : want)
    EXPECT_EQ(kws::ReadFile((fs::path(out) / file).string()), kws::ReadFile((fs::path(out2) / file).string())) << file;
  size_t count = 0;
  for (const auto& e : fs::recursive_directory_iterator(out))
    if (e.is_regular_file()) {
      ++count;
      EXPECT_EQ(e.path().extension(), ".wav");
    }
  EXPECT_EQ(count, 4u);
}

// End to end: "up" is a 500 Hz tone like "yes", so the tone scorer fires on it; every such
// false alarm lands in _unknown_, the keyword hits are not written.
TEST(Mining, StreamEvalDumpsFalseAlarmsOnOtherWords) {
  kws::test::TempDir dir("mining_e2e");
  const fs::path root = dir.path / "data";
  WriteToneData(root, 4, 520, 0.02, 5);
  kws::StreamEvalOptions o;
  o.data = {root.string()};
  o.minutes = 2;
  o.snr_db = 10;
  o.seed = 4;
  o.dump_false_alarms = dir / "mined";
  kws::test::ToneScorer sc;
  const kws::StreamEvalResult r = kws::RunStreamEval(o, kws::FeatureOptions{}, kLabels, &sc);
  EXPECT_GT(r.main.hits, 0);
  ASSERT_GT(r.main.fa_other_word, 0);
  EXPECT_EQ(r.main.fa_noise, 0);
  // Every false alarm but the repeats is either written or skipped.
  EXPECT_EQ(r.dumped.silence + r.dumped.unknown + r.dumped.keyword + r.dumped.skipped,
            r.main.false_alarms - r.main.fa_repeat);
  EXPECT_GT(r.dumped.unknown, 0);
  EXPECT_EQ(r.dumped.silence, 0);
  std::set<std::string> want;
  for (const auto& d : r.main.detections)
    if (d.kind == kws::ScoredDetection::Kind::kOtherWord) want.insert(kws::FalseAlarmFileName(4, 10, d.time_ms));
  const std::set<std::string> got = Files(fs::path(o.dump_false_alarms) / "_unknown_");
  EXPECT_EQ(got.size(), size_t(r.dumped.unknown));
  for (const auto& f : got) EXPECT_TRUE(want.count(f)) << f;
  EXPECT_FALSE(fs::exists(fs::path(o.dump_false_alarms) / "_silence_"));
}

// The CLI: --dump-false-alarms reports what it wrote in the JSON and the files are there;
// --thresholds replays exactly the given list; --sweep with --thresholds is a usage error.
TEST(Mining, CliDumpAndThresholds) {
  kws::test::TempDir dir("mining_cli");
  const fs::path root = dir.path / "data";
  WriteToneData(root, 3, 1200, 0.0, 6);
  const std::string model = dir / "m.tflite";
  kws::AtomicWriteFile(model, kws::test::SeedModelBytes());
  const std::string mined = dir / "mined";
  // An untrained model at a threshold of 0: every detection that is not a hit is a false alarm.
  const std::string base = std::string(KWS_BINARY) + " -q stream-eval --model " + model + " --data " + root.string() +
                           " --minutes 1 --no-vad --min-results 1 --smooth-ms 100 --threshold 0";
  const auto r = kws::test::Sh(base + " --thresholds 0.5,0.9 --dump-false-alarms " + mined + " --json 2>/dev/null");
  ASSERT_EQ(r.rc, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["sweep"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["sweep"][0]["threshold"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["sweep"][1]["threshold"].get<double>(), 0.9);
  const auto& d = j["dumped_false_alarms"];
  const int fa = j["result"]["false_alarms"].get<int>();
  ASSERT_GT(fa, 0);
  EXPECT_EQ(d["silence"].get<int>() + d["unknown"].get<int>() + d["keyword"].get<int>() + d["skipped"].get<int>(),
            fa - j["result"]["false_alarm_kinds"]["repeat"].get<int>());
  EXPECT_EQ(int(Files(fs::path(mined) / "_silence_").size()), d["silence"].get<int>());
  EXPECT_EQ(int(Files(fs::path(mined) / "_unknown_").size()), d["unknown"].get<int>());
  EXPECT_GT(d["silence"].get<int>() + d["unknown"].get<int>(), 0);
  EXPECT_EQ(kws::test::Sh(base + " --sweep --thresholds 0.5 2>/dev/null").rc, 1);
}

// The JSON says how many recordings and speakers the recall rests on and lists the missed clips;
// the missed clips' misses add up to the keyword misses. The table says it too.
TEST(StreamEvalCli, ClipsSpeakersAndMissedClips) {
  kws::test::TempDir dir("stream_eval_cli_clips");
  const fs::path root = dir.path / "data";
  WriteToneData(root, 3, 1200, 0.02, 6);  // distinct levels: identical files would count as one
  const std::string model = dir / "m.tflite";
  kws::AtomicWriteFile(model, kws::test::SeedModelBytes());
  const std::string base = std::string(KWS_BINARY) + " -q stream-eval --model " + model + " --data " + root.string() +
                           " --minutes 2 --no-vad --min-results 1 --smooth-ms 100 --threshold 0.5";
  const auto r = kws::test::Sh(base + " --thresholds 0.9 --json 2>/dev/null");
  ASSERT_EQ(r.rc, 0) << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  const auto& res = j["result"];
  int clips = 0, misses = 0;
  for (const char* k : {"yes", "no"}) {
    const auto& kw = res["keywords"][k];
    EXPECT_EQ(kw["clips"].get<int>(), 3) << k;  // WriteToneData: 3 clips of each word, one speaker each
    EXPECT_EQ(kw["speakers"].get<int>(), 3) << k;
    EXPECT_LE(kw["clips_never_found"].get<int>(), 3);
    EXPECT_GT(kw["events"].get<int>(), kw["clips"].get<int>()) << k;  // 2 minutes reuse every clip
    clips += kw["clips"].get<int>();
    misses += kw["events"].get<int>() - kw["hits"].get<int>();
  }
  ASSERT_TRUE(res["missed_clips"].is_array());
  int listed = 0;
  for (const auto& c : res["missed_clips"]) {
    EXPECT_TRUE(fs::exists(c["clip"].get<std::string>())) << c;
    EXPECT_TRUE(c["label"] == "yes" || c["label"] == "no") << c;
    EXPECT_LT(c["hits"].get<int>(), c["events"].get<int>());
    listed += c["events"].get<int>() - c["hits"].get<int>();
  }
  EXPECT_GT(misses, 0);  // an untrained model
  EXPECT_EQ(listed, misses);
  EXPECT_LE(int(res["missed_clips"].size()), clips);
  const double lo = res["recall_ci90"][0].get<double>(), hi = res["recall_ci90"][1].get<double>();
  EXPECT_LE(lo, res["recall"].get<double>());
  EXPECT_GE(hi, res["recall"].get<double>());
  EXPECT_FALSE(j["sweep"][0].contains("missed_clips"));  // only the main result and the operating point list them
  const auto t = kws::test::Sh(base + " 2>/dev/null");
  ASSERT_EQ(t.rc, 0);
  EXPECT_NE(t.out.find("never found"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("90% interval over speakers"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("from 6 recordings"), std::string::npos) << t.out;
}

// stream-eval takes the model's detector settings where no flag is given (and says so in the JSON).
TEST(StreamEvalCli, ModelDetectorSettingsUnlessFlagged) {
  kws::test::TempDir dir("stream_eval_cli_detector");
  const fs::path root = dir.path / "data";
  WriteToneData(root, 3, 1200, 0.0, 6);
  const std::string plain = dir / "plain.tflite", tuned = dir / "tuned.tflite";
  kws::AtomicWriteFile(plain, kws::test::SeedModelBytes());
  kws::AtomicWriteFile(tuned, kws::test::SeedModelBytes(kws::QuantMode::kFloat, true, 1,
                                                         {{"smooth_ms", 250}, {"min_results", 2}, {"vad", false}}));
  auto run = [&](const std::string& model, const std::string& flags) {
    const auto r = kws::test::Sh(std::string(KWS_BINARY) + " -q stream-eval --model " + model + " --data " +
                                 root.string() + " --minutes 0.5 --json " + flags + " 2>/dev/null");
    EXPECT_EQ(r.rc, 0) << r.out;
    return nlohmann::json::parse(r.out, nullptr, false);
  };
  const nlohmann::json p = run(plain, ""), t = run(tuned, ""), f = run(tuned, "--smooth-ms 100");
  ASSERT_TRUE(p.is_object() && t.is_object() && f.is_object());
  EXPECT_EQ(p["detector_settings"], "defaults");
  EXPECT_DOUBLE_EQ(p["smooth_ms"].get<double>(), kws::DetectorOptions{}.post.smooth_ms);
  EXPECT_EQ(t["detector_settings"], "model");
  EXPECT_DOUBLE_EQ(t["smooth_ms"].get<double>(), 250);
  EXPECT_EQ(t["min_results"], 2);
  EXPECT_EQ(t["vad"], false);
  EXPECT_DOUBLE_EQ(f["smooth_ms"].get<double>(), 100);  // the flag wins
  EXPECT_EQ(f["min_results"], 2);                       // the rest still from the model
}

}  // namespace
