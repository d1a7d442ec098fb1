#include "data/task.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "data_test_util.h"
#include "util/error.h"

namespace fs = std::filesystem;
using kws_test::TempDir;
using kws_test::WriteClip;

namespace {
// A Dataset built in memory (no files needed for the mapping logic).
kws::Dataset MemoryDataset(bool with_silence) {
  kws::Dataset ds;
  ds.root = "/mem";
  auto add = [&](const std::string& label, const std::string& file) {
    kws::Clip c;
    c.label = label;
    c.rel = label + "/" + file;
    c.path = ds.root + "/" + c.rel;
    auto n = kws::ParseClipName(label, file);
    c.word = n.word;
    c.speaker = n.speaker;
    c.has_speaker = n.has_speaker;
    c.split_name = n.split_name;
    c.hash = "h:" + c.rel;
    ds.clips.push_back(c);
  };
  for (int i = 0; i < 4; ++i) add("down", "d" + std::to_string(i) + "_nohash_0.wav");
  for (int i = 0; i < 6; ++i) add("no", "n" + std::to_string(i) + "_nohash_0.wav");
  for (int i = 0; i < 6; ++i) add("yes", "y" + std::to_string(i) + "_nohash_0.wav");
  add("_unknown_", "bed_u1_nohash_0.wav");
  add("_unknown_", "backward_u2_nohash_0.wav");
  add("_unknown_", "backward_u3_nohash_0.wav");
  if (with_silence) {
    add("_silence_", "0.wav");
    add("_silence_", "1.wav");
  }
  for (auto& c : ds.clips)
    if (ds.labels.empty() || std::find(ds.labels.begin(), ds.labels.end(), c.label) == ds.labels.end())
      ds.labels.push_back(c.label);
  std::sort(ds.labels.begin(), ds.labels.end());
  kws::NoiseFile nf;
  nf.path = "/mem/_background_noise_/white.wav";
  nf.hash = "noisehash";
  nf.info.sample_rate = 16000;
  nf.info.channels = 1;
  nf.info.frames = 16000 * 5;
  ds.noise.push_back(nf);
  return ds;
}

std::map<std::string, int> CountsByName(const kws::TaskView& t) {
  std::map<std::string, int> m;
  auto c = t.ClassCounts();
  for (size_t i = 0; i < c.size(); ++i) m[t.labels[i]] = c[i];
  return m;
}

void ExpectUsage(const kws::Dataset& ds, const std::string& labels, const std::string& must_name) {
  try {
    kws::MakeTask(ds, kws::ParseLabelList(labels));
    FAIL() << "expected UsageError for " << labels;
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find(must_name), std::string::npos) << e.what();
  }
}
}  // namespace

TEST(ParseLabelList, SplitsTrimsAndRejects) {
  EXPECT_EQ(kws::ParseLabelList("yes, no ,_silence_"), (std::vector<std::string>{"yes", "no", "_silence_"}));
  EXPECT_THROW(kws::ParseLabelList("yes,,no"), kws::Error);
  EXPECT_THROW(kws::ParseLabelList(""), kws::Error);
  EXPECT_THROW(kws::ParseLabelList("yes,no,yes"), kws::Error);
}

TEST(MakeTask, OnlyAskedWordsWithoutUnknown) {
  auto ds = MemoryDataset(true);
  auto t = kws::MakeTask(ds, kws::ParseLabelList("yes,no"));
  EXPECT_EQ(t.labels, (std::vector<std::string>{"yes", "no"}));
  EXPECT_EQ(t.size(), 12);
  for (int i = 0; i < t.size(); ++i) {
    const auto& c = ds.clips[size_t(t.clip[size_t(i)])];
    EXPECT_EQ(t.labels[size_t(t.label[size_t(i)])], c.label);
    EXPECT_EQ(t.speakers[size_t(i)], c.speaker);
    EXPECT_EQ(t.keys[size_t(i)], c.hash);
  }
}

TEST(MakeTask, UnknownAndSilenceMapping) {
  auto ds = MemoryDataset(true);
  auto t = kws::MakeTask(ds, kws::ParseLabelList("no,yes,_silence_,_unknown_"));
  EXPECT_EQ(t.labels, (std::vector<std::string>{"no", "yes", "_silence_", "_unknown_"}));  // order as given
  auto m = CountsByName(t);
  EXPECT_EQ(m["no"], 6);
  EXPECT_EQ(m["yes"], 6);
  EXPECT_EQ(m["_silence_"], 2);
  EXPECT_EQ(m["_unknown_"], 4 + 3);  // down/* + the _unknown_ folder
  for (int i = 0; i < t.size(); ++i) EXPECT_GE(t.clip[size_t(i)], 0);  // silence came from the folder
}

TEST(MakeTask, WordFromUnknownFolder) {
  auto ds = MemoryDataset(true);
  auto t = kws::MakeTask(ds, kws::ParseLabelList("backward,_unknown_"));
  auto m = CountsByName(t);
  EXPECT_EQ(m["backward"], 2);              // _unknown_/backward_*
  EXPECT_EQ(m["_unknown_"], 4 + 6 + 6 + 1);  // down, no, yes, bed
}

TEST(MakeTask, MissingLabelsAreNamed) {
  auto ds = MemoryDataset(true);
  ExpectUsage(ds, "yes,cat,dog", "cat, dog");
  ExpectUsage(ds, "yes,_background_noise_", "_background_noise_");
  kws::Dataset no_noise = MemoryDataset(false);
  no_noise.noise.clear();
  ExpectUsage(no_noise, "yes,_silence_", "_silence_");
}

TEST(MakeTask, SynthesisedSilenceFromNoise) {
  auto ds = MemoryDataset(false);
  kws::TaskOptions o;
  o.seed = 5;
  auto t = kws::MakeTask(ds, kws::ParseLabelList("yes,no,_silence_"), o);
  auto m = CountsByName(t);
  EXPECT_EQ(m["_silence_"], 6);  // mean of the word classes
  std::set<std::string> keys;
  for (int i = 0; i < t.size(); ++i) {
    if (t.clip[size_t(i)] >= 0) continue;
    const auto& s = t.slices[size_t(i)];
    EXPECT_EQ(s.noise, 0);
    EXPECT_GE(s.offset, 0);
    EXPECT_LE(s.offset, 16000 * 4);
    EXPECT_GE(s.gain, 0.0f);
    EXPECT_LT(s.gain, 1.0f);
    EXPECT_EQ(t.labels[size_t(t.label[size_t(i)])], "_silence_");
    keys.insert(t.keys[size_t(i)]);
  }
  EXPECT_EQ(keys.size(), 6u);
  auto t2 = kws::MakeTask(ds, kws::ParseLabelList("yes,no,_silence_"), o);
  EXPECT_EQ(t.keys, t2.keys);
  o.silence_count = 3;
  EXPECT_EQ(CountsByName(kws::MakeTask(ds, kws::ParseLabelList("yes,no,_silence_"), o))["_silence_"], 3);
}

TEST(MakeTask, UnknownCap) {
  auto ds = MemoryDataset(true);
  kws::TaskOptions o;
  o.unknown_ratio = 0.5;  // mean word class = 6 -> at most 3 unknown
  auto t = kws::MakeTask(ds, kws::ParseLabelList("yes,no,_unknown_"), o);
  EXPECT_EQ(CountsByName(t)["_unknown_"], 3);
  EXPECT_EQ(CountsByName(t)["yes"], 6);
  auto t2 = kws::MakeTask(ds, kws::ParseLabelList("yes,no,_unknown_"), o);
  EXPECT_EQ(t.clip, t2.clip);
}

TEST(MakeTask, OfficialSplitsOfItems) {
  auto ds = MemoryDataset(true);
  auto t = kws::MakeTask(ds, kws::ParseLabelList("yes,no"));
  auto s = kws::OfficialSplits(ds, t);
  ASSERT_EQ(int(s.size()), t.size());
  for (int i = 0; i < t.size(); ++i) EXPECT_EQ(s[size_t(i)], kws::WhichSet(ds.clips[size_t(t.clip[size_t(i)])]));
}
