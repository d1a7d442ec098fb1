// `kws listen --input FILE` streams the file (AudioFileReader) instead of loading
// it whole: the detections and every hop's scores are the same as feeding the
// whole-file ReadAudio samples to a Detector hop by hop (the old path), and a
// long file completes with the memory of a short one. Seed-shaped model with
// random weights (scores are meaningless; the plumbing is what is checked).
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numbers>
#include <string>
#include <vector>

#include "audio/audio.h"
#include "stream/detector.h"
#include "test_util.h"
#include "util/fs.h"
#include "util/rng.h"

namespace {

using kws::test::Lines;
using kws::test::Sh;

const std::string kBin = KWS_BINARY;

struct Tone {
  double start_s, seconds, hz;
};

// Writes `seconds` of low-level noise (about -60 dBFS, below the VAD's -50) with
// loud tones at the given times, block by block (the test never holds the file).
void WriteNoiseWithTones(const std::string& path, int rate, int channels, double seconds,
                         const std::vector<Tone>& tones, uint64_t seed) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  kws::Rng rng(seed);
  const int64_t total = int64_t(std::llround(seconds * rate));
  std::vector<float> block;
  for (int64_t at = 0; at < total; at += 65536) {
    const int64_t n = std::min<int64_t>(65536, total - at);
    block.assign(size_t(n) * size_t(channels), 0.0f);
    for (int64_t i = 0; i < n; ++i) {
      const double t = double(at + i) / rate;
      double v = 0.002 * (rng.Uniform() - 0.5);
      for (const Tone& k : tones)
        if (t >= k.start_s && t < k.start_s + k.seconds) v += 0.3 * std::sin(2 * std::numbers::pi * k.hz * t);
      for (int c = 0; c < channels; ++c) block[size_t(i) * size_t(channels) + size_t(c)] = float(c ? 0.8 * v : v);
    }
    ASSERT_EQ(sf_writef_float(f, block.data(), n), n);
  }
  sf_close(f);
}

// One detection as kws listen prints it.
std::string DetectionLine(const kws::Detection& d) {
  nlohmann::json j;
  j["t"] = std::round(double(d.time_ms)) / 1000.0;
  j["label"] = d.name;
  j["score"] = std::round(double(d.score) * 10000.0) / 10000.0;
  return j.dump();
}

class ListenFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<kws::test::TempDir>("file_input");
    model_ = (*dir_) / "m.tflite";
    kws::AtomicWriteFile(model_, kws::test::SeedModelBytes());
  }
  std::string P(const std::string& f) const { return (*dir_) / f; }

  // The old `kws listen --input FILE`: ReadAudio the whole file, feed it hop by hop.
  // Returns detection lines; *score_lines gets what --scores prints per hop.
  std::vector<std::string> WholeFileReference(const std::string& path, double threshold,
                                              std::vector<std::string>* score_lines) {
    kws::DeployedModel m = kws::DeployedModel::Load(model_);
    kws::InterpreterScorer scorer(m);
    kws::DetectorOptions o;
    o.post.threshold = threshold;
    kws::Detector det(m.meta.features, m.meta.labels, &scorer, o);
    det.on_result = [&](int64_t t, const float* s, bool open) {
      std::string l;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%8.3f %s", double(t) / 1000.0, open ? "run " : "gate");
      l = buf;
      for (size_t i = 0; i < m.meta.labels.size(); ++i) {
        std::snprintf(buf, sizeof buf, " %s=%.3f", m.meta.labels[i].c_str(), double(s[i]));
        l += buf;
      }
      score_lines->push_back(l);
    };
    const kws::Audio a = kws::ReadAudio(path, m.meta.features.sample_rate);
    const size_t hop = size_t(det.hop_samples());
    std::vector<kws::Detection> found;
    std::vector<std::string> lines;
    for (size_t i = 0; i < a.samples.size(); i += hop) {
      found.clear();
      det.Accept(a.samples.data() + i, std::min(hop, a.samples.size() - i), &found);
      for (const auto& d : found) lines.push_back(DetectionLine(d));
    }
    return lines;
  }

  // Runs kws listen on a file; stdout lines, per-hop score lines from stderr, JSON summary.
  std::vector<std::string> Listen(const std::string& path, const std::string& args,
                                  std::vector<std::string>* score_lines, nlohmann::json* summary) {
    const std::string err = P("err.txt");
    auto r = Sh(kBin + " listen --model " + model_ + " --json " + args + " --input " + path + " < /dev/null 2> " + err);
    EXPECT_EQ(r.rc, 0) << kws::ReadFile(err);
    const auto lines = Lines(kws::ReadFile(err));
    if (score_lines)
      for (const auto& l : lines)
        if (l.find(" _silence_=") != std::string::npos) score_lines->push_back(l);
    if (summary && !lines.empty()) *summary = nlohmann::json::parse(lines.back(), nullptr, false);
    return Lines(r.out);
  }

  std::unique_ptr<kws::test::TempDir> dir_;
  std::string model_;
};

// Native-rate mono and 44.1 kHz stereo: every hop's scores and every detection
// are what the whole-file path gives.
TEST_F(ListenFile, SameScoresAndDetectionsAsWholeFileReading) {
  const std::vector<Tone> tones = {{1.0, 0.8, 500}, {3.5, 0.6, 3000}, {6.2, 1.0, 800}};
  struct Case {
    const char* name;
    int rate, channels;
  } cases[] = {{"mono16k.wav", 16000, 1}, {"stereo44k.wav", 44100, 2}, {"mono8k.wav", 8000, 1}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = P(c.name);
    WriteNoiseWithTones(path, c.rate, c.channels, 9.37, tones, 5);
    // Threshold 0.3: the random model's smoothed scores cross it at some hops, not all.
    std::vector<std::string> want_scores, got_scores;
    const auto want = WholeFileReference(path, 0.3, &want_scores);
    nlohmann::json s;
    const auto got = Listen(path, "--threshold 0.3 --scores", &got_scores, &s);
    ASSERT_TRUE(s.is_object());
    EXPECT_EQ(got, want);
    EXPECT_EQ(got_scores, want_scores);
    EXPECT_EQ(s["hops"].get<size_t>(), want_scores.size());
    EXPECT_GT(s["inferences"].get<int>(), 10);  // the tones open the VAD
    EXPECT_LT(s["inferences"].get<int>(), s["hops"].get<int>());  // the quiet noise does not
    EXPECT_NEAR(s["audio_seconds"].get<double>(), 9.37, 1e-3);
  }
}

// A 2-minute and a 20-minute 8 kHz file (resampled to 16 kHz on the fly): both
// complete, the long one reports all its audio, and its peak memory is the short
// one's (generous bound: +20 MB; the old whole-file path peaked at ~300 MB here).
TEST_F(ListenFile, LongFileCompletesWithFlatMemory) {
  const int rate = 8000;
  std::vector<Tone> tones;
  for (double t = 30; t < 1200; t += 170) tones.push_back({t, 0.8, 500});
  const std::string short_path = P("short.wav"), long_path = P("long.wav");
  WriteNoiseWithTones(short_path, rate, 1, 120, tones, 9);
  WriteNoiseWithTones(long_path, rate, 1, 1200, tones, 9);
  nlohmann::json ss, ls;
  const auto short_det = Listen(short_path, "--threshold 0", nullptr, &ss);
  const auto long_det = Listen(long_path, "--threshold 0", nullptr, &ls);
  ASSERT_TRUE(ss.is_object());
  ASSERT_TRUE(ls.is_object());
  EXPECT_DOUBLE_EQ(ls["audio_seconds"].get<double>(), 1200.0);
  EXPECT_EQ(ls["hops"], 11991);  // first at 1.0 s (model window), then every 100 ms
  EXPECT_EQ(ls["interrupted"], false);
  // The short file holds the tone at 30 s, the long one all 7.
  EXPECT_GT(ss["inferences"].get<int>(), 0);
  EXPECT_GT(ls["inferences"].get<int>(), 3 * ss["inferences"].get<int>());
  // Same audio for the first two minutes -> same detections there.
  std::vector<std::string> long_first;
  for (const auto& l : long_det)
    if (nlohmann::json::parse(l)["t"].get<double>() < 119.0) long_first.push_back(l);
  std::vector<std::string> short_first;
  for (const auto& l : short_det)
    if (nlohmann::json::parse(l)["t"].get<double>() < 119.0) short_first.push_back(l);
  EXPECT_EQ(long_first, short_first);
  const long short_kb = ss["peak_rss_kb"].get<long>(), long_kb = ls["peak_rss_kb"].get<long>();
  std::printf("peak RSS: 2 min %ld KB, 20 min %ld KB\n", short_kb, long_kb);
  EXPECT_LT(long_kb, short_kb + 20 * 1024);
}

// Broken files are BadInput (exit 2) naming the file; a WAV whose data chunk is
// cut is caught when it is opened, before any detection is printed.
TEST_F(ListenFile, BrokenFilesExitTwoNamingTheFile) {
  const std::string full = P("full.wav");
  WriteNoiseWithTones(full, 16000, 1, 4.0, {{0.5, 3.0, 500}}, 3);
  const std::string bytes = kws::ReadFile(full);
  const std::string cut = P("cut.wav");
  kws::AtomicWriteFile(cut, bytes.substr(0, bytes.size() / 2));
  const std::string text = P("notes.wav");
  kws::AtomicWriteFile(text, "not audio at all, just some text that is long enough\n");
  struct Case {
    std::string path, reason;
  } cases[] = {{cut, "cut.wav: truncated (header says 64000 frames, 31989 present)"},
               {text, "notes.wav: not an audio file"},
               {P("missing.wav"), "missing.wav: no such file"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    auto r = Sh(kBin + " listen --model " + model_ + " --threshold 0 --input " + c.path + " < /dev/null 2> " + P("e"));
    EXPECT_EQ(r.rc, 2);
    EXPECT_EQ(r.out, "");
    const std::string err = kws::ReadFile(P("e"));
    EXPECT_NE(err.find(c.reason), std::string::npos) << err;
  }
}

}  // namespace
