#include "data/feature_cache.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "audio/audio.h"
#include "data_test_util.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/parallel.h"

namespace fs = std::filesystem;
using kws_test::TempDir;
using kws_test::WriteClip;

namespace {
// No progress lines in test logs.
const bool kQuietLogs = (kws::SetVerbosity(kws::Verbosity::kQuiet), true);

fs::path MakeTree(const std::string& name, bool silence_folder) {
  fs::path r = TempDir(name);
  for (int i = 0; i < 5; ++i) WriteClip(r / "yes" / ("s" + std::to_string(i) + "_nohash_0.wav"), i, 16000);
  for (int i = 0; i < 4; ++i) WriteClip(r / "no" / ("s" + std::to_string(i) + "_nohash_0.wav"), 10 + i, 12000);  // short
  WriteClip(r / "_unknown_/bed_s9_nohash_0.wav", 20, 20000);  // long
  if (silence_folder) WriteClip(r / "_silence_/0.wav", 21);
  WriteClip(r / "_background_noise_/n.wav", 22, 3 * 16000);
  return r;
}

kws::CacheOptions CacheIn(const fs::path& d) {
  kws::CacheOptions c;
  c.dir = d.string();
  return c;
}
}  // namespace

TEST(ExtractFeatures, MatchesExtractorAndShape) {
  fs::path r = MakeTree("fx_shape", true);
  auto ds = kws::LoadDataset(r.string());
  auto task = kws::MakeTask(ds, kws::ParseLabelList("yes,no,_silence_,_unknown_"));
  kws::FeatureOptions fo;
  kws::CacheOptions off;
  off.enabled = false;
  kws::ExtractStats st;
  auto f = kws::ExtractFeatures(ds, task, fo, off, &st);
  EXPECT_EQ(st.computed, task.size());
  EXPECT_EQ(st.cache_file, "");
  ASSERT_EQ(f.n, task.size());
  EXPECT_EQ(f.frames, 97);
  EXPECT_EQ(f.bins, 20);
  EXPECT_EQ(f.data.size(), size_t(f.n) * 97 * 20);
  EXPECT_EQ(f.labels, task.label);
  kws::FeatureExtractor fx(fo);
  for (int i = 0; i < f.n; ++i) {
    auto a = kws::ReadAudio(ds.clips[size_t(task.clip[size_t(i)])].path, 16000).samples;
    a.resize(16000, 0.0f);  // first window, zero padded
    auto m = fx.Compute(a.data(), 16000);
    ASSERT_EQ(m.data.size(), size_t(97 * 20));
    for (size_t k = 0; k < m.data.size(); ++k) ASSERT_EQ(f.item(i)[k], m.data[k]) << "item " << i;
  }
}

TEST(ExtractFeatures, SecondRunReadsTheCache) {
  fs::path r = MakeTree("fx_cache", true);
  fs::path cache = TempDir("fx_cache_dir");
  auto ds = kws::LoadDataset(r.string());
  auto task = kws::MakeTask(ds, kws::ParseLabelList("yes,no,_silence_,_unknown_"));
  kws::FeatureOptions fo;
  kws::ExtractStats s1, s2;
  auto f1 = kws::ExtractFeatures(ds, task, fo, CacheIn(cache), &s1);
  EXPECT_EQ(s1.computed, task.size());
  EXPECT_EQ(s1.cached, 0);
  EXPECT_TRUE(s1.cache_written);
  ASSERT_TRUE(fs::exists(s1.cache_file));
  EXPECT_EQ(s1.cache_file.rfind(cache.string(), 0), 0u);
  auto f2 = kws::ExtractFeatures(ds, task, fo, CacheIn(cache), &s2);
  EXPECT_EQ(s2.computed, 0);
  EXPECT_EQ(s2.cached, task.size());
  EXPECT_FALSE(s2.cache_written);
  EXPECT_EQ(f1.data, f2.data);

  // Other options: another cache file, everything recomputed.
  kws::FeatureOptions fo10 = fo;
  fo10.num_mel_bins = 10;
  kws::ExtractStats s3;
  auto f3 = kws::ExtractFeatures(ds, task, fo10, CacheIn(cache), &s3);
  EXPECT_EQ(s3.computed, task.size());
  EXPECT_NE(s3.cache_file, s1.cache_file);
  EXPECT_EQ(f3.bins, 10);

  // A new clip: only it is computed.
  WriteClip(r / "yes/new1_nohash_0.wav", 40);
  auto ds2 = kws::LoadDataset(r.string());
  auto task2 = kws::MakeTask(ds2, kws::ParseLabelList("yes,no,_silence_,_unknown_"));
  kws::ExtractStats s4;
  kws::ExtractFeatures(ds2, task2, fo, CacheIn(cache), &s4);
  EXPECT_EQ(s4.computed, 1);
  EXPECT_EQ(s4.cached, task.size());
}

// The cache keys on content: a moved folder, and the same clips inside a merge of two folders,
// are not recomputed; a second dataset's rows do not evict the first's.
TEST(ExtractFeatures, MovedAndMergedFoldersHitTheCache) {
  fs::path r = MakeTree("fx_move", true);
  fs::path cache = TempDir("fx_move_dir");
  const auto labels = kws::ParseLabelList("yes,no,_silence_,_unknown_");
  auto ds = kws::LoadDataset(r.string());
  auto task = kws::MakeTask(ds, labels);
  kws::ExtractStats s1, s2, s3, s4;
  auto f1 = kws::ExtractFeatures(ds, task, kws::FeatureOptions{}, CacheIn(cache), &s1);
  EXPECT_EQ(s1.computed, task.size());

  fs::path moved = TempDir("fx_move_elsewhere") / "renamed";
  fs::rename(r, moved);
  auto ds2 = kws::LoadDataset(moved.string());
  auto task2 = kws::MakeTask(ds2, labels);
  auto f2 = kws::ExtractFeatures(ds2, task2, kws::FeatureOptions{}, CacheIn(cache), &s2);
  EXPECT_EQ(s2.computed, 0);
  EXPECT_EQ(s2.cached, task.size());
  EXPECT_EQ(f1.data, f2.data);

  // Another dataset adds its rows; then the first and the merge of both are still all cached.
  fs::path other = TempDir("fx_move_other");
  WriteClip(other / "yes/zz00_nohash_0.wav", 77);
  WriteClip(other / "no/zz00_nohash_0.wav", 78);
  auto ds3 = kws::LoadDataset(other.string());
  kws::ExtractFeatures(ds3, kws::MakeTask(ds3, kws::ParseLabelList("yes,no")), kws::FeatureOptions{}, CacheIn(cache), &s3);
  EXPECT_EQ(s3.computed, 2);
  auto both = kws::LoadDataset(std::vector<std::string>{moved.string(), other.string()});
  auto task4 = kws::MakeTask(both, kws::ParseLabelList("yes,no"));
  kws::ExtractFeatures(both, task4, kws::FeatureOptions{}, CacheIn(cache), &s4);
  EXPECT_EQ(s4.computed, 0);
  EXPECT_EQ(s4.cached, task4.size());
  fs::rename(moved, r);  // TempDir cleans up its own folder
}

// Proves the rows really come from the file: a value changed in the blob (with
// a valid checksum) shows up in the result.
TEST(ExtractFeatures, CachedRowsComeFromTheFile) {
  fs::path r = MakeTree("fx_tamper", true);
  fs::path cache = TempDir("fx_tamper_dir");
  auto ds = kws::LoadDataset(r.string());
  auto task = kws::MakeTask(ds, kws::ParseLabelList("yes,no"));
  kws::ExtractStats s1;
  auto f1 = kws::ExtractFeatures(ds, task, kws::FeatureOptions{}, CacheIn(cache), &s1);
  std::string bytes = kws::ReadFile(s1.cache_file);
  const size_t row_bytes = size_t(f1.frames) * size_t(f1.bins) * sizeof(float);
  const size_t data_start = bytes.size() - 64 - size_t(f1.n) * row_bytes;  // rows in item order
  const float marker = 123.25f;
  std::memcpy(&bytes[data_start + row_bytes * 2 + 4 * 7], &marker, 4);  // item 2, value 7
  bytes = bytes.substr(0, bytes.size() - 64) + kws::Sha256Hex(std::string_view(bytes.data(), bytes.size() - 64));
  kws_test::WriteBytes(s1.cache_file, bytes);
  kws::ExtractStats s2;
  auto f2 = kws::ExtractFeatures(ds, task, kws::FeatureOptions{}, CacheIn(cache), &s2);
  EXPECT_EQ(s2.cached, task.size());
  EXPECT_EQ(f2.item(2)[7], marker);
  EXPECT_NE(f1.item(2)[7], marker);
  EXPECT_EQ(f2.item(2)[8], f1.item(2)[8]);
}

TEST(ExtractFeatures, CorruptCacheIsRecomputed) {
  fs::path r = MakeTree("fx_corrupt", true);
  fs::path cache = TempDir("fx_corrupt_dir");
  auto ds = kws::LoadDataset(r.string());
  auto task = kws::MakeTask(ds, kws::ParseLabelList("yes,no"));
  kws::FeatureOptions fo;
  kws::ExtractStats s1;
  auto f1 = kws::ExtractFeatures(ds, task, fo, CacheIn(cache), &s1);
  // Flip one feature byte in the middle of the file.
  std::string bytes = kws::ReadFile(s1.cache_file);
  bytes[bytes.size() / 2] ^= 0x5A;
  kws_test::WriteBytes(s1.cache_file, bytes);
  kws::ExtractStats s2;
  auto f2 = kws::ExtractFeatures(ds, task, fo, CacheIn(cache), &s2);
  EXPECT_EQ(s2.computed, task.size());
  EXPECT_EQ(s2.cached, 0);
  EXPECT_NE(s2.cache_note.find("checksum"), std::string::npos) << s2.cache_note;
  EXPECT_EQ(f1.data, f2.data);
  // It was rewritten and is good again.
  kws::ExtractStats s3;
  kws::ExtractFeatures(ds, task, fo, CacheIn(cache), &s3);
  EXPECT_EQ(s3.cached, task.size());
  // Truncated file.
  kws_test::WriteBytes(s1.cache_file, bytes.substr(0, 100));
  kws::ExtractStats s4;
  kws::ExtractFeatures(ds, task, fo, CacheIn(cache), &s4);
  EXPECT_EQ(s4.computed, task.size());
  // Garbage.
  kws_test::WriteBytes(s1.cache_file, "hello");
  kws::ExtractStats s5;
  kws::ExtractFeatures(ds, task, fo, CacheIn(cache), &s5);
  EXPECT_EQ(s5.computed, task.size());
}

TEST(ExtractFeatures, CacheDirFromEnvironment) {
  fs::path r = MakeTree("fx_env", true);
  fs::path cache = TempDir("fx_env_dir");
  ::setenv("KWS_CACHE_DIR", cache.c_str(), 1);
  EXPECT_EQ(kws::ResolveCacheDir(), cache.string());
  EXPECT_EQ(kws::ResolveCacheDir("/explicit"), "/explicit");
  auto ds = kws::LoadDataset(r.string());
  auto task = kws::MakeTask(ds, kws::ParseLabelList("yes"));
  kws::ExtractStats st;
  kws::ExtractFeatures(ds, task, kws::FeatureOptions{}, {}, &st);
  ::unsetenv("KWS_CACHE_DIR");
  EXPECT_EQ(st.cache_file.rfind(cache.string(), 0), 0u) << st.cache_file;
  ::setenv("XDG_CACHE_HOME", "/tmp/xdg_kws_test", 1);
  EXPECT_EQ(kws::ResolveCacheDir(), "/tmp/xdg_kws_test/kws");
  ::unsetenv("XDG_CACHE_HOME");
}

TEST(ExtractFeatures, SameResultOnOneOrTwoThreadsAndSynthSilence) {
  fs::path r = MakeTree("fx_threads", false);
  auto ds = kws::LoadDataset(r.string());
  kws::TaskOptions to;
  to.silence_count = 4;
  auto task = kws::MakeTask(ds, kws::ParseLabelList("yes,no,_silence_"), to);
  int synth = 0;
  for (int c : task.clip) synth += c < 0;
  EXPECT_EQ(synth, 4);
  kws::CacheOptions off;
  off.enabled = false;
  kws::SetNumThreads(1);
  auto a = kws::ExtractFeatures(ds, task, kws::FeatureOptions{}, off);
  kws::SetNumThreads(2);
  auto b = kws::ExtractFeatures(ds, task, kws::FeatureOptions{}, off);
  kws::SetNumThreads(0);
  EXPECT_EQ(a.data, b.data);
  // Synthesised silence rows equal the noise slice at its gain.
  auto noise = kws::ReadAudio(ds.noise[0].path, 16000).samples;
  for (int i = 0; i < task.size(); ++i) {
    if (task.clip[size_t(i)] >= 0) continue;
    auto w = kws::LoadItemWindow(ds, task, i, 16000, 16000);
    const auto& sl = task.slices[size_t(i)];
    for (int k = 0; k < 16000; k += 997) EXPECT_FLOAT_EQ(w[size_t(k)], noise[size_t(sl.offset + k)] * sl.gain);
  }
  auto wins = kws::LoadWindows(ds, task, 16000, 16000);
  EXPECT_EQ(wins.n, task.size());
  // Short clips are zero padded, long ones cut to the first window.
  for (int i = 0; i < task.size(); ++i) {
    const int c = task.clip[size_t(i)];
    if (c < 0) continue;
    auto a = kws::ReadAudio(ds.clips[size_t(c)].path, 16000).samples;
    for (int k = 0; k < 16000; k += 101)
      ASSERT_EQ(wins.item(i)[k], k < int(a.size()) ? a[size_t(k)] : 0.0f) << ds.clips[size_t(c)].rel << " " << k;
    if (ds.clips[size_t(c)].label == "no") EXPECT_EQ(wins.item(i)[15999], 0.0f);
  }
  auto w0 = kws::LoadItemWindow(ds, task, 0, 16000, 16000);
  for (int k = 0; k < 16000; ++k) ASSERT_EQ(wins.item(0)[k], w0[size_t(k)]);
}
