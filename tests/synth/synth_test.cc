// End-to-end synthesis through the library (needs espeak-ng; skipped without it):
// layout, file format, non-silent keywords, determinism across thread counts,
// caching, option validation.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "audio/audio.h"
#include "synth/dsp.h"
#include "synth/synth.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/parallel.h"

namespace fs = std::filesystem;
using namespace kws::synth;

namespace {

struct TmpDir {
  fs::path path;
  TmpDir() {
    std::string t = (fs::temp_directory_path() / "kws-synth-test-XXXXXX").string();
    path = mkdtemp(t.data());
  }
  ~TmpDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

bool HaveEspeak() { return !FindProgram("espeak-ng").empty(); }

SynthOptions Small(const fs::path& out) {
  SynthOptions o;
  o.words = {"yes", "no"};
  o.unknown_words = {"bed", "cat"};
  o.per_word = 6;
  o.unknown_count = 4;
  o.silence = 3;
  o.seed = 17;
  o.engines = {"espeak-ng"};
  o.out_dir = out.string();
  return o;
}

std::map<std::string, std::string> ReadTree(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) files[fs::relative(e.path(), root).string()] = kws::ReadFile(e.path());
  return files;
}

}  // namespace

TEST(Synth, SmallRunLayoutAndFormat) {
  if (!HaveEspeak()) GTEST_SKIP() << "espeak-ng not installed (./setup.sh)";
  kws::SetVerbosity(kws::Verbosity::kQuiet);
  TmpDir tmp;
  auto o = Small(tmp.path / "out");
  auto r = SynthesizeDataset(o);
  EXPECT_EQ(r.clips_per_label["yes"], 6);
  EXPECT_EQ(r.clips_per_label["no"], 6);
  EXPECT_EQ(r.clips_per_label["_unknown_"], 4);
  EXPECT_EQ(r.clips_per_label["_silence_"], 3);
  EXPECT_EQ(r.total_clips, 19);
  EXPECT_EQ(r.speakers.size(), 3u);  // ceil(6 / 2)
  ASSERT_EQ(r.engines, std::vector<std::string>{"espeak-ng"});

  std::set<std::string> speaker_ids;
  for (auto& s : r.speakers) {
    EXPECT_EQ(s.id.size(), 8u);
    EXPECT_EQ(s.id, s.voice.SpeakerId());
    speaker_ids.insert(s.id);
  }
  int wavs = 0;
  for (auto& label : {"yes", "no", "_unknown_", "_silence_"}) {
    ASSERT_TRUE(fs::is_directory(tmp.path / "out" / label)) << label;
    for (auto& e : fs::directory_iterator(tmp.path / "out" / label)) {
      ++wavs;
      std::string name = e.path().filename().string();
      auto info = kws::ProbeAudio(e.path().string());
      EXPECT_EQ(info.sample_rate, 16000) << name;
      EXPECT_EQ(info.channels, 1) << name;
      EXPECT_EQ(info.frames, 16000) << name;
      EXPECT_EQ(fs::file_size(e.path()), 44u + 32000u) << name;  // 16-bit PCM, plain header
      if (std::string(label) == "_silence_") continue;
      // <speaker>_nohash_<n>.wav, or WORD_<speaker>_nohash_<n>.wav in _unknown_.
      std::string stem = name;
      if (std::string(label) == "_unknown_") {
        ASSERT_TRUE(stem.rfind("bed_", 0) == 0 || stem.rfind("cat_", 0) == 0) << name;
        stem = stem.substr(4);
      }
      auto pos = stem.find("_nohash_");
      ASSERT_NE(pos, std::string::npos) << name;
      EXPECT_TRUE(speaker_ids.count(stem.substr(0, pos))) << name;
      // Keyword clips are clearly not silent.
      auto a = kws::ReadAudio(e.path().string(), 16000);
      EXPECT_GT(Rms(a.samples), 0.003) << name;
      EXPECT_GT(Peak(a.samples), 0.08) << name;  // peak level drawn in -20..-1 dBFS
    }
  }
  EXPECT_EQ(wavs, 19);
  EXPECT_TRUE(fs::exists(tmp.path / "out" / "synth.json"));
  // The clip table records where each word sits; it must be inside the window and loud there.
  std::istringstream csv(kws::ReadFile(tmp.path / "out" / "synth_clips.csv"));
  std::string line;
  std::getline(csv, line);
  int rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) f.push_back(c);
    ASSERT_EQ(f.size(), 12u) << line;
    if (f[1] == "_silence_") continue;
    long off = std::stol(f[4]), len = std::stol(f[5]);
    EXPECT_GE(off, 0);
    EXPECT_GT(len, 1600) << line;  // a real word, not a blip (>100 ms)
    EXPECT_LE(off + len, 16000) << line;
    auto a = kws::ReadAudio((tmp.path / "out" / f[0]).string(), 16000);
    double in = Rms(a.samples.data() + off, size_t(len));
    std::vector<float> rest(a.samples.begin(), a.samples.begin() + off);
    rest.insert(rest.end(), a.samples.begin() + off + len, a.samples.end());
    if (rest.size() > 1600 && std::stod(f[6]) == 0.0) EXPECT_GT(in, 1.5 * Rms(rest)) << line;
  }
  EXPECT_EQ(rows, 19);
}

TEST(Synth, DeterministicAcrossRunsAndThreadCounts) {
  if (!HaveEspeak()) GTEST_SKIP() << "espeak-ng not installed (./setup.sh)";
  kws::SetVerbosity(kws::Verbosity::kQuiet);
  TmpDir tmp;
  auto o = Small(tmp.path / "a");
  kws::SetNumThreads(1);
  SynthesizeDataset(o);
  kws::SetNumThreads(3);
  o.out_dir = (tmp.path / "b").string();
  SynthesizeDataset(o);
  kws::SetNumThreads(0);
  auto a = ReadTree(tmp.path / "a"), b = ReadTree(tmp.path / "b");
  ASSERT_EQ(a.size(), 21u);  // 19 clips + synth.json + synth_clips.csv
  ASSERT_EQ(a.size(), b.size());
  for (auto& [name, bytes] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_TRUE(bytes == b[name]) << name << " differs between 1 and 3 threads";
  }
  // A different seed gives different clips.
  o.seed = 18;
  o.out_dir = (tmp.path / "c").string();
  SynthesizeDataset(o);
  auto c = ReadTree(tmp.path / "c");
  int same = 0;
  for (auto& [name, bytes] : c) same += a.count(name) && a[name] == bytes;
  EXPECT_EQ(same, 0);
}

TEST(Synth, AllEnginesMixIntoOneRun) {
  for (auto p : {"espeak-ng", "flite", "festival"})
    if (FindProgram(p).empty()) GTEST_SKIP() << p << " not installed (./setup.sh)";
  kws::SetVerbosity(kws::Verbosity::kQuiet);
  TmpDir tmp;
  SynthOptions o;
  o.words = {"go"};
  o.per_word = 40;
  o.speakers = 20;
  o.silence = 0;
  o.out_dir = (tmp.path / "out").string();
  auto r = SynthesizeDataset(o);
  std::map<Engine, int> per;
  for (auto& s : r.speakers) per[s.voice.engine]++;
  EXPECT_EQ(r.speakers.size(), 20u);
  EXPECT_GT(per[Engine::kEspeak], 0);
  EXPECT_GT(per[Engine::kFlite], 0);
  EXPECT_GT(per[Engine::kFestival], 0);
  EXPECT_EQ(r.clips_per_label.count("_silence_"), 0u);
  for (auto& e : fs::directory_iterator(tmp.path / "out" / "go")) {
    auto a = kws::ReadAudio(e.path().string(), 16000);
    ASSERT_EQ(a.samples.size(), 16000u);
    EXPECT_GT(Rms(a.samples), 0.003) << e.path();
  }
}

TEST(Synth, SpeakersAreDeterministicAndDistinct) {
  std::vector<Engine> all = AllEngines();
  auto a = MakeSpeakers(5, 300, all), b = MakeSpeakers(5, 300, all);
  std::set<std::string> ids;
  std::map<Engine, int> per;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].Describe(), b[i].Describe());
    ids.insert(a[i].SpeakerId());
    per[a[i].engine]++;
    EXPECT_NE(a[i].voice, "en-gb-x-rp");
    EXPECT_NE(a[i].variant, "whisper");
    EXPECT_NE(a[i].voice, "kal");
  }
  EXPECT_EQ(ids.size(), 300u);
  // Default weights 0.7 / 0.15 / 0.15 of 300 speakers: 210 / 45 / 45 expected.
  EXPECT_NEAR(per[Engine::kEspeak], 210, 30);
  EXPECT_NEAR(per[Engine::kFlite], 45, 20);
  EXPECT_NEAR(per[Engine::kFestival], 45, 20);
  auto w = MakeSpeakers(5, 100, all, {{"festival", 0.0}, {"flite", 1.0}, {"espeak-ng", 1.0}});
  int fest = 0, flite = 0;
  for (auto& v : w) {
    fest += v.engine == Engine::kFestival;
    flite += v.engine == Engine::kFlite;
  }
  EXPECT_EQ(fest, 0);
  EXPECT_NEAR(flite, 50, 15);
  auto only = MakeSpeakers(5, 10, {Engine::kFlite});
  for (auto& v : only) EXPECT_EQ(v.engine, Engine::kFlite);
}

TEST(Synth, CachedRunIsReused) {
  if (!HaveEspeak()) GTEST_SKIP() << "espeak-ng not installed (./setup.sh)";
  kws::SetVerbosity(kws::Verbosity::kQuiet);
  TmpDir tmp;
  SynthOptions o;
  o.words = {"up"};
  o.per_word = 2;
  o.silence = 1;
  o.engines = {"espeak-ng"};
  SynthResult r1, r2;
  std::string d1 = SynthesizeCached(o, (tmp.path / "cache").string(), &r1);
  auto t1 = fs::last_write_time(fs::path(d1) / "synth.json");
  std::string d2 = SynthesizeCached(o, (tmp.path / "cache").string(), &r2);
  EXPECT_EQ(d1, d2);
  EXPECT_EQ(t1, fs::last_write_time(fs::path(d2) / "synth.json"));  // not regenerated
  EXPECT_EQ(r2.total_clips, 3);
  EXPECT_EQ(r2.clips_per_label["up"], 2);
  o.seed = 2;  // different options -> different folder
  std::string d3 = SynthesizeCached(o, (tmp.path / "cache").string());
  EXPECT_NE(d1, d3);
  int entries = 0;
  for (auto& e : fs::directory_iterator(tmp.path / "cache")) entries += 1 + 0 * int(e.is_directory());
  EXPECT_EQ(entries, 2);  // no temporary folders left behind
}

// What a killed synthesis left (kill -9: its scratch folder under TMPDIR, its half-built cache
// folder) is removed by the next synthesis; nothing of this one's stays.
TEST(Synth, LeftoversOfKilledRunsAreRemoved) {
  if (!HaveEspeak()) GTEST_SKIP() << "espeak-ng not installed (./setup.sh)";
  kws::SetVerbosity(kws::Verbosity::kQuiet);
  TmpDir tmp;
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);  // a pid that runs nothing now
  const std::string dead = std::to_string(child);
  const fs::path scratch = tmp.path / "tmp", cache = tmp.path / "cache";
  kws::AtomicWriteFile(scratch / ("kws-synth-0.tmp." + dead) / "a_up.wav", "x");
  kws::AtomicWriteFile(cache / ("synth-0123456789abcdef.tmp." + dead) / "up" / "a.wav", "x");
  const char* old = std::getenv("TMPDIR");
  const std::string old_tmp = old ? old : "";
  ::setenv("TMPDIR", scratch.c_str(), 1);
  SynthOptions o;
  o.words = {"up"};
  o.per_word = 2;
  o.silence = 1;
  o.engines = {"espeak-ng"};
  const std::string dir = SynthesizeCached(o, cache.string());
  if (old) ::setenv("TMPDIR", old_tmp.c_str(), 1);
  else ::unsetenv("TMPDIR");
  EXPECT_TRUE(fs::is_empty(scratch));
  int entries = 0;
  for (auto& e : fs::directory_iterator(cache)) entries += e.path() == fs::path(dir) ? 1 : 100;
  EXPECT_EQ(entries, 1);
}

TEST(Synth, ValidationErrors) {
  auto expect_usage = [](SynthOptions o, const std::string& needle) {
    try {
      o.Validate();
      ADD_FAILURE() << "no error for " << needle;
    } catch (const kws::Error& e) {
      EXPECT_EQ(e.kind(), kws::ErrorKind::kUsage);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  SynthOptions ok;
  ok.words = {"yes", "don't", "well-known"};
  EXPECT_NO_THROW(ok.Validate());
  SynthOptions o = ok;
  o.words = {"yes", "n0"};
  expect_usage(o, "'n0' may only contain letters");
  o.words = {""};
  expect_usage(o, "empty word");
  o.words = {"-no"};
  expect_usage(o, "must start with a letter");
  o.words = {"yes", "yes"};
  expect_usage(o, "given twice");
  o = ok;
  o.per_word = 0;
  expect_usage(o, "--per-word: must be > 0");
  o = ok;
  o.unknown_words = {"yes"};
  expect_usage(o, "also a keyword");
  o = ok;
  o.engines = {"sam"};
  expect_usage(o, "unknown engine 'sam'");
}

TEST(Synth, NonEmptyOutputNeedsForce) {
  if (!HaveEspeak()) GTEST_SKIP() << "espeak-ng not installed (./setup.sh)";
  kws::SetVerbosity(kws::Verbosity::kQuiet);
  TmpDir tmp;
  kws::AtomicWriteFile(tmp.path / "out" / "keep.txt", "x");
  auto o = Small(tmp.path / "out");
  try {
    SynthesizeDataset(o);
    FAIL() << "expected an error";
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("not empty (use --force"), std::string::npos) << e.what();
  }
  o.force = true;
  auto r = SynthesizeDataset(o);
  EXPECT_EQ(r.total_clips, 19);
  EXPECT_TRUE(fs::exists(tmp.path / "out" / "keep.txt"));
}

TEST(Synth, BackgroundFolderIsMixedIn) {
  if (!HaveEspeak()) GTEST_SKIP() << "espeak-ng not installed (./setup.sh)";
  const fs::path bg = fs::path(KWS_SHARED_DATA) / "speech_commands" / "_background_noise_";
  if (!fs::is_directory(bg)) GTEST_SKIP() << bg << " missing";
  kws::SetVerbosity(kws::Verbosity::kQuiet);
  TmpDir tmp;
  auto o = Small(tmp.path / "out");
  o.per_word = 10;
  o.silence = 10;
  o.background_dir = bg.string();
  auto r = SynthesizeDataset(o);
  EXPECT_EQ(r.total_clips, 34);
  std::string csv = kws::ReadFile(tmp.path / "out" / "synth_clips.csv");
  int bg_rows = 0;
  for (size_t p = csv.find(",bg:"); p != std::string::npos; p = csv.find(",bg:", p + 1)) ++bg_rows;
  EXPECT_GT(bg_rows, 5);  // about half of the noise draws use the folder
  EXPECT_LT(bg_rows, 34);
  // A folder without audio is an input error.
  kws::AtomicWriteFile(tmp.path / "nobg" / "readme.txt", "x");
  o.out_dir = (tmp.path / "out2").string();
  o.background_dir = (tmp.path / "nobg").string();
  try {
    SynthesizeDataset(o);
    FAIL() << "expected an error";
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("holds no usable audio files"), std::string::npos) << e.what();
  }
}
