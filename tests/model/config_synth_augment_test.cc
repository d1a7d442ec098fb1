// [train.augment] speed/pitch/gain/SNR/SpecAugment keys and the [data.synth] table:
// parsing, defaults, --set overrides, round trip and every bad value naming its key.
#include <gtest/gtest.h>

#include <string>

#include "model/config.h"
#include "util/error.h"

namespace kws {
namespace {

const char* kCfg = R"(
[features]
num_mel_bins = 8

[[model.layers]]
type = "conv2d"
filters = 4
kernel = [3, 3]
strides = [2, 2]
[[model.layers]]
type = "global_average_pool"
[[model.layers]]
type = "dense"

[train.augment]
enabled = true
speed_min = 0.9
speed_max = 1.1
pitch_min = 0.95
pitch_max = 1.05
gain_db = 6.0
background_mode = "snr"
snr_min_db = 0.0
snr_max_db = 15.0
time_masks = 2
time_mask_frames = 8
freq_masks = 1
freq_mask_bins = 2

[data]
labels = ["yes", "no"]

[data.synth]
enabled = true
per_word = 40
seed = 7
engines = ["espeak-ng", "flite"]
)";

template <class F>
void ExpectUsage(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(int(e.kind()), int(ErrorKind::kUsage)) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

TEST(ConfigAugment, ParsesTheStrongerAugmentation) {
  Config c = ParseConfig(kCfg, "c.toml");
  const AugmentOptions& a = c.train.augment_options;
  EXPECT_TRUE(c.train.augment);
  EXPECT_DOUBLE_EQ(a.speed_min, 0.9);
  EXPECT_DOUBLE_EQ(a.speed_max, 1.1);
  EXPECT_DOUBLE_EQ(a.pitch_min, 0.95);
  EXPECT_DOUBLE_EQ(a.pitch_max, 1.05);
  EXPECT_DOUBLE_EQ(a.gain_db, 6.0);
  EXPECT_EQ(a.background_mode, "snr");
  EXPECT_DOUBLE_EQ(a.snr_min_db, 0.0);
  EXPECT_DOUBLE_EQ(a.snr_max_db, 15.0);
  EXPECT_EQ(a.time_masks, 2);
  EXPECT_EQ(a.time_mask_frames, 8);
  EXPECT_EQ(a.freq_masks, 1);
  EXPECT_EQ(a.freq_mask_bins, 2);
  EXPECT_TRUE(a.Resamples());
  EXPECT_TRUE(a.TouchesFeatures());
}

TEST(ConfigAugment, DefaultsAreOff) {
  Config c = ParseConfig("[[model.layers]]\ntype = \"dense\"\n", "d.toml");
  const AugmentOptions& a = c.train.augment_options;
  EXPECT_FALSE(a.Resamples());
  EXPECT_FALSE(a.TouchesFeatures());
  EXPECT_EQ(a.gain_db, 0.0);
  EXPECT_EQ(a.background_mode, "volume");
  EXPECT_FALSE(c.data.synth.enabled);
  EXPECT_TRUE(c.data.synth.words.empty());
  EXPECT_EQ(c.data.synth.per_word, 1500);
  EXPECT_TRUE(c.data.synth.background);
  EXPECT_EQ(c.data.synth.silence, -1);
  EXPECT_EQ(c.data.synth.dir, "");
  EXPECT_EQ(c.train.augment_background_dir, "");
  Config d = ParseConfig("[[model.layers]]\ntype = \"dense\"\n[train.augment]\nbackground_dir = \"/n\"\n", "d.toml");
  EXPECT_EQ(d.train.augment_background_dir, "/n");
}

TEST(ConfigSynth, ParsesAndOverrides) {
  Config c = ParseConfig(kCfg, "c.toml",
                         {"data.synth.per_word=55", "data.synth.words=yes", "data.synth.unknown_words=bed,cat",
                          "data.synth.background=false", "data.synth.dir=/tmp/x"});
  const SynthDataOptions& s = c.data.synth;
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.per_word, 55);
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.words, std::vector<std::string>({"yes"}));
  EXPECT_EQ(s.unknown_words, std::vector<std::string>({"bed", "cat"}));
  EXPECT_EQ(s.engines, std::vector<std::string>({"espeak-ng", "flite"}));
  EXPECT_FALSE(s.background);
  EXPECT_EQ(s.dir, "/tmp/x");
}

TEST(ConfigSynth, ResolvedTomlRoundTrips) {
  Config a = ParseConfig(kCfg, "c.toml", {"data.synth.words=yes,no"});
  Config b = ParseConfig(a.ToToml(), "resolved.toml");
  EXPECT_EQ(a.table, b.table);
  EXPECT_EQ(b.data.synth.words, std::vector<std::string>({"yes", "no"}));
  EXPECT_EQ(b.train.augment_options.background_mode, "snr");
  // A checkpoint's table from before these keys existed still loads (defaults fill in).
  nlohmann::json old = a.table;
  old["train"]["augment"].erase("speed_min");
  old["data"].erase("synth");
  Config c = ConfigFromJson(old, "old.ckpt");
  EXPECT_DOUBLE_EQ(c.train.augment_options.speed_min, 1.0);
  EXPECT_FALSE(c.data.synth.enabled);
}

TEST(ConfigSynth, BadValuesNameTheSetting) {
  struct Case {
    std::string set, needle;
  };
  const Case cases[] = {
      {"train.augment.speed_min=0.2", "train.augment.speed_min: must be in [0.5, 2]"},
      {"train.augment.speed_max=0.8", "train.augment.speed_max: must be in [0.9, 2]"},
      {"train.augment.pitch_max=2.5", "train.augment.pitch_max"},
      {"train.augment.gain_db=-3", "train.augment.gain_db: must be in [0, 40]"},
      {"train.augment.background_mode=loud", "train.augment.background_mode: must be \"volume\" or \"snr\""},
      {"train.augment.snr_max_db=-5", "train.augment.snr_max_db"},
      {"train.augment.time_masks=-1", "train.augment.time_masks"},
      {"train.augment.time_mask_frames=0", "train.augment.time_mask_frames"},
      {"train.augment.freq_masks=50", "train.augment.freq_masks"},
      {"train.augment.freq_mask_bins=0", "train.augment.freq_mask_bins"},
      {"data.synth.per_word=0", "data.synth.per_word: must be in [1, 100000]"},
      {"data.synth.seed=-2", "data.synth.seed: must be >= 0"},
      {"data.synth.speakers=-1", "data.synth.speakers: must be >= 0"},
      {"data.synth.silence=-3", "data.synth.silence"},
      {"data.synth.engines=espeak-ng,sam", "data.synth.engines: unknown engine 'sam'"},
      {"data.synth.words=up", "data.synth.words: 'up' is not one of data.labels"},
      {"data.synth.words=_silence_", "data.synth.words: '_silence_' is not a word to speak"},
      {"data.synth.words=y3s", "data.synth.words: word 'y3s'"},
      {"data.synth.unknown_words=b@d", "data.synth.unknown_words: word 'b@d'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.set);
    ExpectUsage([&] { ParseConfig(kCfg, "c.toml", {c.set}); }, c.needle);
  }
  // Wrong types in the file name the key too.
  ExpectUsage([] { ParseConfig("[data.synth]\nper_word = \"many\"\n", "f.toml"); }, "data.synth.per_word");
  ExpectUsage([] { ParseConfig("[data.synth]\nvoices = 3\n", "f.toml"); }, "data.synth.voices: unknown setting");
  ExpectUsage([] { ParseConfig("[train.augment]\ntime_masks = 1.5\n", "f.toml"); }, "train.augment.time_masks");
}

TEST(ConfigSynth, ShippedYesNoRecipe) {
  Config c = LoadConfig(std::string(KWS_SOURCE_DIR) + "/configs/yesno.toml");
  EXPECT_TRUE(c.data.synth.enabled);
  EXPECT_EQ(c.data.labels, std::vector<std::string>({"yes", "no"}));
  EXPECT_TRUE(c.train.augment);
  EXPECT_TRUE(c.prune.enabled);
}

}  // namespace
}  // namespace kws
