// `kws data stats` through the real binary.
#include <gtest/gtest.h>
#include <sys/wait.h>

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
