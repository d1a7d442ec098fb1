// [data.synth] end to end: the config makes PrepareData synthesize (espeak-ng; skipped without it),
// cache the folder by its settings, reuse it on the next call, and add the clips as training items.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <cmath>
#include <fstream>

#include "audio/audio.h"
#include "model/config.h"
#include "synth/synth.h"
#include "train/cv.h"
#include "util/error.h"
#include "util/fs.h"

namespace fs = std::filesystem;

namespace {

struct TmpDir {
  fs::path path;
  TmpDir() {
    std::string t = (fs::temp_directory_path() / "kws-synthcfg-test-XXXXXX").string();
    path = mkdtemp(t.data());
  }
  ~TmpDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Sets an environment variable for the scope of a test.
struct ScopedEnv {
  std::string name, old;
  bool had = false;
  ScopedEnv(const char* n, const std::string& v) : name(n) {
    if (const char* o = getenv(n)) had = true, old = o;
    setenv(n, v.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had) setenv(name.c_str(), old.c_str(), 1);
    else unsetenv(name.c_str());
  }
};

const char* kCfg = R"(
[features]
num_mel_bins = 8
[[model.layers]]
type = "conv2d"
filters = 2
kernel = [3, 3]
strides = [2, 2]
[[model.layers]]
type = "global_average_pool"
[[model.layers]]
type = "dense"
[train]
epochs = 1
validation = 0.0
[data]
labels = ["yes", "no"]
[data.synth]
enabled = true
per_word = 3
speakers = 2
engines = ["espeak-ng"]
)";

// A real folder: yes/no tones from 3 speakers.
void MakeReal(const fs::path& root) {
  int k = 0;
  for (const char* w : {"yes", "no"})
    for (int s = 0; s < 3; ++s) {
      std::vector<float> x(16000);
      for (size_t i = 0; i < x.size(); ++i) x[i] = 0.2f * float(std::sin(0.01 * double(i) * (1 + ++k % 7)));
      fs::create_directories(root / w);
      kws::WriteWav16((root / w / ("s" + std::to_string(s) + "_nohash_0.wav")).string(), x, 16000);
    }
}

TEST(SynthConfig, GeneratesCachesAndAddsTrainingItems) {
  if (kws::synth::FindProgram("espeak-ng").empty()) GTEST_SKIP() << "espeak-ng not installed (./setup.sh)";
  TmpDir tmp;
  ScopedEnv env("KWS_CACHE_DIR", (tmp.path / "cache").string());
  MakeReal(tmp.path / "real");
  const kws::Config cfg = kws::ParseConfig(kCfg, "t.toml");
  kws::PreparedData p = kws::PrepareData(cfg, (tmp.path / "real").string());
  ASSERT_FALSE(p.synth_dir.empty());
  EXPECT_EQ(fs::path(p.synth_dir).parent_path(), tmp.path / "cache" / "synth");
  EXPECT_TRUE(fs::exists(fs::path(p.synth_dir) / "synth.json"));
  EXPECT_EQ(p.task.size(), 6);
  ASSERT_EQ(p.synth_items.size(), 6u);  // 3 per word; the synthetic _silence_ is not a label here
  EXPECT_EQ(p.features.n, 12);
  int yes = 0;
  for (int i : p.synth_items) yes += p.features.labels[size_t(i)] == 0;
  EXPECT_EQ(yes, 3);
  // Same settings: the cached folder is reused as is.
  const auto stamp = fs::last_write_time(fs::path(p.synth_dir) / "synth.json");
  kws::PreparedData q = kws::PrepareData(cfg, (tmp.path / "real").string());
  EXPECT_EQ(q.synth_dir, p.synth_dir);
  EXPECT_EQ(fs::last_write_time(fs::path(q.synth_dir) / "synth.json"), stamp);
  // Other settings: another folder.
  const kws::Config cfg2 = kws::ParseConfig(kCfg, "t.toml", {"data.synth.seed=2"});
  kws::PreparedData r = kws::PrepareData(cfg2, (tmp.path / "real").string());
  EXPECT_NE(r.synth_dir, p.synth_dir);
  EXPECT_EQ(r.synth_items.size(), 6u);
  // The holdout trains on real + synthetic items.
  kws::TrainerOptions to;
  to.progress = false;
  kws::TrainResult tr = kws::TrainHoldout(cfg, p, to);
  EXPECT_EQ(tr.metrics["train_items"].get<int>(), 12);
}

TEST(SynthConfig, MissingEngineIsBadInput) {
  TmpDir tmp;
  ScopedEnv env("KWS_CACHE_DIR", (tmp.path / "cache").string());
  ScopedEnv path("PATH", (tmp.path / "nobin").string());  // no TTS program findable
  MakeReal(tmp.path / "real");
  const kws::Config cfg = kws::ParseConfig(kCfg, "t.toml");
  try {
    kws::PrepareData(cfg, (tmp.path / "real").string());
    FAIL() << "no error without espeak-ng";
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find("espeak-ng"), std::string::npos) << e.what();
  }
}

}  // namespace
