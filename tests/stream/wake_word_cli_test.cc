// `kws listen --model MANIFEST.json` through the real binary (errors and exit codes, the small model
// of wake_word_util.h), and end to end with microWakeWord's okay_nabu (../shared/reference) on
// "okay nabu" spoken by espeak-ng (skipped when either is missing).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "stream/wake_word.h"
#include "synth/tts.h"
#include "test_util.h"
#include "util/fs.h"
#include "util/rng.h"
#include "wake_word_util.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using kws::test::Lines;
using kws::test::Sh;

const std::string kBin = KWS_BINARY;

json Manifest(const std::string& model, double cutoff = 0.5, int window = 3) {
  return {{"type", "micro"},
          {"wake_word", "Tiny Word"},
          {"model", model},
          {"version", 2},
          {"micro", {{"probability_cutoff", cutoff}, {"feature_step_size", 10}, {"sliding_window_size", window}}}};
}

class WakeWordCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<kws::test::TempDir>("ww_cli");
    kws::AtomicWriteFile(P("tiny.tflite"), kws::test::TinyModel({1, 3, 40}));
    kws::AtomicWriteFile(P("tiny.json"), Manifest("tiny.tflite").dump());
  }
  std::string P(const std::string& f) const { return (*dir_) / f; }
  // kws listen; stdout (detections), stderr saved to err.txt.
  kws::test::RunResult Listen(const std::string& args) { return Sh(kBin + " listen " + args + " 2> " + P("err.txt")); }
  std::string Err() const { return kws::ReadFile(P("err.txt")); }
  std::unique_ptr<kws::test::TempDir> dir_;
};

TEST_F(WakeWordCli, DetectionsAreTheLibrarysInEveryInputForm) {
  const std::vector<float> x = kws::test::Bursts(7.0, 5);
  kws::WriteWav16(P("bursts.wav"), x, 16000);
  // The library on the samples as a 16-bit WAV holds them.
  kws::WakeWordModel m = kws::LoadWakeWordModel(P("tiny.json"));
  kws::WakeWordDetector det(m, m.options);
  const kws::Audio a = kws::ReadAudio(P("bursts.wav"), 16000);
  std::vector<kws::Detection> want;
  det.Accept(a.samples.data(), a.samples.size(), &want);
  ASSERT_EQ(want.size(), 3u);

  const auto file = Listen("--model " + P("tiny.json") + " --input " + P("bursts.wav") + " --json");
  ASSERT_EQ(file.rc, 0) << Err();
  const auto lines = Lines(file.out);
  ASSERT_EQ(lines.size(), want.size()) << file.out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const json j = json::parse(lines[i]);
    EXPECT_EQ(j["label"], "Tiny Word");
    EXPECT_DOUBLE_EQ(j["t"].get<double>(), double(want[i].time_ms) / 1000.0);
    EXPECT_NEAR(j["score"].get<double>(), want[i].score, 1e-4);
  }
  const json summary = json::parse(Lines(Err()).back());
  EXPECT_EQ(summary["detections"], 3);
  EXPECT_EQ(summary["hops"], det.stats().hops);
  EXPECT_EQ(summary["inferences"], det.stats().inferences);
  EXPECT_EQ(summary["gated"], 0);
  // stdin: a WAV stream (arecord's output) and raw s16le give the same lines.
  const auto wav_stdin = Listen("--model " + P("tiny.json") + " < " + P("bursts.wav"));
  EXPECT_EQ(wav_stdin.rc, 0) << Err();
  EXPECT_EQ(wav_stdin.out, file.out);
  std::string pcm;
  for (float v : a.samples) {
    const int16_t q = int16_t(std::lround(v * 32768.0f));
    pcm.push_back(char(uint16_t(q) & 0xff));
    pcm.push_back(char(uint16_t(q) >> 8));
  }
  kws::AtomicWriteFile(P("bursts.raw"), pcm);
  const auto raw = Listen("--model " + P("tiny.json") + " --input " + P("bursts.raw"));
  EXPECT_EQ(raw.rc, 0) << Err();
  EXPECT_EQ(raw.out, file.out);
  // --threshold replaces the manifest's probability_cutoff; --scores prints every output.
  const auto strict = Listen("--model " + P("tiny.json") + " --input " + P("bursts.wav") + " --threshold 1 --scores");
  EXPECT_EQ(strict.rc, 0) << Err();
  EXPECT_EQ(strict.out, "");
  EXPECT_NE(Err().find("> 1.00 (uint8 255)"), std::string::npos) << Err();
  EXPECT_NE(Err().find(" p="), std::string::npos) << Err();
}

TEST_F(WakeWordCli, InferScoresEachClipFromAFreshStart) {
  const std::vector<float> x = kws::test::Bursts(4.0, 6);
  kws::WriteWav16(P("loud.wav"), x, 16000);
  kws::WriteWav16(P("quiet.wav"), std::vector<float>(24000, 0.0f), 16000);
  kws::WakeWordModel m = kws::LoadWakeWordModel(P("tiny.json"));
  kws::WakeWordDetector det(m, m.options);
  const kws::Audio a = kws::ReadAudio(P("loud.wav"), 16000);
  const kws::WakeWordClipScore want = kws::ScoreWakeWordClip(det, a.samples.data(), a.samples.size());
  const auto r = Sh(kBin + " infer --model " + P("tiny.json") + " " + P("loud.wav") + " " + P("quiet.wav") +
                    " --json 2> " + P("err.txt"));
  ASSERT_EQ(r.rc, 0) << Err();
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  const json loud = json::parse(lines[0]), quiet = json::parse(lines[1]);
  EXPECT_EQ(loud["file"], P("loud.wav"));
  EXPECT_EQ(loud["wake_word"], "Tiny Word");
  EXPECT_NEAR(loud["score"].get<double>(), want.max_mean, 1e-4);
  EXPECT_NEAR(loud["max_probability"].get<double>(), want.max_probability, 1e-4);
  EXPECT_DOUBLE_EQ(loud["t"].get<double>(), double(want.max_mean_ms) / 1000.0);
  EXPECT_EQ(loud["above_cutoff"], true);
  EXPECT_EQ(loud["detections"], want.detections);
  EXPECT_EQ(quiet["above_cutoff"], false);
  EXPECT_EQ(quiet["detections"], 0);
  const auto table = Sh(kBin + " infer --model " + P("tiny.json") + " " + P("loud.wav") + " 2> " + P("err.txt"));
  EXPECT_EQ(table.rc, 0);
  EXPECT_NE(table.out.find("above cutoff"), std::string::npos) << table.out;
  EXPECT_EQ(Sh(kBin + " infer --model " + P("tiny.json") + " --labels a " + P("loud.wav") + " 2>/dev/null").rc, 1);
  EXPECT_EQ(Sh(kBin + " infer --model " + P("missing.json") + " " + P("loud.wav") + " 2>/dev/null").rc, 2);
}

TEST_F(WakeWordCli, BadManifestsAreBadInputNamingFileAndField) {
  json j = Manifest("tiny.tflite");
  j["micro"].erase("sliding_window_size");
  kws::AtomicWriteFile(P("no_window.json"), j.dump());
  auto r = Listen("--model " + P("no_window.json") + " --input " + P("tiny.tflite"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(Err().find(P("no_window.json") + ": field 'micro.sliding_window_size' is missing"), std::string::npos) << Err();

  j = Manifest("tiny.tflite", 1.7);
  kws::AtomicWriteFile(P("cutoff.json"), j.dump());
  r = Listen("--model " + P("cutoff.json"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(Err().find(P("cutoff.json") + ": field 'micro.probability_cutoff' must be a number in (0, 1] (got 1.7)"),
            std::string::npos)
      << Err();

  kws::AtomicWriteFile(P("absent.json"), Manifest("absent.tflite").dump());
  r = Listen("--model " + P("absent.json"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(Err().find(P("absent.json") + ": field 'model' names " + P("absent.tflite") + ", which does not exist"),
            std::string::npos)
      << Err();

  kws::AtomicWriteFile(P("broken.json"), "{\"type\": \"micro\",");
  r = Listen("--model " + P("broken.json"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(Err().find(P("broken.json") + ": not valid JSON"), std::string::npos) << Err();

  r = Listen("--model " + P("missing.json"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(Err().find(P("missing.json") + ": no such manifest file"), std::string::npos) << Err();
}

TEST_F(WakeWordCli, AModelThatDoesNotFitTheFrontEndIsBadInput) {
  // A kws keyword model ([1, 97, 20, 1] float) named by a manifest, and a wake-word model with 32 channels.
  kws::AtomicWriteFile(P("seed.tflite"), kws::test::SeedModelBytes());
  kws::AtomicWriteFile(P("seed.json"), Manifest("seed.tflite").dump());
  auto r = Listen("--model " + P("seed.json"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(Err().find(P("seed.tflite") + ": input [1, 97, 20, 1] does not match the micro front end, which gives 40 "
                                          "values per frame"),
            std::string::npos)
      << Err();
  kws::AtomicWriteFile(P("narrow.tflite"), kws::test::TinyModel({1, 3, 32}));
  kws::AtomicWriteFile(P("narrow.json"), Manifest("narrow.tflite").dump());
  r = Listen("--model " + P("narrow.json"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(Err().find(P("narrow.tflite") + ": input [1, 3, 32] does not match the micro front end"), std::string::npos)
      << Err();
}

TEST_F(WakeWordCli, KeywordDetectorFlagsAreUsageErrors) {
  for (const std::string flag : {"--smooth-ms 500", "--hop-ms 20", "--label-threshold x=0.5", "--no-vad",
                                 "--frontend micro", "--labels a,b"}) {
    const auto r = Listen("--model " + P("tiny.json") + " " + flag + " < /dev/null");
    EXPECT_EQ(r.rc, 1) << flag;
    EXPECT_NE(Err().find("does not apply to a microWakeWord manifest"), std::string::npos) << flag << ": " << Err();
  }
  const auto r = Listen("--model " + P("tiny.json") + " --threshold 0 < /dev/null");
  EXPECT_EQ(r.rc, 1) << Err();
}

// ---------------------------------------------------------------------------------------------
// okay_nabu on espeak-ng's "okay nabu"
// ---------------------------------------------------------------------------------------------

const fs::path kOkayNabu = fs::path(KWS_SOURCE_DIR) / "../shared/reference/micro_wake_word/okay_nabu.json";

class OkayNabu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kOkayNabu)) GTEST_SKIP() << kOkayNabu << " missing";
    espeak_ = kws::synth::FindProgram("espeak-ng");
    if (espeak_.empty()) GTEST_SKIP() << "espeak-ng not installed";
    dir_ = std::make_unique<kws::test::TempDir>("okay_nabu");
  }
  // "okay nabu" by an espeak-ng voice at 16 kHz, peak-normalized to -6 dBFS.
  std::vector<float> Say(const std::string& voice) {
    const std::string wav = (*dir_) / (voice + ".wav");
    std::string err;
    const int rc = kws::synth::RunProgram({espeak_, "-v", voice, "-w", wav, "okay nabu"}, &err);
    EXPECT_EQ(rc, 0) << err;
    std::vector<float> x = kws::ReadAudio(wav, 16000).samples;
    float peak = 0;
    for (float v : x) peak = std::max(peak, std::fabs(v));
    for (float& v : x) v *= 0.5f / peak;
    return x;
  }
  // Quiet noise (-60 dBFS) with each utterance after `gap_s` seconds; *spans gets their [start, end) ms.
  static std::vector<float> Stream(const std::vector<std::vector<float>>& utterances, double gap_s,
                                   std::vector<std::pair<int64_t, int64_t>>* spans) {
    kws::Rng rng(11);
    std::vector<float> x;
    for (const auto& u : utterances) {
      x.resize(x.size() + size_t(gap_s * 16000), 0.0f);
      spans->emplace_back(int64_t(x.size()) / 16, int64_t(x.size() + u.size()) / 16);
      x.insert(x.end(), u.begin(), u.end());
    }
    x.resize(x.size() + size_t(gap_s * 16000), 0.0f);
    for (float& v : x) v += float(0.001 * (rng.Uniform() * 2 - 1));
    return x;
  }
  std::string espeak_;
  std::unique_ptr<kws::test::TempDir> dir_;
};

TEST_F(OkayNabu, FiresOncePerUtteranceInOneBlockOrMany) {
  kws::WakeWordModel m = kws::LoadWakeWordModel(kOkayNabu.string());
  EXPECT_EQ(m.stride, 3);
  EXPECT_EQ(m.manifest.wake_word, "Okay Nabu");
  EXPECT_EQ(m.options.cutoff_u8(), 247);
  std::vector<std::pair<int64_t, int64_t>> spans;
  const std::vector<float> x = Stream({Say("en-us"), Say("en+m1"), Say("en-us")}, 2.0, &spans);
  kws::WakeWordDetector det(m, m.options);
  std::vector<float> probs;
  det.on_result = [&](int64_t, float p, float) { probs.push_back(p); };
  std::vector<kws::Detection> whole;
  det.Accept(x.data(), x.size(), &whole);
  ASSERT_EQ(whole.size(), spans.size()) << "one detection per utterance";
  for (size_t i = 0; i < whole.size(); ++i) {
    std::printf("[okay nabu %zu] spoken %.2f-%.2f s, fired at %.2f s, mean %.3f\n", i, spans[i].first / 1000.0,
                spans[i].second / 1000.0, whole[i].time_ms / 1000.0, double(whole[i].score));
    EXPECT_GT(whole[i].time_ms, spans[i].first);
    EXPECT_LE(whole[i].time_ms, spans[i].second + 500);
    EXPECT_GT(whole[i].score, 0.97f);
  }
  // The model's streaming state: many blocks, and a Reset, give the same outputs and detections.
  const std::vector<float> first = probs;
  for (const size_t chunk : {size_t(1), size_t(37), size_t(160), size_t(4099)}) {
    det.Reset();
    probs.clear();
    std::vector<kws::Detection> parts;
    for (size_t at = 0; at < x.size(); at += chunk) det.Accept(x.data() + at, std::min(chunk, x.size() - at), &parts);
    EXPECT_EQ(probs, first) << "chunk " << chunk;
    ASSERT_EQ(parts.size(), whole.size()) << "chunk " << chunk;
    for (size_t i = 0; i < parts.size(); ++i) EXPECT_EQ(parts[i].time_ms, whole[i].time_ms);
  }
}

TEST_F(OkayNabu, ListenPrintsOneLinePerUtterance) {
  std::vector<std::pair<int64_t, int64_t>> spans;
  const std::vector<float> x = Stream({Say("en-us"), Say("en-gb+m3")}, 2.5, &spans);
  const std::string wav = (*dir_) / "stream.wav";
  kws::WriteWav16(wav, x, 16000);
  const auto r = Sh(kBin + " listen --model " + kOkayNabu.string() + " --input " + wav + " 2>/dev/null");
  ASSERT_EQ(r.rc, 0);
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const json j = json::parse(lines[i]);
    EXPECT_EQ(j["label"], "Okay Nabu");
    EXPECT_GT(j["t"].get<double>() * 1000, double(spans[i].first));
    EXPECT_LE(j["t"].get<double>() * 1000, double(spans[i].second + 500));
  }
  // Noise alone: nothing.
  const std::string quiet = (*dir_) / "quiet.wav";
  kws::WriteWav16(quiet, Stream({}, 5.0, &spans), 16000);
  EXPECT_EQ(Sh(kBin + " listen --model " + kOkayNabu.string() + " --input " + quiet + " 2>/dev/null").out, "");
}

}  // namespace
