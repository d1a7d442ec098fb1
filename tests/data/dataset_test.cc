#include "data/dataset.h"
#include "data/levels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include <sys/stat.h>

#include "data_test_util.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/rng.h"

namespace fs = std::filesystem;
using kws_test::TempDir;
using kws_test::WriteBytes;
using kws_test::WriteClip;

namespace {

// The tree most tests use (see the expectations in LoadDataset.SyntheticTree).
fs::path MakeTree(const std::string& name) {
  fs::path r = TempDir(name);
  WriteClip(r / "yes/aa11_nohash_0.wav", 1);
  WriteClip(r / "yes/aa11_nohash_1.wav", 2);
  WriteClip(r / "yes/bb22_nohash_0.wav", 3);
  WriteClip(r / "yes/zz99_nohash_0.wav", 4);  // same bytes as no/cc33_nohash_0.wav
  WriteBytes(r / "yes/notes.txt", "not a clip");
  WriteBytes(r / "yes/empty.wav", "");
  WriteBytes(r / "yes/garbage.wav", std::string(200, 'x'));
  WriteClip(r / "no/aa11_nohash_0.wav", 5);
  WriteClip(r / "no/cc33_nohash_0.wav", 4);
  WriteClip(r / "_unknown_/bed_dd44_nohash_0.wav", 6);
  WriteClip(r / "_unknown_/backward_ee55_nohash_2.wav", 7);
  WriteClip(r / "_silence_/0.wav", 8);
  WriteClip(r / "_silence_/1.wav", 9);
  WriteClip(r / "_background_noise_/noise1.wav", 10, 48000);
  WriteBytes(r / "_background_noise_/README.md", "noise");
  fs::create_directories(r / "down");
  WriteBytes(r / "LICENSE", "cc-by");
  return r;
}

const kws::Clip* Find(const kws::Dataset& ds, const std::string& rel) {
  for (auto& c : ds.clips)
    if (c.rel == rel) return &c;
  return nullptr;
}

std::string Reason(const kws::Dataset& ds, const std::string& rel) {
  for (auto& s : ds.skipped)
    if (s.path == (fs::path(ds.root) / rel).string()) return s.reason;
  return "<not skipped>";
}

void ExpectBadInput(const std::string& path, const std::string& what) {
  try {
    kws::LoadDataset(path);
    FAIL() << "expected BadInput for " << path;
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

void ExpectBadInputMulti(const std::vector<std::string>& roots, const std::string& what) {
  try {
    kws::LoadDataset(roots);
    FAIL() << "expected BadInput";
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find(roots.back()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(ParseClipName, SpeechCommandsPatterns) {
  auto a = kws::ParseClipName("yes", "0a7c2a8d_nohash_3.wav");
  EXPECT_EQ(a.word, "yes");
  EXPECT_EQ(a.speaker, "0a7c2a8d");
  EXPECT_TRUE(a.has_speaker);
  EXPECT_EQ(a.index, 3);
  EXPECT_EQ(a.split_name, "0a7c2a8d");

  auto u = kws::ParseClipName("_unknown_", "backward_0c540988_nohash_0.wav");
  EXPECT_EQ(u.word, "backward");
  EXPECT_EQ(u.speaker, "0c540988");
  EXPECT_EQ(u.split_name, "0c540988");  // the original file was backward/0c540988_nohash_0.wav

  auto s = kws::ParseClipName("_silence_", "1024.wav");
  EXPECT_EQ(s.word, "");
  EXPECT_FALSE(s.has_speaker);
  EXPECT_EQ(s.speaker, "_silence_/1024.wav");
  EXPECT_EQ(s.split_name, "1024.wav");
  EXPECT_EQ(s.index, -1);

  auto o = kws::ParseClipName("go", "my_recording.flac");  // user data without the pattern
  EXPECT_EQ(o.word, "go");
  EXPECT_FALSE(o.has_speaker);
  EXPECT_EQ(o.speaker, "go/my_recording.flac");
}

TEST(IsAudioExtension, KnownAndUnknown) {
  EXPECT_TRUE(kws::IsAudioExtension("a.wav"));
  EXPECT_TRUE(kws::IsAudioExtension("a.WAV"));
  EXPECT_TRUE(kws::IsAudioExtension("a.flac"));
  EXPECT_FALSE(kws::IsAudioExtension("a.txt"));
  EXPECT_FALSE(kws::IsAudioExtension("README"));
}

kws::DatasetOptions Lenient() {
  kws::DatasetOptions o;
  o.skip_bad_files = true;
  return o;
}

TEST(LoadDataset, SyntheticTree) {
  fs::path r = MakeTree("tree");
  kws::Dataset ds = kws::LoadDataset(r.string(), Lenient());
  EXPECT_EQ(ds.labels, (std::vector<std::string>{"_silence_", "_unknown_", "no", "yes"}));
  ASSERT_EQ(ds.clips.size(), 9u);
  for (size_t i = 1; i < ds.clips.size(); ++i) EXPECT_LT(ds.clips[i - 1].rel, ds.clips[i].rel);

  const kws::Clip* c = Find(ds, "yes/aa11_nohash_1.wav");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->label, "yes");
  EXPECT_EQ(c->word, "yes");
  EXPECT_EQ(c->speaker, "aa11");
  EXPECT_EQ(c->path, (r / "yes/aa11_nohash_1.wav").string());
  const std::string bytes = kws::ReadFile(c->path);
  EXPECT_EQ(c->bytes, int64_t(bytes.size()));
  EXPECT_EQ(c->hash, kws::Sha256Hex(bytes));
  EXPECT_EQ(c->info.sample_rate, 16000);
  EXPECT_EQ(c->info.channels, 1);
  EXPECT_EQ(c->info.frames, 16000);

  const kws::Clip* u = Find(ds, "_unknown_/backward_ee55_nohash_2.wav");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->label, "_unknown_");
  EXPECT_EQ(u->word, "backward");
  EXPECT_EQ(u->speaker, "ee55");

  const kws::Clip* s0 = Find(ds, "_silence_/0.wav");
  const kws::Clip* s1 = Find(ds, "_silence_/1.wav");
  ASSERT_TRUE(s0 && s1);
  EXPECT_NE(s0->speaker, s1->speaker);  // each numbered silence clip is its own group
  EXPECT_FALSE(s0->has_speaker);

  // Skipped, with reasons.
  EXPECT_EQ(ds.duplicates, 1);
  EXPECT_EQ(Reason(ds, "yes/zz99_nohash_0.wav"), "duplicate of no/cc33_nohash_0.wav");
  EXPECT_NE(Find(ds, "no/cc33_nohash_0.wav"), nullptr);
  EXPECT_EQ(Find(ds, "yes/zz99_nohash_0.wav"), nullptr);
  EXPECT_NE(Reason(ds, "yes/notes.txt").find("wrong extension"), std::string::npos);
  EXPECT_EQ(Reason(ds, "yes/empty.wav"), "empty file");
  EXPECT_EQ(Reason(ds, "yes/garbage.wav").rfind("not audio", 0), 0u) << Reason(ds, "yes/garbage.wav");
  EXPECT_NE(Reason(ds, "_background_noise_/README.md").find("wrong extension"), std::string::npos);
  EXPECT_EQ(ds.skipped.size(), 5u);

  ASSERT_EQ(ds.noise.size(), 1u);
  EXPECT_EQ(ds.noise[0].info.frames, 48000);
  EXPECT_EQ(ds.ClipsOf("yes").size(), 3u);
}

// By default an audio-named file that cannot be used stops the scan, naming the first one
// (sorted order) and counting the rest; other names and sub-folders are still just left out.
TEST(LoadDataset, UnusableAudioFileIsBadInputByDefault) {
  fs::path r = MakeTree("strict");
  try {
    kws::LoadDataset(r.string());
    FAIL() << "expected BadInput";
  } catch (const kws::Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput);
    EXPECT_EQ(m.rfind((r / "yes/empty.wav").string() + ": empty file; 1 more unusable file", 0), 0u) << m;
    EXPECT_NE(m.find("kws data stats " + r.string()), std::string::npos) << m;
    EXPECT_NE(m.find("data.skip_bad_files=true"), std::string::npos) << m;
  }
  fs::remove(r / "yes/empty.wav");
  try {
    kws::LoadDataset(r.string());
    FAIL() << "expected BadInput";
  } catch (const kws::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind((r / "yes/garbage.wav").string() + ": not audio: ", 0), 0u) << e.what();
  }
  fs::remove(r / "yes/garbage.wav");
  kws::Dataset ds = kws::LoadDataset(r.string());
  EXPECT_EQ(ds.clips.size(), 9u);
  EXPECT_EQ(ds.skipped.size(), 3u);  // the duplicate and two non-audio names

  // A WAV cut short (its header promises more samples than the file holds).
  const std::string good = kws::ReadFile((r / "yes/aa11_nohash_0.wav").string());
  WriteBytes(r / "no/dd44_nohash_0.wav", good.substr(0, good.size() / 2));
  try {
    kws::LoadDataset(r.string());
    FAIL() << "expected BadInput";
  } catch (const kws::Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind((r / "no/dd44_nohash_0.wav").string() + ": not audio: truncated", 0), 0u) << m;
    EXPECT_EQ(m.find("more unusable"), std::string::npos) << m;
  }
  EXPECT_EQ(kws::LoadDataset(r.string(), Lenient()).clips.size(), 9u);
}

TEST(LoadDataset, OtherSampleRatesAreCounted) {
  fs::path r = TempDir("rates");
  WriteClip(r / "yes/aa11_nohash_0.wav", 1);
  WriteClip(r / "yes/bb22_nohash_0.wav", 2, 8000, 8000);
  WriteClip(r / "no/aa11_nohash_0.wav", 3, 22050, 22050);
  WriteClip(r / "_background_noise_/n.wav", 4, 32000, 16000);
  kws::Dataset ds = kws::LoadDataset(r.string());
  EXPECT_EQ(kws::WarnOtherSampleRates(ds, 16000), 2);
  EXPECT_EQ(kws::WarnOtherSampleRates(ds, 8000), 3);  // the noise file counts too
}

TEST(LoadDataset, KeepDuplicatesWhenAsked) {
  fs::path r = MakeTree("dups");
  kws::DatasetOptions o = Lenient();
  o.remove_duplicates = false;
  kws::Dataset ds = kws::LoadDataset(r.string(), o);
  EXPECT_EQ(ds.duplicates, 0);
  EXPECT_EQ(ds.clips.size(), 10u);
}

TEST(LoadDataset, Deterministic) {
  fs::path r = MakeTree("det");
  kws::Dataset a = kws::LoadDataset(r.string(), Lenient()), b = kws::LoadDataset(r.string(), Lenient());
  ASSERT_EQ(a.clips.size(), b.clips.size());
  for (size_t i = 0; i < a.clips.size(); ++i) {
    EXPECT_EQ(a.clips[i].rel, b.clips[i].rel);
    EXPECT_EQ(a.clips[i].hash, b.clips[i].hash);
  }
}

// kws search and kws worker load without probing clips; the noise files must still be probed, or _silence_
// (cut from them) has nothing to come from.
TEST(LoadDataset, NoiseIsProbedWithoutClipProbes) {
  fs::path r = MakeTree("noprobe");
  kws::DatasetOptions o;
  o.probe = false;
  o.skip_bad_files = true;
  kws::Dataset ds = kws::LoadDataset(r.string(), o);
  ASSERT_EQ(ds.noise.size(), 1u);
  EXPECT_EQ(ds.noise[0].info.frames, 48000);
  EXPECT_EQ(Find(ds, "yes/aa11_nohash_0.wav")->info.sample_rate, 0);  // clips are not probed
}

TEST(LoadDataset, BadFolders) {
  fs::path base = TempDir("bad");
  ExpectBadInput((base / "missing").string(), "no such folder");
  WriteBytes(base / "file.wav", "x");
  ExpectBadInput((base / "file.wav").string(), "not a folder");
  fs::create_directories(base / "empty");
  ExpectBadInput((base / "empty").string(), "no label folders");
  fs::create_directories(base / "noclips/yes");
  WriteBytes(base / "noclips/yes/readme.txt", "x");
  ExpectBadInput((base / "noclips").string(), "no usable audio clips");
  fs::create_directories(base / "onlynoise/_background_noise_");
  WriteClip(base / "onlynoise/_background_noise_/n.wav", 1);
  ExpectBadInput((base / "onlynoise").string(), "no label folders");
}

// Several folders make one dataset: label folders of the same name merge, a clip whose bytes are
// in both counts once, speakers come from file names (so one speaker in two folders is one
// speaker), and the folders' order does not change the result.
TEST(LoadDataset, SeveralFoldersMergeIntoOne) {
  fs::path a = TempDir("multi_a"), b = TempDir("multi_b");
  WriteClip(a / "yes/aa11_nohash_0.wav", 1);
  WriteClip(a / "no/aa11_nohash_0.wav", 2);
  WriteClip(a / "_background_noise_/n1.wav", 10, 48000);
  WriteClip(b / "yes/bb22_nohash_0.wav", 3);
  WriteClip(b / "yes/aa11_nohash_1.wav", 4);       // the same speaker as in a/
  WriteClip(b / "yes/cc33_nohash_0.wav", 1);       // the same bytes as a/yes/aa11_nohash_0.wav
  WriteClip(b / "yes/aa11_nohash_0.wav", 5);       // the same name as in a/, other bytes: both kept
  WriteClip(b / "up/dd44_nohash_0.wav", 6);        // a label only b/ has
  WriteClip(b / "_background_noise_/n1.wav", 10, 48000);  // the same noise file: once

  kws::Dataset ab = kws::LoadDataset(std::vector<std::string>{a.string(), b.string()});
  EXPECT_EQ(ab.roots, (std::vector<std::string>{a.string(), b.string()}));
  EXPECT_EQ(ab.root, a.string() + " + " + b.string());
  EXPECT_EQ(ab.labels, (std::vector<std::string>{"no", "up", "yes"}));
  ASSERT_EQ(ab.clips.size(), 6u);
  EXPECT_EQ(ab.duplicates, 2);  // the clip and the noise file
  ASSERT_EQ(ab.noise.size(), 1u);
  EXPECT_EQ(ab.ClipsOf("yes").size(), 4u);
  bool dup_listed = false;
  for (const auto& s : ab.skipped)
    if (s.path == (b / "yes/cc33_nohash_0.wav").string())
      dup_listed = s.reason == "duplicate of " + (a / "yes/aa11_nohash_0.wav").string();
  EXPECT_TRUE(dup_listed);
  std::map<std::string, int> per_speaker;
  for (const auto& c : ab.clips) {
    ++per_speaker[c.speaker];
    EXPECT_EQ(ab.roots[size_t(c.root)], c.path.substr(0, ab.roots[size_t(c.root)].size()));
    EXPECT_EQ(ab.DisplayPath(c), c.path);  // several folders: reports name the full path
  }
  EXPECT_EQ(per_speaker["aa11"], 4);  // a/yes, a/no, b/yes/..._1, b/yes/..._0
  // A speaker in both folders lands in one fold.
  std::vector<std::string> speakers;
  for (const auto& c : ab.clips) speakers.push_back(c.speaker);
  const std::vector<int> folds = kws::SpeakerKFold(speakers, 2, 7);
  for (size_t i = 0; i < speakers.size(); ++i)
    for (size_t j = 0; j < speakers.size(); ++j)
      if (speakers[i] == speakers[j]) EXPECT_EQ(folds[i], folds[j]);

  // The order of the folders does not matter (clips, their order, what is kept).
  kws::Dataset ba = kws::LoadDataset(std::vector<std::string>{b.string(), a.string()});
  ASSERT_EQ(ba.clips.size(), ab.clips.size());
  for (size_t i = 0; i < ab.clips.size(); ++i) EXPECT_EQ(ab.clips[i].path, ba.clips[i].path);

  // One folder in a list is exactly the folder alone.
  kws::Dataset one = kws::LoadDataset(std::vector<std::string>{a.string()}), plain = kws::LoadDataset(a.string());
  ASSERT_EQ(one.clips.size(), plain.clips.size());
  EXPECT_EQ(one.root, plain.root);
  EXPECT_EQ(one.DisplayPath(one.clips[0]), one.clips[0].rel);

  // The same folder twice, a missing folder among several.
  EXPECT_THROW(kws::LoadDataset(std::vector<std::string>{a.string(), a.string()}), kws::Error);
  ExpectBadInputMulti({a.string(), (b / "missing").string()}, "no such folder");
}

// Symbolic links to label folders and to clips are followed; a FIFO named like a clip is skipped
// without being opened (opening it would block), and so is a broken link.
TEST(LoadDataset, SymlinksFollowedSpecialFilesSkipped) {
  fs::path real = TempDir("links_real"), r = TempDir("links");
  WriteClip(real / "yes/aa11_nohash_0.wav", 1);
  WriteClip(real / "no/bb22_nohash_0.wav", 2);
  WriteClip(real / "one/cc33_nohash_0.wav", 3);
  fs::create_directory_symlink(real / "yes", r / "yes");
  fs::create_directories(r / "no");
  fs::create_symlink(real / "no/bb22_nohash_0.wav", r / "no/bb22_nohash_0.wav");
  fs::create_symlink(real / "no/missing.wav", r / "no/dangling.wav");
  ASSERT_EQ(::mkfifo((r / "no/pipe_nohash_0.wav").c_str(), 0600), 0);
  kws::Dataset ds = kws::LoadDataset(r.string());
  EXPECT_EQ(ds.labels, (std::vector<std::string>{"no", "yes"}));
  EXPECT_EQ(ds.clips.size(), 2u);
  EXPECT_NE(Reason(ds, "no/pipe_nohash_0.wav").find("not a regular file"), std::string::npos);
  EXPECT_EQ(Reason(ds, "no/dangling.wav"), "broken symbolic link");
}

// ---------------------------------------------------------------------------
// Official split. Expected values from /usr/bin/python3:
//   M = 2**27 - 1; p = (int(hashlib.sha1(n.encode()).hexdigest(), 16) % (M + 1)) * (100.0 / M)
// ---------------------------------------------------------------------------
TEST(OfficialSplit, KnownValuesFromPython) {
  struct Case { const char* name; double pct; kws::Split split; };
  const Case cases[] = {
      {"0a7c2a8d", 56.836387193474074, kws::Split::kTraining},
      {"ffd2ba2f", 55.30171137527906, kws::Split::kTraining},
      {"3bfd30e6", 56.84449119004973, kws::Split::kTraining},
      {"1024.wav", 69.8384245473029, kws::Split::kTraining},
      {"", 98.04821758008165, kws::Split::kTraining},
      {"a", 93.2815022266023, kws::Split::kTraining},
      {"bed_0c540988", 14.520362872782073, kws::Split::kTesting},
      {"speaker with space", 35.455803837297886, kws::Split::kTraining},
      {"\xc3\xbc", 0.7143840246974231, kws::Split::kValidation},  // "ü" as UTF-8
  };
  for (const auto& c : cases) {
    EXPECT_DOUBLE_EQ(kws::SplitPercentage(c.name), c.pct) << c.name;
    EXPECT_EQ(kws::WhichSet(c.name), c.split) << c.name;
  }
  // Custom percentages move the boundaries.
  EXPECT_EQ(kws::WhichSet("bed_0c540988", 15, 10), kws::Split::kValidation);
  EXPECT_EQ(kws::WhichSet("bed_0c540988", 5, 5), kws::Split::kTraining);
  EXPECT_EQ(kws::OfficialHashName("yes/0a7c2a8d_nohash_3.wav"), "0a7c2a8d");
  EXPECT_EQ(kws::OfficialHashName("1024.wav"), "1024.wav");
}

// Many names checked against a file written by /usr/bin/python3 (tests/data/split_check.py,
// run by CTest as data.split_vs_python); skipped when run without it.
TEST(OfficialSplit, MatchesPythonFixtureFile) {
  const char* path = std::getenv("KWS_SPLIT_FIXTURE");
  if (!path) GTEST_SKIP() << "KWS_SPLIT_FIXTURE not set (run via ctest -R data.split_vs_python)";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    const size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
    ASSERT_NE(t2, std::string::npos) << line;
    const std::string name = line.substr(0, t1);
    const double pct = std::stod(line.substr(t1 + 1, t2 - t1 - 1));
    const std::string set = line.substr(t2 + 1);
    EXPECT_NEAR(kws::SplitPercentage(name), pct, 1e-9) << name;
    EXPECT_EQ(kws::SplitName(kws::WhichSet(name)), set) << name;
    ++n;
  }
  EXPECT_GT(n, 1000);
}

// The pool is the official test set: every word clip (incl. the renamed
// _unknown_ ones) must land in "testing" under the official rule.
TEST(OfficialSplit, SharedPoolIsTheTestSet) {
  const fs::path root = fs::path(KWS_SHARED_DATA) / "speech_commands";
  if (!fs::is_directory(root)) GTEST_SKIP() << root << " not present";
  kws::DatasetOptions o;
  o.probe = false;
  kws::Dataset ds = kws::LoadDataset(root.string(), o);
  int words = 0;
  for (const auto& c : ds.clips) {
    if (c.label == kws::kSilenceLabel) continue;
    ++words;
    EXPECT_EQ(kws::WhichSet(c), kws::Split::kTesting) << c.rel;
  }
  EXPECT_GT(words, 3000);
}

// ---------------------------------------------------------------------------
// Speaker k-fold
// ---------------------------------------------------------------------------
namespace {
std::vector<std::string> RandomSpeakers(int n_speakers, uint64_t seed) {
  kws::Rng rng(seed);
  std::vector<std::string> v;
  for (int s = 0; s < n_speakers; ++s) {
    const int clips = 1 + int(rng.Below(8));
    for (int c = 0; c < clips; ++c) v.push_back("spk" + std::to_string(s));
  }
  rng.Shuffle(v);
  return v;
}
}  // namespace

TEST(SpeakerKFold, DisjointBalancedDeterministic) {
  const auto speakers = RandomSpeakers(120, 7);
  for (int k : {2, 3, 5, 10}) {
    auto folds = kws::SpeakerKFold(speakers, k, 42);
    ASSERT_EQ(folds.size(), speakers.size());
    std::map<std::string, int> fold_of;
    std::vector<int> size(size_t(k), 0);
    for (size_t i = 0; i < speakers.size(); ++i) {
      ASSERT_GE(folds[i], 0);
      ASSERT_LT(folds[i], k);
      auto [it, inserted] = fold_of.emplace(speakers[i], folds[i]);
      EXPECT_EQ(it->second, folds[i]) << "speaker " << speakers[i] << " split across folds";
      ++size[size_t(folds[i])];
    }
    const int mx = *std::max_element(size.begin(), size.end());
    const int mn = *std::min_element(size.begin(), size.end());
    EXPECT_GT(mn, 0);
    EXPECT_LE(mx - mn, 8) << "k=" << k;  // at most one speaker's clip count apart (max 8 here)
    EXPECT_EQ(folds, kws::SpeakerKFold(speakers, k, 42));
    // FoldSplit partitions and keeps speakers apart.
    for (int f = 0; f < k; ++f) {
      auto s = kws::FoldSplit(folds, f);
      EXPECT_EQ(s.train.size() + s.test.size(), speakers.size());
      std::set<std::string> test_spk;
      for (int i : s.test) test_spk.insert(speakers[size_t(i)]);
      for (int i : s.train) EXPECT_EQ(test_spk.count(speakers[size_t(i)]), 0u);
      EXPECT_TRUE(std::is_sorted(s.train.begin(), s.train.end()));
    }
  }
  // Another seed moves speakers around.
  EXPECT_NE(kws::SpeakerKFold(speakers, 5, 42), kws::SpeakerKFold(speakers, 5, 43));
}

TEST(SpeakerKFold, BadK) {
  std::vector<std::string> sp = {"a", "a", "b", "c"};
  EXPECT_THROW(kws::SpeakerKFold(sp, 1, 0), kws::Error);
  EXPECT_THROW(kws::SpeakerKFold(sp, 4, 0), kws::Error);
  EXPECT_NO_THROW(kws::SpeakerKFold(sp, 3, 0));
}

TEST(SpeakerHoldout, DisjointAndNearFraction) {
  const auto speakers = RandomSpeakers(200, 3);
  auto folds = kws::SpeakerKFold(speakers, 5, 1);
  auto outer = kws::FoldSplit(folds, 2);
  auto s = kws::SpeakerHoldout(speakers, outer.train, 0.15, 9);
  EXPECT_EQ(s.train.size() + s.test.size(), outer.train.size());
  std::set<std::string> val_spk;
  for (int i : s.test) val_spk.insert(speakers[size_t(i)]);
  for (int i : s.train) EXPECT_EQ(val_spk.count(speakers[size_t(i)]), 0u);
  std::set<int> outer_train(outer.train.begin(), outer.train.end());
  for (int i : s.test) EXPECT_EQ(outer_train.count(i), 1u);
  const double frac = double(s.test.size()) / double(outer.train.size());
  EXPECT_GE(frac, 0.15);
  EXPECT_LT(frac, 0.15 + 8.0 / double(outer.train.size()) + 1e-9);
  auto again = kws::SpeakerHoldout(speakers, outer.train, 0.15, 9);
  EXPECT_EQ(again.test, s.test);
  EXPECT_THROW(kws::SpeakerHoldout(speakers, outer.train, 1.5, 9), kws::Error);
}

// data.skip_silent: near-silent clips leave the dataset (listed as skipped with their peak);
// _silence_ clips stay however quiet they are.
TEST(DropNearSilent, LeavesOutFailedRecordingsOnly) {
  fs::path r = TempDir("drop_silent");
  WriteBytes(r / "yes/q1_nohash_0.wav", kws_test::WavBytes(kws_test::Tone(1, 16000, 0.003f), 16000));
  WriteClip(r / "yes/ok_nohash_0.wav", 2);
  WriteClip(r / "no/ok_nohash_0.wav", 3);
  WriteBytes(r / "_silence_/0.wav", kws_test::WavBytes(kws_test::Tone(4, 16000, 0.001f), 16000));
  kws::Dataset ds = kws::LoadDataset(r.string());
  ASSERT_EQ(ds.clips.size(), 4u);
  const std::vector<std::string> dropped = kws::DropNearSilent(ds, -40);
  EXPECT_EQ(dropped, (std::vector<std::string>{(r / "yes/q1_nohash_0.wav").string()}));
  EXPECT_EQ(ds.clips.size(), 3u);
  EXPECT_EQ(Reason(ds, "yes/q1_nohash_0.wav").rfind("near-silent: peak -50.", 0), 0u) << Reason(ds, "yes/q1_nohash_0.wav");
  EXPECT_EQ(ds.labels, (std::vector<std::string>{"_silence_", "no", "yes"}));
  kws::Dataset again = kws::LoadDataset(r.string());
  EXPECT_TRUE(kws::DropNearSilent(again, -60).empty());
  EXPECT_THROW(kws::DropNearSilent(again, 5), kws::Error);
}
