// `kws data synth` through the real binary: exit codes and messages of the
// error paths, the summary, --json.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "synth/tts.h"

namespace fs = std::filesystem;

namespace {

struct RunResult {
  int code = -1;
  std::string out;  // stdout + stderr
};

// Runs `env <env> kws <args>` through /bin/sh, stderr merged into stdout.
RunResult RunKws(const std::string& args, const std::string& env = "") {
  std::string cmd = (env.empty() ? "" : "env " + env + " ") + std::string(KWS_BINARY) + " " + args + " 2>&1";
  RunResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

struct TmpDir {
  fs::path path;
  TmpDir() {
    std::string t = (fs::temp_directory_path() / "kws-synth-cli-XXXXXX").string();
    path = mkdtemp(t.data());
  }
  ~TmpDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

bool Contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

}  // namespace

TEST(SynthCli, UsageErrors) {
  TmpDir t;
  const std::string out = " --out " + (t.path / "o").string();
  auto r = RunKws("data synth --words yes,no --per-word 0" + out);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "kws data synth: --per-word: must be > 0")) << r.out;

  r = RunKws("data synth --words yes,n0 --per-word 2" + out);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "kws data synth: --words: word 'n0' may only contain letters")) << r.out;

  r = RunKws("data synth --words yes,,no" + out);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "--words: empty word")) << r.out;

  r = RunKws("data synth --words yes --engines espeak-ng,sam" + out);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "kws data synth: --engines: unknown engine 'sam'")) << r.out;

  r = RunKws("data synth --words yes --engine-weights flite" + out);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "--engine-weights: 'flite' is not ENGINE=WEIGHT")) << r.out;
  r = RunKws("data synth --words yes --engine-weights sam=1" + out);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "unknown engine 'sam'")) << r.out;

  r = RunKws("data synth --words yes");  // --out missing: CLI11 parse error
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(Contains(r.out, "--out")) << r.out;
  EXPECT_FALSE(fs::exists(t.path / "o"));  // nothing written on errors
}

TEST(SynthCli, MissingProgram) {
  TmpDir t;
  fs::create_directories(t.path / "emptybin");
  const std::string out = " --out " + (t.path / "o").string();
  // No TTS program on PATH at all.
  auto r = RunKws("data synth --words yes --per-word 2" + out, "PATH=" + (t.path / "emptybin").string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(Contains(r.out, "kws data synth: espeak-ng not found (install with ./setup.sh)")) << r.out;
  EXPECT_FALSE(fs::exists(t.path / "o"));

  std::string espeak = kws::synth::FindProgram("espeak-ng");
  if (espeak.empty()) GTEST_SKIP() << "espeak-ng not installed: cannot check the partial cases";
  fs::create_directories(t.path / "onlyespeak");
  fs::create_symlink(espeak, t.path / "onlyespeak" / "espeak-ng");
  const std::string path = "PATH=" + (t.path / "onlyespeak").string();
  // Explicitly requested but missing -> error.
  r = RunKws("data synth --words yes --per-word 2 --engines espeak-ng,flite" + out, path);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(Contains(r.out, "kws data synth: flite not found (install with ./setup.sh)")) << r.out;
  // Default engines: warn about the missing ones and continue with espeak-ng.
  r = RunKws("data synth --words yes --per-word 2 --silence 1" + out, path);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Contains(r.out, "flite not found")) << r.out;
  EXPECT_TRUE(Contains(r.out, "festival not found")) << r.out;
  EXPECT_TRUE(Contains(r.out, "engines: espeak-ng\n")) << r.out;
  int n = 0;
  for (auto& e : fs::directory_iterator(t.path / "o" / "yes")) n += e.path().extension() == ".wav";
  EXPECT_EQ(n, 2);
}

TEST(SynthCli, JsonSummaryAndNonEmptyOutput) {
  if (kws::synth::FindProgram("espeak-ng").empty()) GTEST_SKIP() << "espeak-ng not installed (./setup.sh)";
  TmpDir t;
  const std::string out = " --out " + (t.path / "o").string();
  auto r = RunKws("-q data synth --words on,off --per-word 3 --unknown-words wow --unknown 2 --silence 2 "
               "--engines espeak-ng --seed 9 --json" + out);
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["clips_per_label"]["on"], 3);
  EXPECT_EQ(j["clips_per_label"]["off"], 3);
  EXPECT_EQ(j["clips_per_label"]["_unknown_"], 2);
  EXPECT_EQ(j["clips_per_label"]["_silence_"], 2);
  EXPECT_EQ(j["total_clips"], 10);
  EXPECT_EQ(j["configurations"], 2);
  EXPECT_EQ(j["engines"], nlohmann::json::array({"espeak-ng"}));
  ASSERT_EQ(j["speakers"].size(), 2u);
  EXPECT_EQ(j["speakers"][0]["engine"], "espeak-ng");
  EXPECT_TRUE(fs::exists(t.path / "o" / "_unknown_"));

  // Again into the same (now non-empty) folder: refused without --force.
  r = RunKws("data synth --words on --per-word 1 --engines espeak-ng" + out);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(Contains(r.out, "exists and is not empty (use --force to write into it)")) << r.out;
  r = RunKws("-q data synth --words on --per-word 1 --engines espeak-ng --force" + out);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(Contains(r.out, "Synthesized 2 clips")) << r.out;
}
