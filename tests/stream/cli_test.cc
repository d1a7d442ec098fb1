// `kws listen` through the real binary: exit codes, odd byte counts, silence, clipping,
// resampled WAV input, --exec, SIGTERM. Uses a seed-shaped model with random weights (its
// scores are meaningless; these tests check the plumbing, not accuracy).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "audio/audio.h"
#include "test_util.h"
#include "util/fs.h"
#include "util/rng.h"

namespace {

using kws::test::Lines;
using kws::test::Sh;

const std::string kBin = KWS_BINARY;

class ListenCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<kws::test::TempDir>("cli");
    model_ = (*dir_) / "m.tflite";
    kws::AtomicWriteFile(model_, kws::test::SeedModelBytes());
  }
  std::string P(const std::string& f) const { return (*dir_) / f; }
  void WriteRaw(const std::string& path, const std::vector<int16_t>& s, bool odd_byte = false) {
    std::string b(s.size() * 2 + (odd_byte ? 1 : 0), '\0');
    for (size_t i = 0; i < s.size(); ++i) {
      b[2 * i] = char(uint16_t(s[i]) & 0xff);
      b[2 * i + 1] = char(uint16_t(s[i]) >> 8);
    }
    if (odd_byte) b.back() = '\x7f';
    kws::AtomicWriteFile(path, b);
  }
  // Runs listen with stdin from `input`; returns rc, stdout; summary JSON parsed from stderr.
  kws::test::RunResult Listen(const std::string& args, const std::string& stdin_file, nlohmann::json* summary) {
    const std::string err = P("err.txt");
    auto r = Sh(kBin + " listen --model " + model_ + " --json " + args + " < " + stdin_file + " 2> " + err);
    const auto lines = Lines(kws::ReadFile(err));
    if (summary && !lines.empty()) *summary = nlohmann::json::parse(lines.back(), nullptr, false);
    return r;
  }
  void ExpectDetectionLines(const std::string& out) {
    for (const auto& l : Lines(out)) {
      auto j = nlohmann::json::parse(l, nullptr, false);
      ASSERT_FALSE(j.is_discarded()) << l;
      ASSERT_TRUE(j.contains("t") && j.contains("label") && j.contains("score")) << l;
      EXPECT_TRUE(j["label"] == "yes" || j["label"] == "no") << l;
      EXPECT_GE(j["score"].get<double>(), 0.0);
      EXPECT_LE(j["score"].get<double>(), 1.0);
    }
  }

  // kws listen on a silent stdin that stays open (sleep into a fifo); after 1 s the shell runs
  // `kills` (with $pid = kws). kws must end with exit 0 and its JSON summary saying "interrupted".
  void ExpectSignalsEndListenCleanly(const std::string& kills) {
    const std::string fifo = P("fifo"), err = P("err.txt");
    const std::string cmd = "mkfifo " + fifo + "; sleep 20 > " + fifo + " & spid=$!; " + kBin + " listen --model " +
                            model_ + " --json < " + fifo + " 2> " + err + " & pid=$!; sleep 1; " + kills +
                            "; wait $pid; rc=$?; kill $spid; echo rc=$rc";
    auto r = Sh("bash -c '" + cmd + "'");
    EXPECT_NE(r.out.find("rc=0"), std::string::npos) << r.out;
    const auto lines = Lines(kws::ReadFile(err));
    ASSERT_FALSE(lines.empty());
    auto s = nlohmann::json::parse(lines.back(), nullptr, false);
    ASSERT_TRUE(s.is_object()) << lines.back();
    EXPECT_EQ(s["interrupted"], true);
  }
  std::unique_ptr<kws::test::TempDir> dir_;
  std::string model_;
};

TEST_F(ListenCli, MissingModelIsBadInput) {
  auto r = Sh(kBin + " listen --model " + P("nope.tflite") + " < /dev/null 2> " + P("e"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(kws::ReadFile(P("e")).find("nope.tflite"), std::string::npos);
}

TEST_F(ListenCli, ModelWithoutMetadataIsBadInput) {
  kws::AtomicWriteFile(P("bare.tflite"), kws::test::SeedModelBytes(kws::QuantMode::kFloat, false));
  auto r = Sh(kBin + " listen --model " + P("bare.tflite") + " < /dev/null 2> " + P("e"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(kws::ReadFile(P("e")).find("no kws metadata"), std::string::npos);
}

TEST_F(ListenCli, SilenceOnlyGivesNoDetectionsAndNoInference) {
  WriteRaw(P("zero.raw"), std::vector<int16_t>(16000 * 5, 0));
  nlohmann::json s;
  auto r = Listen("", P("zero.raw"), &s);
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "");
  ASSERT_TRUE(s.is_object());
  EXPECT_DOUBLE_EQ(s["audio_seconds"].get<double>(), 5.0);
  EXPECT_EQ(s["hops"], 41);
  EXPECT_EQ(s["inferences"], 0);
  EXPECT_EQ(s["detections"], 0);
  EXPECT_EQ(s["dropped_bytes"], 0);
}

TEST_F(ListenCli, OddByteCountIsDroppedAndReported) {
  kws::Rng rng(1);
  std::vector<int16_t> x(16000 * 3);
  for (auto& v : x) v = int16_t(rng.Below(2001)) - 1000;
  WriteRaw(P("odd.raw"), x, true);
  nlohmann::json s;
  auto r = Listen("", P("odd.raw"), &s);
  EXPECT_EQ(r.rc, 0);
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["dropped_bytes"], 1);
  EXPECT_DOUBLE_EQ(s["audio_seconds"].get<double>(), 3.0);
  EXPECT_GT(s["inferences"].get<int>(), 0);  // -36 dBFS noise opens the VAD
  // The text summary says so too.
  Sh(kBin + " listen --model " + model_ + " < " + P("odd.raw") + " > /dev/null 2> " + P("t"));
  EXPECT_NE(kws::ReadFile(P("t")).find("dropped 1 odd byte"), std::string::npos);
  // Same file through --input as raw.
  nlohmann::json s2;
  r = Listen("--input " + P("odd.raw"), "/dev/null", &s2);
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(s2["dropped_bytes"], 1);
}

TEST_F(ListenCli, FullScaleClippingDoesNotCrash) {
  std::vector<int16_t> x(16000 * 4);
  for (size_t i = 0; i < x.size(); ++i) x[i] = (i / 20) % 2 ? int16_t(32767) : int16_t(-32768);
  WriteRaw(P("clip.raw"), x);
  nlohmann::json s;
  auto r = Listen("--threshold 0", P("clip.raw"), &s);  // threshold 0: the random model fires
  EXPECT_EQ(r.rc, 0);
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["inferences"], 31);
  EXPECT_GE(s["detections"].get<int>(), 1);
  EXPECT_EQ(int(Lines(r.out).size()), s["detections"].get<int>());
  ExpectDetectionLines(r.out);
}

TEST_F(ListenCli, WavAt8kIsResampledForA16kModel) {
  std::vector<float> x(8000 * 3);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.3f * float(std::sin(2 * M_PI * 440.0 * double(i) / 8000.0));
  kws::WriteWav16(P("a8k.wav"), x, 8000);
  nlohmann::json s;
  auto r = Listen("--input " + P("a8k.wav"), "/dev/null", &s);
  EXPECT_EQ(r.rc, 0);
  ASSERT_TRUE(s.is_object());
  EXPECT_NEAR(s["audio_seconds"].get<double>(), 3.0, 0.001);  // 48000 samples at 16 kHz
  EXPECT_EQ(s["hops"], 21);
  const std::string err = kws::ReadFile(P("err.txt"));
  EXPECT_NE(err.find("8000 Hz; resampling to the model's 16000 Hz"), std::string::npos) << err;
}

TEST_F(ListenCli, ExecRunsOncePerDetectionWithEnvironment) {
  kws::Rng rng(2);
  std::vector<int16_t> x(16000 * 6);
  for (auto& v : x) v = int16_t(rng.Below(8001)) - 4000;
  WriteRaw(P("n.raw"), x);
  const std::string log = P("exec.txt");
  nlohmann::json s;
  auto r = Listen("--threshold 0 --exec 'echo \"$KWS_LABEL $KWS_TIME $KWS_SCORE\" >> " + log + "'", P("n.raw"), &s);
  EXPECT_EQ(r.rc, 0);
  const auto det = Lines(r.out);
  ASSERT_EQ(det.size(), 4u);  // fires at 1.2 s, then every 1.5 s: 1.2, 2.7, 4.2, 5.7
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["exec"]["started"], 4);
  auto ran = Lines(kws::ReadFile(log));
  ASSERT_EQ(ran.size(), 4u);
  std::sort(ran.begin(), ran.end(), [](const std::string& a, const std::string& b) {
    return std::stod(a.substr(a.find(' ') + 1)) < std::stod(b.substr(b.find(' ') + 1));
  });
  const double want_t[] = {1.2, 2.7, 4.2, 5.7};
  for (size_t i = 0; i < 4; ++i) {
    auto j = nlohmann::json::parse(det[i]);
    EXPECT_NEAR(j["t"].get<double>(), want_t[i], 1e-9);
    EXPECT_EQ(ran[i].substr(0, ran[i].find(' ')), j["label"].get<std::string>());
    char t[32];
    std::snprintf(t, sizeof t, " %.3f ", want_t[i]);
    EXPECT_NE(ran[i].find(t), std::string::npos) << ran[i];
  }
}

TEST_F(ListenCli, SigtermEndsCleanlyWithSummary) {
  ExpectSignalsEndListenCleanly("kill -TERM $pid");
}

// Two signals at once (as `timeout` sends them: to the process, then to its group) still end it
// cleanly with the summary; before, the second one counted as a second Ctrl-C and left at once.
TEST_F(ListenCli, TwoSignalsAtOnceEndCleanlyWithSummary) {
  ExpectSignalsEndListenCleanly("kill -TERM $pid; kill -INT $pid");
}

TEST_F(ListenCli, MissingCaptureDeviceIsBadInput) {
  // No libasound, or no such device: either way a clear "mic:<device>: ..." error and exit 2.
  auto r = Sh(kBin + " listen --model " + model_ + " --input mic:kws_no_such_device < /dev/null 2> " + P("e"));
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(kws::ReadFile(P("e")).find("mic:kws_no_such_device: "), std::string::npos);
}

// --input mic:DEVICE end to end, without a sound card: ALSA's "file" plugin plays a raw file into
// capture (its "null" slave then gives silence, unpaced). The detections over the file's length are
// the ones listen makes on the same samples from a file.
TEST_F(ListenCli, MicCaptureThroughAlsaMatchesTheFile) {
  std::vector<int16_t> s(16000 * 6);
  kws::Rng rng(11);
  for (size_t i = 0; i < s.size(); ++i)
    s[i] = int16_t(std::lround(4000 * std::sin(0.19 * double(i)) * (1 + std::sin(double(i) / 7000.0)) +
                               1500 * rng.Normal()));
  const std::string raw = P("in.raw");
  WriteRaw(raw, s);
  const std::string home = P("home");
  std::filesystem::create_directories(home);
  kws::AtomicWriteFile(home + "/.asoundrc", "pcm.kwstestfile {\n  type file\n  slave.pcm \"null\"\n"
                                            "  file \"/dev/null\"\n  infile \"" + raw + "\"\n  format \"raw\"\n}\n");
  const std::string flags = " listen --model " + model_ + " --threshold 0 --no-vad --suppress-ms 300";
  const auto mic = Sh("HOME=" + home + " timeout --preserve-status -s INT 4 " + kBin + flags + " --input mic:kwstestfile < /dev/null 2> " +
                      P("mic_err"));
  const std::string err = kws::ReadFile(P("mic_err"));
  if (err.find("ALSA not available") != std::string::npos) GTEST_SKIP() << "no libasound.so.2: " << err;
  EXPECT_EQ(mic.rc, 0) << err;  // SIGINT ends it cleanly
  EXPECT_NE(err.find("capturing from ALSA device 'kwstestfile' at 16000 Hz"), std::string::npos) << err;
  EXPECT_NE(err.find("(interrupted)"), std::string::npos) << err;
  const auto file = Sh(kBin + flags + " --input " + raw + " 2>/dev/null");
  ASSERT_EQ(file.rc, 0);
  auto upto = [](const std::string& out, double t_max) {
    std::vector<std::string> keep;
    for (const auto& l : Lines(out)) {
      const auto j = nlohmann::json::parse(l, nullptr, false);
      if (j.is_object() && j["t"].get<double>() <= t_max) keep.push_back(l);
    }
    return keep;
  };
  const auto want = upto(file.out, 6.0), got = upto(mic.out, 6.0);
  EXPECT_GE(want.size(), 10u);  // threshold 0: a detection every ~0.4 s once the window is full
  EXPECT_EQ(got, want);
}

TEST_F(ListenCli, BadFlagsAreUsageErrors) {
  EXPECT_EQ(Sh(kBin + " listen --model " + model_ + " --threshold 2 < /dev/null 2>/dev/null").rc, 1);
  EXPECT_EQ(Sh(kBin + " listen --model " + model_ + " --hop-ms 0 < /dev/null 2>/dev/null").rc, 1);
  auto h = Sh(kBin + " listen --model " + model_ + " --hop-ms 1500 < /dev/null 2> " + P("e"));
  EXPECT_EQ(h.rc, 1);
  EXPECT_NE(kws::ReadFile(P("e")).find("--hop-ms 1500 is longer than the model's 1000 ms window"), std::string::npos)
      << kws::ReadFile(P("e"));
  EXPECT_EQ(Sh(kBin + " listen --model " + model_ + " --hop-ms 1000 < /dev/null 2>/dev/null").rc, 0);
  auto r = Sh(kBin + " listen --model " + model_ + " --label-threshold maybe=0.5 < /dev/null 2> " + P("e"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(kws::ReadFile(P("e")).find("--label-threshold maybe: not a keyword of the model (its keywords: yes, no)"),
            std::string::npos)
      << kws::ReadFile(P("e"));
  EXPECT_EQ(Sh(kBin + " listen --model " + model_ + " --label-threshold no:0.5 < /dev/null 2>/dev/null").rc, 1);
}

// Per-keyword thresholds: with --threshold 1 nothing fires; both keywords at 0 behave like --threshold 0
// (4 detections on 6 s of noise, see above); one keyword at 0 fires only that keyword.
TEST_F(ListenCli, LabelThresholdsOverrideTheGlobalOne) {
  kws::Rng rng(2);
  std::vector<int16_t> x(16000 * 6);
  for (auto& v : x) v = int16_t(rng.Below(8001)) - 4000;
  WriteRaw(P("n.raw"), x);
  EXPECT_TRUE(Lines(Listen("--threshold 1", P("n.raw"), nullptr).out).empty());
  const auto both = Lines(Listen("--threshold 1 --label-threshold yes=0 --label-threshold no=0", P("n.raw"), nullptr).out);
  ASSERT_EQ(both.size(), 4u);
  EXPECT_EQ(Lines(Listen("--threshold 1 --label-threshold yes=0,no=0", P("n.raw"), nullptr).out), both);
  const std::string top = nlohmann::json::parse(both[0])["label"], other = top == "yes" ? "no" : "yes";
  const auto only_top = Lines(Listen("--threshold 1 --label-threshold " + top + "=0", P("n.raw"), nullptr).out);
  EXPECT_FALSE(only_top.empty());
  for (const auto& l : only_top) EXPECT_EQ(nlohmann::json::parse(l)["label"], top) << l;
  for (const auto& l : Lines(Listen("--threshold 1 --label-threshold " + other + "=0", P("n.raw"), nullptr).out))
    EXPECT_EQ(nlohmann::json::parse(l)["label"], other) << l;
}

// The model's detector settings (from its training config's [detector]) replace the built-in
// defaults; a flag given on the command line still wins. Same noise as above: at threshold 0 the
// detector fires at 1.2 s and then every suppress_ms.
TEST_F(ListenCli, ModelDetectorSettingsAreTheDefaultsFlagsOverride) {
  kws::Rng rng(2);
  std::vector<int16_t> x(16000 * 6);
  for (auto& v : x) v = int16_t(rng.Below(8001)) - 4000;
  WriteRaw(P("n.raw"), x);
  ASSERT_EQ(Lines(Listen("--threshold 0", P("n.raw"), nullptr).out).size(), 4u);  // 1.2, 2.7, 4.2, 5.7
  kws::AtomicWriteFile(model_, kws::test::SeedModelBytes(kws::QuantMode::kFloat, true, 1,
                                                          {{"threshold", 0.0}, {"suppress_ms", 3000}}));
  const auto r = Listen("", P("n.raw"), nullptr);
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(Lines(r.out).size(), 2u);  // 1.2, 4.2
  EXPECT_NE(kws::ReadFile(P("err.txt")).find("the model's detector settings"), std::string::npos)
      << kws::ReadFile(P("err.txt"));
  EXPECT_EQ(Lines(Listen("--suppress-ms 1500", P("n.raw"), nullptr).out).size(), 4u);
  EXPECT_TRUE(Lines(Listen("--threshold 1", P("n.raw"), nullptr).out).empty());
  // `kws invoke --info` shows them with the labels.
  const auto info = Sh(kBin + " invoke --model " + model_ + " --info");
  EXPECT_EQ(info.rc, 0);
  EXPECT_NE(info.out.find("labels       _silence_, _unknown_, yes, no"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("\"suppress_ms\":3000"), std::string::npos) << info.out;
}

TEST_F(ListenCli, MalformedModelDetectorSettingsAreBadInput) {
  const nlohmann::json bad[] = {{{"threshold", 2.0}}, {{"smooth_ms", "long"}}, {{"loudness", 3}}};
  const std::string needle[] = {"detector.threshold must be in [0, 1]", "detector.smooth_ms: expected a number",
                                "detector.loudness: unknown setting"};
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(bad[i].dump());
    kws::AtomicWriteFile(model_, kws::test::SeedModelBytes(kws::QuantMode::kFloat, true, 1, bad[i]));
    auto r = Sh(kBin + " listen --model " + model_ + " < /dev/null 2> " + P("e"));
    EXPECT_EQ(r.rc, 2);
    const std::string err = kws::ReadFile(P("e"));
    EXPECT_NE(err.find(model_ + ": kws metadata"), std::string::npos) << err;
    EXPECT_NE(err.find(needle[i]), std::string::npos) << err;
  }
}

// --summary FILE: the summary as a JSON file, written even with -q (which silences stderr), while
// stdout keeps exactly one line per detection.
TEST_F(ListenCli, SummaryFileIsWrittenEvenWhenQuiet) {
  std::vector<int16_t> x(16000 * 4);
  for (size_t i = 0; i < x.size(); ++i) x[i] = (i / 20) % 2 ? int16_t(32767) : int16_t(-32768);
  WriteRaw(P("clip.raw"), x);
  auto r = Sh(kBin + " -q listen --model " + model_ + " --threshold 0 --summary " + P("sum.json") + " < " +
              P("clip.raw") + " 2> " + P("e"));
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(kws::ReadFile(P("e")), "");
  auto s = nlohmann::json::parse(kws::ReadFile(P("sum.json")), nullptr, false);
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["inferences"], 31);
  EXPECT_GE(s["detections"].get<int>(), 1);
  EXPECT_EQ(int(Lines(r.out).size()), s["detections"].get<int>());
  ExpectDetectionLines(r.out);
  // A --summary that cannot be written is refused before listening (usage: a folder).
  r = Sh(kBin + " listen --model " + model_ + " --summary " + P("") + " < " + P("clip.raw") + " 2> " + P("e"));
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(kws::ReadFile(P("e")).find("--summary"), std::string::npos);
}

}  // namespace
