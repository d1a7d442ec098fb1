// Replays the committed fuzz seeds and findings (fuzz/corpus/{config,wav,json}) through the
// fuzzers' own bodies (fuzz/targets.h) in the normal build, so every test run exercises them
// without clang or libFuzzer; a crash or an escaping non-kws exception fails the test. A few seeds
// also get their expected outcome checked, so the replay cannot pass by rejecting everything.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "../../fuzz/targets.h"
#include "audio/audio.h"
#include "model/config.h"
#include "tflite/metadata.h"
#include "util/fs.h"
#include "util/log.h"

namespace fs = std::filesystem;

namespace {

const bool kQuietLogs = (kws::SetVerbosity(kws::Verbosity::kQuiet), true);

int Replay(const std::string& corpus, void (*target)(const uint8_t*, size_t)) {
  const fs::path dir = fs::path(KWS_SOURCE_DIR) / "fuzz" / "corpus" / corpus;
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    SCOPED_TRACE(e.path().string());
    const std::string bytes = kws::ReadFile(e.path());
    target(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++n;
  }
  return n;
}

std::string Seed(const std::string& rel) { return (fs::path(KWS_SOURCE_DIR) / "fuzz" / "corpus" / rel).string(); }

}  // namespace

TEST(FuzzSeeds, ConfigCorpusReplays) {
  EXPECT_GE(Replay("config", kws::fuzz::FuzzConfigReader), 4);
  EXPECT_EQ(kws::LoadConfig(Seed("config/seed.toml")).train.epochs, 80);
}

TEST(FuzzSeeds, WavCorpusReplays) {
  EXPECT_GE(Replay("wav", kws::fuzz::FuzzWavStream), 10);
  for (const char* f : {"wav/unknown_len_0.wav", "wav/unknown_len_80000000.wav", "wav/unknown_len_ffffffff.wav"})
    EXPECT_EQ(kws::ReadAudio(Seed(f), 0).samples.size(), 800u) << f;
  EXPECT_THROW(kws::ReadAudio(Seed("wav/truncated_data.wav"), 0), kws::Error);
}

TEST(FuzzSeeds, JsonCorpusReplays) {
  EXPECT_GE(Replay("json", kws::fuzz::FuzzMetadataJson), 4);
  const auto md = kws::tfl::KwsMetadataFromJson(kws::ReadFile(Seed("json/metadata.json")), "metadata.json");
  EXPECT_EQ(md.labels.size(), 4u);
}
