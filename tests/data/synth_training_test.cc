// [data.synth] plumbing: synthetic items are appended after the real ones, with labels mapped onto
// the real task's order, and go into every run's TRAINING items only (never validation or test).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "data_test_util.h"
#include "model/config.h"
#include "train/cv.h"
#include "util/error.h"
#include "util/fs.h"

namespace {
using kws_test::WriteClip;
namespace fs = std::filesystem;

const std::string kCfg = kws_test::kTinyTrainToml + R"([train.augment]
enabled = true
copies = 1
speed_min = 0.9
speed_max = 1.1
time_masks = 1
[data.synth]
enabled = true
)";

struct Folders {
  fs::path real, synth;
};

// Real: _unknown_ (3 speakers), yes and no (8 speakers x 2 clips), background noise.
// Synth: yes and no (4 voices x 2 clips), _silence_ (2 clips), no _unknown_.
Folders MakeFolders() {
  Folders f{kws_test::TempDir("synthtrain_real"), kws_test::TempDir("synthtrain_synth")};
  int seed = 0;
  for (const char* w : {"yes", "no"})
    for (int s = 0; s < 8; ++s)
      for (int n = 0; n < 2; ++n)
        WriteClip(f.real / w / ("spk" + std::to_string(s) + "_nohash_" + std::to_string(n) + ".wav"), ++seed);
  for (int s = 0; s < 3; ++s)
    WriteClip(f.real / "_unknown_" / ("bed_unk" + std::to_string(s) + "_nohash_0.wav"), ++seed);
  WriteClip(f.real / "_background_noise_" / "noise.wav", ++seed, 48000);
  for (const char* w : {"yes", "no"})
    for (int s = 0; s < 4; ++s)
      for (int n = 0; n < 2; ++n)
        WriteClip(f.synth / w / ("v" + std::to_string(s) + "_nohash_" + std::to_string(n) + ".wav"), 100 + ++seed);
  for (int n = 0; n < 2; ++n) WriteClip(f.synth / "_silence_" / (std::to_string(n) + ".wav"), 200 + ++seed);
  return f;
}

kws::Config Cfg(const Folders& f, const std::string& labels) {
  return kws::ParseConfig(kCfg, "t.toml", {"data.labels=" + labels, "data.synth.dir=" + f.synth.string(),
                                           "data.cache=false"});
}

TEST(SynthTraining, ItemsAppendedWithLabelsInTaskOrder) {
  const Folders f = MakeFolders();
  const kws::Config cfg = Cfg(f, "_unknown_,yes,no");
  kws::PreparedData p = kws::PrepareData(cfg, f.real.string());
  const int real = p.task.size();
  ASSERT_EQ(real, 32 + 3);
  ASSERT_EQ(p.synth_items.size(), 16u);  // the synthetic _silence_ is not a task label here
  EXPECT_EQ(p.features.n, real + 16);
  for (size_t k = 0; k < p.synth_items.size(); ++k) EXPECT_EQ(p.synth_items[k], real + int(k));
  // Synthetic items are sorted by path: no/... (index 2 in the task) then yes/... (index 1).
  for (int k = 0; k < 8; ++k) EXPECT_EQ(p.features.labels[size_t(real + k)], 2) << k;
  for (int k = 8; k < 16; ++k) EXPECT_EQ(p.features.labels[size_t(real + k)], 1) << k;
  ASSERT_TRUE(p.windows);
  EXPECT_EQ(p.windows->n, p.features.n);
  EXPECT_EQ(p.is_silence.size(), size_t(p.features.n));
  EXPECT_EQ(p.windows->labels, p.features.labels);

  kws::TrainData d = p.Data({0, 1, 2}, {3, 4});
  EXPECT_EQ(d.train.size(), 3u + 16u);
  EXPECT_EQ(d.val, std::vector<int>({3, 4}));
  for (int i : p.synth_items) EXPECT_NE(std::find(d.train.begin(), d.train.end(), i), d.train.end());
}

TEST(SynthTraining, CrossValidationTestsAndValidatesOnRealItemsOnly) {
  const Folders f = MakeFolders();
  const kws::Config cfg = Cfg(f, "yes,no");
  kws::PreparedData p = kws::PrepareData(cfg, f.real.string());
  const int real = p.task.size();
  ASSERT_EQ(real, 32);
  const fs::path out = kws_test::TempDir("synthtrain_cv");
  kws::CvOptions co;
  co.folds = 2;
  co.seeds = 1;
  co.out_dir = out.string();
  co.progress = false;
  kws::CvResult r = kws::CrossValidate(cfg, p, co);
  ASSERT_EQ(r.runs.size(), 2u);
  const auto cv = nlohmann::json::parse(kws::ReadFile(out / "cv.json"));
  EXPECT_EQ(cv["synth"]["items"], 16);
  std::set<int> tested;
  for (const auto& fi : cv["fold_splits"]) {
    for (int i : fi["test"].get<std::vector<int>>()) {
      EXPECT_LT(i, real);
      tested.insert(i);
    }
    for (int i : fi["val"].get<std::vector<int>>()) EXPECT_LT(i, real);
    for (int i : fi["train"].get<std::vector<int>>()) EXPECT_LT(i, real);
  }
  EXPECT_EQ(int(tested.size()), real);  // every real item tested once, no synthetic one
  for (int k = 0; k < 2; ++k) {
    const auto& fi = cv["fold_splits"][size_t(k)];
    const auto m = nlohmann::json::parse(kws::ReadFile(out / ("fold" + std::to_string(k) + "_seed0") / "metrics.json"));
    EXPECT_EQ(m["train_items"].get<size_t>(), fi["train"].size() + 16) << "fold " << k;
    EXPECT_EQ(m["val_items"].get<size_t>(), fi["val"].size());
    EXPECT_EQ(r.runs[size_t(k)].test.n, long(fi["test"].size()));
  }
}

TEST(SynthTraining, HoldoutTrainsOnSynthValidatesOnReal) {
  const Folders f = MakeFolders();
  const kws::Config cfg = Cfg(f, "yes,no");
  kws::PreparedData p = kws::PrepareData(cfg, f.real.string());
  const fs::path out = kws_test::TempDir("synthtrain_holdout");
  kws::TrainerOptions to;
  to.out_dir = out.string();
  to.progress = false;
  kws::TrainResult r = kws::TrainHoldout(cfg, p, to);
  const auto split = nlohmann::json::parse(kws::ReadFile(out / "split.json"));
  for (int i : split["val"].get<std::vector<int>>()) EXPECT_LT(i, p.task.size());
  EXPECT_EQ(r.metrics["train_items"].get<size_t>(), split["train"].size() + 16);
}

TEST(SynthTraining, MissingSynthFolderIsBadInput) {
  const Folders f = MakeFolders();
  kws::Config cfg = kws::ParseConfig(kCfg, "t.toml", {"data.labels=yes,no", "data.synth.dir=" + (f.synth / "nope").string()});
  try {
    kws::PrepareData(cfg, f.real.string());
    FAIL();
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
}

TEST(SynthTraining, OptionsForTheConfig) {
  const Folders f = MakeFolders();
  kws::Config cfg = kws::ParseConfig(kCfg, "t.toml",
                                     {"data.labels=yes,no,_unknown_,_silence_", "data.synth.per_word=12",
                                      "data.synth.unknown_words=bed,bird", "data.synth.seed=4"});
  kws::Dataset ds = kws::LoadDataset(f.real.string());
  kws::synth::SynthOptions o = kws::SynthOptionsFor(cfg, ds);
  EXPECT_EQ(o.words, std::vector<std::string>({"yes", "no"}));  // keyword labels only
  EXPECT_EQ(o.per_word, 12);
  EXPECT_EQ(o.seed, 4u);
  EXPECT_EQ(o.unknown_words, std::vector<std::string>({"bed", "bird"}));
  EXPECT_EQ(o.unknown_count, -1);  // as many _unknown_ clips as per_word
  EXPECT_EQ(fs::path(o.background_dir).filename(), "_background_noise_");
  cfg = kws::ParseConfig(kCfg, "t.toml", {"data.labels=yes,no,_unknown_", "data.synth.unknown_words=bed",
                                          "data.synth.unknown=40"});
  EXPECT_EQ(kws::SynthOptionsFor(cfg, ds).unknown_count, 40);
  for (const char* bad : {"data.synth.unknown=0", "data.synth.unknown=-2"}) {
    try {
      kws::ParseConfig(kCfg, "t.toml", {bad});
      ADD_FAILURE() << bad << " was accepted";
    } catch (const kws::Error& e) {
      EXPECT_NE(std::string(e.what()).find("data.synth.unknown"), std::string::npos) << e.what();
    }
  }
  // No _unknown_ label: no unknown words; background off: no folder.
  cfg = kws::ParseConfig(kCfg, "t.toml", {"data.labels=yes,no", "data.synth.unknown_words=bed",
                                          "data.synth.background=false"});
  o = kws::SynthOptionsFor(cfg, ds);
  EXPECT_TRUE(o.unknown_words.empty());
  EXPECT_EQ(o.background_dir, "");
}

TEST(SynthTraining, AugmentBackgroundDirReplacesTheDataFolders) {
  const Folders f = MakeFolders();
  const fs::path noise = kws_test::TempDir("synthtrain_noise");
  WriteClip(noise / "a.wav", 300, 32000);
  WriteClip(noise / "b.wav", 301, 32000);
  // The synthetic folder has no _background_noise_ of its own.
  kws::Config cfg = kws::ParseConfig(kCfg, "t.toml", {"data.labels=yes,no", "data.synth.enabled=false",
                                                      "train.augment.background_dir=" + noise.string()});
  kws::PreparedData p = kws::PrepareData(cfg, f.synth.string());
  ASSERT_TRUE(p.noise);
  ASSERT_EQ(p.noise->size(), 2);
  EXPECT_EQ(p.noise->name(0), "a.wav");
  EXPECT_EQ(p.noise->samples(1).size(), 32000u);
  cfg = kws::ParseConfig(kCfg, "t.toml", {"data.labels=yes,no", "data.synth.enabled=false",
                                          "train.augment.background_dir=" + (noise / "missing").string()});
  try {
    kws::PrepareData(cfg, f.synth.string());
    FAIL();
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("train.augment.background_dir"), std::string::npos) << e.what();
  }
  // Without a data noise folder, [data.synth] mixes the augmentation folder into its clips.
  cfg = kws::ParseConfig(kCfg, "t.toml", {"data.labels=yes,no", "train.augment.background_dir=" + noise.string()});
  kws::Dataset ds = kws::LoadDataset(f.synth.string());
  EXPECT_EQ(kws::SynthOptionsFor(cfg, ds).background_dir, noise.string());
}

}  // namespace
