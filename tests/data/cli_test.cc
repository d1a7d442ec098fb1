// `kws data stats` through the real binary.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data_test_util.h"
#include "util/fs.h"

namespace fs = std::filesystem;

namespace {
struct CmdResult {
  int code = -1;
  std::string out, err;
};
CmdResult RunKws(const std::string& args) {
  const fs::path err = kws_test::TempDir("cli_err") / "stderr.txt";
  const std::string cmd = std::string(KWS_BINARY) + " " + args + " 2>" + err.string();
  CmdResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = kws::ReadFile(err);
  return r;
}
}  // namespace

TEST(DataStatsCli, SharedPoolCountsMatchTheListing) {
  const fs::path root = fs::path(KWS_SHARED_DATA) / "speech_commands";
  if (!fs::is_directory(root)) GTEST_SKIP() << root << " not present";
  CmdResult r = RunKws("-q data stats --json " + root.string());
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  int total = 0, labels = 0;
  for (const auto& d : fs::directory_iterator(root)) {
    if (!d.is_directory()) continue;
    const std::string name = d.path().filename().string();
    int wavs = 0;
    for (const auto& f : fs::directory_iterator(d.path())) wavs += f.path().extension() == ".wav";
    if (name == "_background_noise_") {
      EXPECT_EQ(int(j["background_noise"].size()), wavs);
      continue;
    }
    ASSERT_TRUE(j["labels"].contains(name)) << name;
    EXPECT_EQ(j["labels"][name]["clips"].get<int>(), wavs) << name;  // the pool has no duplicates
    EXPECT_EQ(j["labels"][name]["sample_rates"], nlohmann::json::array({16000})) << name;
    EXPECT_LE(j["labels"][name]["seconds_max"].get<double>(), 1.0 + 1e-9);
    total += wavs;
    ++labels;
  }
  EXPECT_EQ(labels, 12);
  EXPECT_EQ(int(j["labels"].size()), 12);
  EXPECT_EQ(j["total_clips"].get<int>(), total);
  EXPECT_EQ(j["duplicates"].get<int>(), 0);
  EXPECT_EQ(j["labels"]["_silence_"]["speakers"].get<int>(), 0);
  EXPECT_GT(j["labels"]["yes"]["speakers"].get<int>(), 100);
  // The pool is the official test set: all word clips are "testing".
  EXPECT_EQ(j["labels"]["yes"]["split"]["testing"].get<int>(), j["labels"]["yes"]["clips"].get<int>());
  const int tr = j["split"]["training"], va = j["split"]["validation"], te = j["split"]["testing"];
  EXPECT_EQ(tr + va + te, total);
  for (const auto& b : j["background_noise"]) EXPECT_GT(b["seconds"].get<double>(), 30.0);
}

TEST(DataStatsCli, SyntheticTreeJsonAndTable) {
  fs::path r = kws_test::TempDir("cli_tree");
  kws_test::WriteClip(r / "yes/a1_nohash_0.wav", 1, 16000);
  kws_test::WriteClip(r / "yes/a1_nohash_1.wav", 2, 8000);
  kws_test::WriteClip(r / "yes/b2_nohash_0.wav", 3, 16000, 8000);  // 2 s at 8 kHz
  kws_test::WriteClip(r / "no/c3_nohash_0.wav", 1, 16000);          // duplicate of yes/a1_nohash_0
  kws_test::WriteBytes(r / "no/x.txt", "x");
  CmdResult j = RunKws("data stats " + r.string() + " --json");
  ASSERT_EQ(j.code, 0) << j.err;
  auto js = nlohmann::json::parse(j.out);
  EXPECT_EQ(js["total_clips"].get<int>(), 3);
  EXPECT_EQ(js["duplicates"].get<int>(), 1);
  EXPECT_EQ(js["speakers"].get<int>(), 3);  // a1, b2, c3
  EXPECT_EQ(js["labels"]["no"]["clips"].get<int>(), 1);
  const auto& y = js["labels"]["yes"];  // a1_nohash_0 went as a duplicate of no/c3_nohash_0
  EXPECT_EQ(y["clips"].get<int>(), 2);
  EXPECT_EQ(y["speakers"].get<int>(), 2);
  EXPECT_NEAR(y["seconds_min"].get<double>(), 0.5, 1e-9);
  EXPECT_NEAR(y["seconds_max"].get<double>(), 2.0, 1e-9);
  EXPECT_NEAR(y["seconds_mean"].get<double>(), 1.25, 1e-9);
  EXPECT_EQ(y["sample_rates"], nlohmann::json::array({8000, 16000}));
  ASSERT_EQ(js["skipped"].size(), 2u);
  bool dup = false, ext = false;
  for (const auto& s : js["skipped"]) {
    if (s["reason"] == "duplicate of no/c3_nohash_0.wav" ) dup = s["path"].get<std::string>().find("yes/a1_nohash_0.wav") != std::string::npos;
    if (s["reason"].get<std::string>().find("wrong extension") != std::string::npos) ext = true;
  }
  EXPECT_TRUE(dup) << j.out;
  EXPECT_TRUE(ext);
  CmdResult t = RunKws("data stats " + r.string());
  ASSERT_EQ(t.code, 0);
  EXPECT_NE(t.out.find("yes"), std::string::npos);
  EXPECT_NE(t.out.find("1 duplicate removed"), std::string::npos) << t.out;
}

TEST(DataStatsCli, BadInputsExitTwoNamingThePath) {
  fs::path base = kws_test::TempDir("cli_bad");
  const std::string missing = (base / "nope").string();
  CmdResult a = RunKws("data stats " + missing);
  EXPECT_EQ(a.code, 2);
  EXPECT_NE(a.err.find(missing), std::string::npos) << a.err;
  EXPECT_EQ(a.out, "");
  fs::create_directories(base / "empty");
  CmdResult b = RunKws("data stats " + (base / "empty").string());
  EXPECT_EQ(b.code, 2);
  EXPECT_NE(b.err.find((base / "empty").string()), std::string::npos) << b.err;
  EXPECT_NE(b.err.find("no label folders"), std::string::npos) << b.err;
  CmdResult c = RunKws("data stats");
  EXPECT_EQ(c.code, 1);
}

// Failed recordings: near-silent, clipped, too short and DC-offset clips are counted per label and
// listed with their paths; _silence_ clips are quiet on purpose and never near-silent; several
// folders are one report; skip_silent leaves the near-silent clips out of training.
TEST(DataStatsCli, RecordingChecksPerLabel) {
  fs::path a = kws_test::TempDir("cli_levels_a"), b = kws_test::TempDir("cli_levels_b");
  kws_test::WriteBytes(a / "yes/q1_nohash_0.wav", kws_test::WavBytes(kws_test::Tone(1, 16000, 0.003f), 16000));  // -50 dBFS
  kws_test::WriteBytes(a / "yes/ok_nohash_0.wav", kws_test::WavBytes(kws_test::Tone(2, 16000, 0.3f), 16000));
  kws_test::WriteBytes(b / "no/cl_nohash_0.wav", kws_test::WavBytes(kws_test::Tone(3, 16000, 3.0f), 16000));  // clipped
  kws_test::WriteBytes(b / "no/sh_nohash_0.wav", kws_test::WavBytes(kws_test::Tone(4, 8000, 0.3f), 16000));   // 0.5 s
  std::vector<float> dc = kws_test::Tone(5, 16000, 0.1f);
  for (float& x : dc) x += 0.05f;
  kws_test::WriteBytes(b / "no/dc_nohash_0.wav", kws_test::WavBytes(dc, 16000));
  kws_test::WriteBytes(b / "_silence_/0.wav", kws_test::WavBytes(kws_test::Tone(6, 16000, 0.001f), 16000));
  CmdResult j = RunKws("data stats --data " + a.string() + " --data " + b.string() + " --json");
  ASSERT_EQ(j.code, 0) << j.err;
  auto js = nlohmann::json::parse(j.out);
  EXPECT_EQ(js["total_clips"].get<int>(), 6);
  EXPECT_EQ(js["labels"]["yes"]["near_silent"].get<int>(), 1);
  EXPECT_EQ(js["labels"]["no"]["clipped"].get<int>(), 1);
  EXPECT_EQ(js["labels"]["no"]["too_short"].get<int>(), 1);
  EXPECT_EQ(js["labels"]["no"]["dc_offset"].get<int>(), 1);
  EXPECT_EQ(js["labels"]["_silence_"]["near_silent"].get<int>(), 0);
  const auto& rc = js["recording_checks"];
  EXPECT_EQ(rc["counts"]["near_silent"].get<int>(), 1);
  ASSERT_EQ(rc["clips"].size(), 4u) << rc.dump(1);
  bool quiet = false;
  for (const auto& c : rc["clips"])
    if (c["path"] == (a / "yes/q1_nohash_0.wav").string()) {
      quiet = c["problems"] == nlohmann::json::array({"near-silent"});
      EXPECT_NEAR(c["peak_dbfs"].get<double>(), 20 * std::log10(98.0 / 32767), 0.1);  // 0.003 as 16-bit
    }
  EXPECT_TRUE(quiet) << rc.dump(1);
  // The table names the problem and the path; a lower threshold finds none.
  CmdResult t = RunKws("data stats " + a.string() + " " + b.string());
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("near-silent (1):"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find((a / "yes/q1_nohash_0.wav").string()), std::string::npos) << t.out;
  CmdResult low = RunKws("data stats " + a.string() + " --min-peak-dbfs -60 --json");
  ASSERT_EQ(low.code, 0) << low.err;
  EXPECT_EQ(nlohmann::json::parse(low.out)["recording_checks"]["counts"]["near_silent"].get<int>(), 0);
  EXPECT_EQ(RunKws("data stats " + a.string() + " --min-peak-dbfs 3").code, 1);
}
