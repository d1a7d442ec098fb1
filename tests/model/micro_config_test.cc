// [features] frontend = "micro" in a config: the resolved table, --set overrides, rejected tf.signal
// keys, and existing configs resolving exactly as before.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "model/config.h"
#include "util/error.h"

namespace kws {
namespace {

const std::string kLayers = R"(
[[model.layers]]
type = "conv2d"
filters = 4
kernel = [3, 3]
strides = [2, 2]
padding = "same"
use_bias = false
[[model.layers]]
type = "global_average_pool"
[[model.layers]]
type = "dense"
[[model.layers]]
type = "softmax"
[data]
labels = ["yes", "no"]
)";

std::string Src(const std::string& rel) { return (std::filesystem::path(KWS_SOURCE_DIR) / rel).string(); }

void ExpectUsage(const std::string& text, const std::string& what, const std::vector<std::string>& sets = {}) {
  try {
    ParseConfig(text, "t.toml", sets);
    FAIL() << "no error (expected one naming " << what << ")";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUsage) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(MicroConfig, ResolvesWithMicroSpeechDefaults) {
  const Config c = ParseConfig("[features]\nfrontend = \"micro\"\n" + kLayers, "t.toml");
  ASSERT_TRUE(c.features.is_micro());
  EXPECT_EQ(c.features.micro.window.size_ms, 30);
  EXPECT_EQ(c.features.micro.window.step_ms, 20);
  EXPECT_EQ(c.features.micro.filterbank.num_channels, 40);
  EXPECT_TRUE(c.features.micro.pcan.enabled);
  // The resolved table holds the micro settings and no tf.signal keys; it reads back the same.
  const auto& ft = c.table["features"];
  EXPECT_EQ(ft["frontend"], "micro");
  EXPECT_FALSE(ft.contains("num_mel_bins"));
  EXPECT_EQ(ft["micro"]["num_channels"], 40);
  const Config back = ParseConfig(c.ToToml(), "resolved.toml");
  EXPECT_EQ(back.features.Key(), c.features.Key());
  EXPECT_EQ(back.table, c.table);
}

TEST(MicroConfig, TableAndSetOverrides) {
  const Config c = ParseConfig("[features]\nfrontend = \"micro\"\n[features.micro]\nstep_ms = 10\npcan = false\n" + kLayers,
                               "t.toml", {"features.micro.num_channels=32", "features.micro.lower_hz=100"});
  EXPECT_EQ(c.features.micro.window.step_ms, 10);
  EXPECT_FALSE(c.features.micro.pcan.enabled);
  EXPECT_EQ(c.features.micro.filterbank.num_channels, 32);
  EXPECT_EQ(c.features.micro.filterbank.lower_hz, 100.0f);
  EXPECT_EQ(c.features.num_frames(c.features.window_samples()), 98);
}

TEST(MicroConfig, RejectsMixedAndBadSettings) {
  ExpectUsage("[features]\nfrontend = \"micro\"\nnum_mel_bins = 40\n" + kLayers, "features.num_mel_bins");
  ExpectUsage("[features]\n[features.micro]\nwindow_ms = 30\n" + kLayers, "features.micro");
  ExpectUsage("[features]\nfrontend = \"micro\"\n[features.micro]\nwindow = 30\n" + kLayers, "features.micro.window");
  ExpectUsage("[features]\nfrontend = \"micro\"\n[features.micro]\npcan = 1\n" + kLayers, "pcan");
  ExpectUsage("[features]\nfrontend = \"micro\"\n" + kLayers, "num_mel_bins", {"features.num_mel_bins=40"});
  ExpectUsage("[features]\nfrontend = \"micro\"\n[features.micro]\nstep_ms = 50\n" + kLayers, "step_ms");
  ExpectUsage("[features]\nfrontend = 3\n" + kLayers, "features.frontend");
}

TEST(MicroConfig, ExistingConfigsResolveAsBefore) {
  // No frontend key is added to a tf.signal config's resolved table (checkpoints store it).
  for (const char* f : {"configs/seed.toml", "configs/yesno.toml", "configs/stream.toml", "configs/baseline.toml"}) {
    const Config c = LoadConfig(Src(f));
    EXPECT_FALSE(c.features.is_micro()) << f;
    EXPECT_FALSE(c.table["features"].contains("frontend")) << f;
    EXPECT_FALSE(c.table["features"].contains("micro")) << f;
    EXPECT_EQ(c.ToToml().find("frontend"), std::string::npos) << f;
  }
  // The micro variants: 49 x 40 inputs, everything else as their tf.signal originals.
  for (auto [micro, tf] : {std::pair{"configs/yesno_micro.toml", "configs/yesno.toml"},
                           std::pair{"configs/stream_micro.toml", "configs/stream.toml"}}) {
    const Config m = LoadConfig(Src(micro)), t = LoadConfig(Src(tf));
    EXPECT_TRUE(m.features.is_micro()) << micro;
    EXPECT_EQ(m.features.num_frames(m.features.window_samples()), 49) << micro;
    EXPECT_EQ(m.features.num_features(), 40) << micro;
    EXPECT_EQ(m.table["model"], t.table["model"]) << micro;
    EXPECT_EQ(m.table["data"], t.table["data"]) << micro;
    EXPECT_EQ(m.table["prune"], t.table["prune"]) << micro;
    nlohmann::json mt = m.table["train"], tt = t.table["train"];
    mt["augment"].erase("time_mask_frames");
    mt["augment"].erase("freq_mask_bins");
    tt["augment"].erase("time_mask_frames");
    tt["augment"].erase("freq_mask_bins");
    EXPECT_EQ(mt, tt) << micro;
  }
}

}  // namespace
}  // namespace kws
